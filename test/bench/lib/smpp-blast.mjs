// Child process for benchmarks: binds as a transmitter and pushes N submit_sm through a window as
// fast as the peer acks them, with hand-built PDUs so the sender costs next to nothing.
// argv: port count window ; prints one JSON line {acked, failed, ms} and exits.
import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

const [port, count, window] = process.argv.slice(2).map(Number);

function pdu(commandId, seq, body) {
  const b = Buffer.alloc(16 + body.length);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(commandId, 4);
  b.writeUInt32BE(seq, 12);
  body.copy(b, 16);
  return b;
}
const z = Buffer.from([0]);
const cstr = (s) => Buffer.concat([Buffer.from(s, 'latin1'), z]);
const bind = pdu(
  0x02,
  1,
  Buffer.concat([cstr('blast'), cstr('blast'), cstr(''), Buffer.from([0x34, 0, 0]), z]),
);
const text = Buffer.from('Benchmark message 12345');
const submitBody = Buffer.concat([
  cstr(''),
  Buffer.from([1, 1]),
  cstr('12345'),
  Buffer.from([1, 1]),
  cstr('447700900001'),
  Buffer.from([0, 0, 0]),
  cstr(''),
  cstr(''),
  Buffer.from([0, 0, 0, 0, text.length]),
  text,
]);
const template = pdu(0x04, 0, submitBody);

const socket = connect({ host: '127.0.0.1', port });
let sent = 0;
let acked = 0;
let failed = 0;
let t0 = 0;
let pending = Buffer.alloc(0);
const more = () => {
  const batch = [];
  while (sent < count && sent - acked - failed < window) {
    const b = Buffer.from(template);
    b.writeUInt32BE(2 + sent++, 12);
    batch.push(b);
  }
  if (batch.length) socket.write(Buffer.concat(batch));
};
socket.on('connect', () => socket.write(bind));
socket.on('error', (err) => {
  console.log(JSON.stringify({ error: err.message }));
  process.exit(1);
});
socket.on('data', (d) => {
  pending = pending.length ? Buffer.concat([pending, d]) : d;
  let off = 0;
  while (pending.length - off >= 16 && pending.length - off >= pending.readUInt32BE(off)) {
    const len = pending.readUInt32BE(off);
    const id = pending.readUInt32BE(off + 4);
    const status = pending.readUInt32BE(off + 8);
    off += len;
    if (id === 0x80000002) {
      if (status !== 0) {
        console.log(JSON.stringify({ error: `bind failed: ${status}` }));
        process.exit(1);
      }
      t0 = performance.now();
      continue;
    }
    if (id !== 0x80000004) continue;
    if (status === 0) acked++;
    else failed++;
  }
  pending = pending.subarray(off);
  if (acked + failed >= count) {
    console.log(JSON.stringify({ acked, failed, ms: performance.now() - t0 }));
    socket.destroy();
    process.exit(0);
  }
  more();
});
