// CPU of idle core polls: N pollers, each polling its own smscName once per interval on the
// gateway's shared grid (gridDelay), against devcore in its own process, through undici's Pool
// (what every other core call uses; the baseline) and through the poll transport
// (src/core/poll-transport.ts). Rounds alternate in one run; the line under the table is the
// median of the per-round ratios of CPU per poll.
//
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/core-polls.ts [--pollers 1000] [--interval 1000] [--seconds 15] [--rounds 5]
// Needs `npm run -s build` (devcore runs from dist, as in the image).
import { readFile } from 'node:fs/promises';
import { gridDelay } from '../../src/gateway/mt-pump.js';
import { PollTransport } from '../../src/core/poll-transport.js';
import { PoolTransport, type Exchange, type PoolSettings } from '../../src/core/transport.js';
import { intFlag, median, table } from './lib/format.js';
import { cliPath } from './lib/operator-procs.js';
import { cpuSeconds, freePort, spawnManaged, waitForPort } from './lib/proc.js';

const args = process.argv.slice(2);
const POLLERS = intFlag(args, 'pollers', 1000);
const INTERVAL = intFlag(args, 'interval', 1000);
const SECONDS = intFlag(args, 'seconds', 15);
const ROUNDS = intFlag(args, 'rounds', 5);

type Kind = 'undici Pool' | 'poll transport';
interface Round {
  kind: Kind;
  polls: number;
  cpuUs: number;
  coreCpuUs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function round(kind: Kind, origin: string, corePid: number): Promise<Round> {
  const settings: PoolSettings = { origin, connections: 64, timeoutMs: 5000 };
  const t =
    kind === 'undici Pool' ? new PoolTransport(settings) : new PollTransport({ ...settings, pipelining: 8 });
  const requests: Exchange[] = Array.from({ length: POLLERS }, (_, i) => ({
    path: '/api/messages',
    method: 'GET',
    headers: Object.freeze({ accept: 'application/json', SMSc: `bench-${i}` }),
    body: null,
    keepSuccessBody: true,
  }));
  let stop = false;
  let polls = 0;
  const poller = async (x: Exchange): Promise<void> => {
    await sleep(Math.random() * INTERVAL);
    while (!stop) {
      const r = await t.exchange(x);
      JSON.parse(r.text || '[]');
      polls++;
      await sleep(gridDelay(INTERVAL, performance.now()));
    }
  };
  const all = requests.map(poller);
  await sleep(3000);
  const c0 = process.cpuUsage();
  const k0 = cpuSeconds(corePid);
  const p0 = polls;
  await sleep(SECONDS * 1000);
  const c1 = process.cpuUsage(c0);
  const k1 = cpuSeconds(corePid);
  const n = polls - p0;
  stop = true;
  await Promise.all(all);
  await t.close();
  return { kind, polls: n, cpuUs: c1.user + c1.system, coreCpuUs: (k1 - k0) * 1e6 };
}

async function main(): Promise<void> {
  const port = await freePort();
  const core = spawnManaged('devcore', process.execPath, [cliPath(), 'devcore', '--port', String(port)]);
  try {
    await waitForPort(port, 30_000, core);
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    console.log(
      `core polls: ${POLLERS} pollers, interval ${INTERVAL} ms, ${SECONDS} s rounds, ${new Date().toISOString()}, load ${load}\n`,
    );
    const rows: (string | number)[][] = [
      ['round', 'client', 'polls/s', 'CPU', 'µs per poll', 'devcore µs per poll'],
    ];
    const ratios: number[] = [];
    const coreRatios: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order: Kind[] =
        i % 2 === 0 ? ['undici Pool', 'poll transport'] : ['poll transport', 'undici Pool'];
      const got = new Map<Kind, Round>();
      for (const kind of order) got.set(kind, await round(kind, `http://127.0.0.1:${port}`, core.pid));
      for (const kind of ['undici Pool', 'poll transport'] as const) {
        const r = got.get(kind) as Round;
        rows.push([
          i + 1,
          kind,
          (r.polls / SECONDS).toFixed(0),
          `${(r.cpuUs / 1e6 / SECONDS).toFixed(3)} core`,
          (r.cpuUs / r.polls).toFixed(0),
          (r.coreCpuUs / r.polls).toFixed(0),
        ]);
      }
      const a = got.get('undici Pool') as Round;
      const b = got.get('poll transport') as Round;
      ratios.push(b.cpuUs / b.polls / (a.cpuUs / a.polls));
      coreRatios.push(b.coreCpuUs / b.polls / (a.coreCpuUs / a.polls));
    }
    console.log(table(rows));
    const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
    console.log(
      `\npoll transport / undici Pool, CPU per poll: median ${median(ratios).toFixed(2)}x (${range(ratios)}); devcore's CPU per poll: ${median(coreRatios).toFixed(2)}x (${range(coreRatios)})`,
    );
  } finally {
    await core.stop();
  }
}

await main();
