// How fast the smsc-sim sink acks on its own, so a benchmark can show the sink is not what limits
// the engines it compares.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSmscSim } from '../../../src/sim/index.js';
import { selfCpuSeconds } from './proc.js';

export interface SinkCapacity {
  msgsPerSec: number;
  /** CPU of the sink's process per acked submit_sm, in microseconds. */
  sinkCpuUsPerMsg: number;
}

export async function measureSinkCapacity(messages = 100_000, window = 1000): Promise<SinkCapacity> {
  const sim = await startSmscSim({ sink: true, httpPort: null });
  try {
    const script = fileURLToPath(new URL('./smpp-blast.mjs', import.meta.url));
    const child = fork(script, [String(sim.smppPort), String(messages), String(window)], {
      execArgv: [],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const cpu0 = selfCpuSeconds();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const cpu = selfCpuSeconds() - cpu0;
    const r = JSON.parse(out.trim() || '{}') as { acked?: number; ms?: number; error?: string };
    if (code !== 0 || r.acked === undefined || r.ms === undefined)
      throw new Error(`blaster failed: ${r.error ?? out}`);
    return { msgsPerSec: (r.acked * 1000) / r.ms, sinkCpuUsPerMsg: (cpu * 1e6) / r.acked };
  } finally {
    await sim.close();
  }
}
