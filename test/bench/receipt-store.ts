// The gateway benchmark (gateway-e2e.ts: devcore → gateway → SMPP sink, one client bind, no TPS
// limit) with the Redis receipt store against the memory store, in the same run: each round
// runs both (alternating which goes first) on fresh processes, against one redis-server started
// here (Debian's package, temporary dir, free port). Prints per-round throughput ratios (Redis /
// memory), their median and range, the receipt-store round trips per message, and Redis
// commands per message. The sink only acks, so this is the submit path: one carrier-id write
// per submit_sm_resp, batched into pipelines.
//
//   export PATH=$PWD/node_modules/.bin:$PATH   # Node 24
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/receipt-store.ts [--messages 20000] [--warmup 10000] [--window 100] [--rounds 3]
import { startRedis } from '../helpers/redis-server.js';
import { runGatewayE2e, type GatewayE2eResult } from './gateway-e2e.js';
import { intFlag, msPerMsg, rate, table } from './lib/format.js';
import { cpuSeconds } from './lib/proc.js';

async function commandsProcessed(admin: { info(section: string): Promise<string> }): Promise<number> {
  const m = /total_commands_processed:(\d+)/.exec(await admin.info('stats'));
  return Number(m?.[1] ?? 0);
}

async function main(args: string[]): Promise<void> {
  const messages = intFlag(args, 'messages', 20_000);
  const warmup = intFlag(args, 'warmup', 10_000);
  const window = intFlag(args, 'window', 100);
  const rounds = intFlag(args, 'rounds', 3);
  const redis = await startRedis();
  const admin = redis.admin();
  const memory: GatewayE2eResult[] = [];
  const onRedis: GatewayE2eResult[] = [];
  const ratios: number[] = [];
  const commandsPerMsg: number[] = [];
  const redisCpuPerMsg: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const runMemory = async (): Promise<GatewayE2eResult> =>
        runGatewayE2e({ messages, warmup, window, pollLimit: 1000 });
      const runRedis = async (): Promise<GatewayE2eResult> => {
        const before = await commandsProcessed(admin);
        const cpu0 = cpuSeconds(redis.pid() as number);
        const r = await runGatewayE2e({
          messages,
          warmup,
          window,
          pollLimit: 1000,
          redisUrl: redis.url,
          redisPrefix: `bench${i}:`,
        });
        commandsPerMsg.push(((await commandsProcessed(admin)) - before) / (messages + warmup));
        redisCpuPerMsg.push(((cpuSeconds(redis.pid() as number) - cpu0) * 1000) / (messages + warmup));
        return r;
      };
      let m: GatewayE2eResult;
      let r: GatewayE2eResult;
      if (i % 2 === 0) {
        m = await runMemory();
        r = await runRedis();
      } else {
        r = await runRedis();
        m = await runMemory();
      }
      memory.push(m);
      onRedis.push(r);
      ratios.push(r.msgsPerSec / m.msgsPerSec);
      console.log(
        `round ${i + 1}: memory ${rate(m.msgsPerSec)} (${msPerMsg(m.gatewayCpuPerMsgMs)} CPU), ` +
          `redis ${rate(r.msgsPerSec)} (${msPerMsg(r.gatewayCpuPerMsgMs)} CPU, ` +
          `${r.storeRoundTripsPerMsg.toFixed(4)} round trips/message, lost ${r.storeLost}); ratio ${ratios[i]?.toFixed(3)}`,
      );
    }
  } finally {
    admin.disconnect();
    await redis.cleanup();
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)] as number;
  };
  console.log(
    '\n' +
      table([
        ['', 'messages/s (median)', 'gateway CPU per message', 'receipt store round trips / message'],
        [
          'memory store',
          rate(median(memory.map((x) => x.msgsPerSec))),
          msPerMsg(median(memory.map((x) => x.gatewayCpuPerMsgMs))),
          '0',
        ],
        [
          'Redis store',
          rate(median(onRedis.map((x) => x.msgsPerSec))),
          msPerMsg(median(onRedis.map((x) => x.gatewayCpuPerMsgMs))),
          median(onRedis.map((x) => x.storeRoundTripsPerMsg)).toFixed(4),
        ],
      ]),
  );
  console.log(
    `\nratio Redis / memory: median ${median(ratios).toFixed(3)} over ${rounds} rounds ` +
      `(range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}; goal >= 0.9); ` +
      `Redis commands per message ${median(commandsPerMsg).toFixed(3)}, redis-server CPU ${msPerMsg(median(redisCpuPerMsg))}; ` +
      `entries lost ${onRedis.reduce((n, x) => n + x.storeLost, 0)}; duplicate sends ${onRedis.reduce((n, x) => n + x.duplicates, 0)}`,
  );
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
