// submit_sm round trips per second through our ClientSession, beside the bare `smpp` package
// doing the same with the same window, against one in-process ack-only server, in one run.
//   node --import ./test/bench/smpp-session-loader.ts test/bench/smpp-session.ts [messages] [windows]
// e.g. node --import ./test/bench/smpp-session-loader.ts test/bench/smpp-session.ts 50000 10,100
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import smpp from 'smpp';
import type { PDU } from 'smpp';
import { createLogger } from '../../src/log.js';
import { ClientSession } from '../../src/smpp/client-session.js';

const MESSAGES = Number(process.argv[2] ?? 50_000);
const WINDOWS = (process.argv[3] ?? '10,100').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const fields = {
  source_addr: 'BENCH',
  source_addr_ton: 5,
  destination_addr: '491701234567',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  registered_delivery: 1,
  data_coding: 0,
  short_message: Buffer.from('Your verification code is 123456. It expires in 5 minutes.'),
};

/**
 * The SMSC side: frames PDUs by hand and answers bind and submit_sm with prebuilt bytes, so its
 * cost is small and identical for both clients.
 */
function ackServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    let pending: Buffer | null = null;
    let ids = 0;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      const data = pending ? Buffer.concat([pending, chunk]) : chunk;
      let off = 0;
      const out: Buffer[] = [];
      while (data.length - off >= 16) {
        const len = data.readUInt32BE(off);
        if (data.length - off < len) break;
        const id = data.readUInt32BE(off + 4);
        const seq = data.readUInt32BE(off + 12);
        off += len;
        let body: Buffer;
        if (id === 0x00000004) body = Buffer.from(`${(++ids).toString(16).padStart(10, '0')}\0`);
        else if (id === 0x00000009 || id === 0x00000002) body = Buffer.from('bench\0');
        else if (id === 0x00000015 || id === 0x00000006) body = Buffer.alloc(0);
        else continue;
        const head = Buffer.alloc(16);
        head.writeUInt32BE(16 + body.length, 0);
        head.writeUInt32BE((id | 0x80000000) >>> 0, 4);
        head.writeUInt32BE(0, 8);
        head.writeUInt32BE(seq, 12);
        out.push(head, body);
      }
      pending = off < data.length ? data.subarray(off) : null;
      if (out.length) socket.write(Buffer.concat(out));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

async function bare(port: number, window: number, n: number): Promise<number> {
  const session = smpp.connect({ host: '127.0.0.1', port });
  session.on('error', () => undefined);
  await new Promise<void>((r) => session.once('connect', () => r()));
  session.socket.setNoDelay(true); // same socket settings as our engine
  await new Promise<PDU>((r) => session.bind_transceiver({ system_id: 'b', password: 'p' }, r));
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    const onResp = (pdu: PDU): void => {
      if (pdu.command_status !== 0) throw new Error(`status ${pdu.command_status}`);
      done++;
      if (done === n) resolve();
      else if (sent < n) {
        sent++;
        session.submit_sm(fields, onResp);
      }
    };
    for (; sent < window && sent < n; ) {
      sent++;
      session.submit_sm(fields, onResp);
    }
  });
  const rate = n / ((performance.now() - t0) / 1000);
  await new Promise<void>((r) => session.close(() => r()));
  return rate;
}

async function ours(port: number, window: number, n: number): Promise<number> {
  const c = new ClientSession(
    {
      host: '127.0.0.1',
      port,
      bindType: 'transceiver',
      systemId: 'o',
      password: 'p',
      window,
      responseTimeoutMs: 30_000,
    },
    createLogger({ level: 'warn' }),
  );
  const bound = new Promise<void>((r) => c.once('bound', () => r()));
  c.start();
  await bound;
  const t0 = performance.now();
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent++;
      await c.submit(fields);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const rate = n / ((performance.now() - t0) / 1000);
  await c.stop();
  return rate;
}

const { server, port } = await ackServer();
console.log(
  `node ${process.version}, ${MESSAGES} submit_sm per run, best of ${ROUNDS} rounds, ack-only server in-process`,
);
await bare(port, 10, 5000); // warm up both paths
await ours(port, 10, 5000);
for (const w of WINDOWS) {
  let bestBare = 0;
  let bestOurs = 0;
  for (let i = 0; i < ROUNDS; i++) {
    bestBare = Math.max(bestBare, await bare(port, w, MESSAGES));
    bestOurs = Math.max(bestOurs, await ours(port, w, MESSAGES));
  }
  console.log(
    `window ${String(w).padStart(4)}: bare smpp ${bestBare.toFixed(0).padStart(7)} msg/s | ClientSession ${bestOurs
      .toFixed(0)
      .padStart(7)} msg/s | ratio ${(bestOurs / bestBare).toFixed(2)}`,
  );
}
server.close();
