// Preloaded (--import) into a benchmarked process when BENCH_PROFILE_DIR is set: the first
// SIGUSR2 starts V8's CPU profiler and the second writes the profile there. A --cpu-prof profile
// covers start-up, warm-up and shutdown too; this one covers only the measured window.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    const toggle = async (): Promise<void> => {
      if (!running) {
        running = true;
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        return;
      }
      running = false;
      const { profile } = await session.post('Profiler.stop');
      const script = (process.argv[1] ?? 'node').split('/').pop() ?? 'node';
      const name = `${script === 'cli.ts' ? (process.argv[2] ?? script) : script}-${process.pid}.cpuprofile`;
      writeFileSync(join(dir, name), JSON.stringify(profile));
    };
    toggle().catch((err: unknown) => process.stderr.write(`window-profile: ${String(err)}\n`));
  });
}
