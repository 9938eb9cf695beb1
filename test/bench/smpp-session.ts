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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

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

interface Run {
  rate: number; // messages per wall-clock second
  cpuUs: number; // CPU microseconds (user + system, whole process incl. the ack server) per message
}

async function bare(port: number, window: number, n: number): Promise<Run> {
  const session = smpp.connect({ host: '127.0.0.1', port });
  session.on('error', () => undefined);
  await new Promise<void>((r) => session.once('connect', () => r()));
  session.socket.setNoDelay(true); // same socket settings as our engine
  await new Promise<PDU>((r) => session.bind_transceiver({ system_id: 'b', password: 'p' }, r));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
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
  const run = measure(t0, c0, n);
  await new Promise<void>((r) => session.close(() => r()));
  return run;
}

async function ours(port: number, window: number, n: number): Promise<Run> {
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
  const c0 = process.cpuUsage();
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent++;
      await c.submit(fields);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const run = measure(t0, c0, n);
  await c.stop();
  return run;
}

function measure(t0: number, c0: NodeJS.CpuUsage, n: number): Run {
  const cpu = process.cpuUsage(c0);
  return { rate: n / ((performance.now() - t0) / 1000), cpuUs: (cpu.user + cpu.system) / n };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const { server, port } = await ackServer();
console.log(
  `node ${process.version}, ${MESSAGES} submit_sm per run, ${ROUNDS} rounds per window, ack-only server in-process`,
);
await bare(port, 10, 5000); // warm up both paths
await ours(port, 10, 5000);
// Rounds alternate which client goes first, and ratios are taken within a round, so load from
// other processes on a shared machine hits both sides alike. CPU time per message is reported
// too: it is the figure least disturbed by CPU starvation.
for (const w of WINDOWS) {
  const b: Run[] = [];
  const o: Run[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      b.push(await bare(port, w, MESSAGES));
      o.push(await ours(port, w, MESSAGES));
    } else {
      o.push(await ours(port, w, MESSAGES));
      b.push(await bare(port, w, MESSAGES));
    }
  }
  const bestB = Math.max(...b.map((r) => r.rate));
  const bestO = Math.max(...o.map((r) => r.rate));
  const ratios = o.map((r, i) => r.rate / (b[i] as Run).rate);
  const rateRatio = median(ratios);
  const cpuB = median(b.map((r) => r.cpuUs));
  const cpuO = median(o.map((r) => r.cpuUs));
  console.log(
    `window ${String(w).padStart(4)}: bare smpp best ${bestB.toFixed(0).padStart(6)} msg/s, ${cpuB.toFixed(1)} µs CPU/msg | ` +
      `ClientSession best ${bestO.toFixed(0).padStart(6)} msg/s, ${cpuO.toFixed(1)} µs CPU/msg | ` +
      `ratio: rate (median of rounds) ${rateRatio.toFixed(2)} (range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}), ` +
      `CPU-efficiency ${(cpuB / cpuO).toFixed(2)}`,
  );
}
server.close();
