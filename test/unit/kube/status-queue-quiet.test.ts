import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { StatusQueue, type StatusJob } from '../../../src/kube/status-queue.js';
import type { StatusWriter, WriteResult } from '../../../src/kube/status-writer.js';

/** A writer whose every write takes `ms` and succeeds. */
function slowWriter(ms: number): StatusWriter {
  const fake = {
    write: (): Promise<WriteResult> => new Promise((r) => setTimeout(() => r({ outcome: 'written' }), ms)),
  };
  return fake as unknown as StatusWriter;
}

const job = (name: string): StatusJob => ({
  target: { group: 'g', version: 'v1', plural: 'p', kind: 'K', namespace: 'ns', name },
  desired: () => ({ phase: 'Bound' }),
  current: { metadata: { resourceVersion: '1' }, status: {} },
  onConflict: 'drop',
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('StatusQueue.quiet', () => {
  it('waits out the gaps of a burst, where idle() resolves in the first gap', async () => {
    const q = new StatusQueue(slowWriter(20), createLogger({ level: 'silent' }));
    const t0 = performance.now();
    q.submit(job('a'));
    let idleAt = 0;
    let quietAt = 0;
    const idle = q.idle().then(() => (idleAt = performance.now() - t0));
    const quiet = q.quiet(100).then(() => (quietAt = performance.now() - t0));
    // The burst's second write comes 60 ms in, after a's write is done: a gap, not the end.
    await sleep(60);
    q.submit(job('b'));
    await Promise.all([idle, quiet]);
    expect(idleAt).toBeLessThan(60);
    // b's write ends at about 80 ms; quiet only 100 ms after that.
    expect(quietAt).toBeGreaterThanOrEqual(175);
  });

  it('resolves at once when the writes have been idle for the period already', async () => {
    const q = new StatusQueue(slowWriter(20), createLogger({ level: 'silent' }));
    let t0 = performance.now();
    await q.quiet(100);
    expect(performance.now() - t0).toBeLessThan(50);
    q.submit(job('a'));
    await q.idle();
    await sleep(150);
    // Events after a burst long over (1,000 of them after an apply) must not wait each time.
    t0 = performance.now();
    await q.quiet(100);
    expect(performance.now() - t0).toBeLessThan(50);
  });
});

describe('StatusQueue.close', () => {
  it('writes a submission still waiting for its object’s interval when close() is called', async () => {
    const written: string[] = [];
    const fake = {
      write: (t: StatusJob['target']): Promise<WriteResult> =>
        new Promise((r) =>
          setTimeout(() => {
            written.push(t.name);
            r({ outcome: 'written' });
          }, 30),
        ),
    };
    const q = new StatusQueue(fake as unknown as StatusWriter, createLogger({ level: 'silent' }), {
      minIntervalMs: 200,
    });
    // A bind's last Bound write in flight, its Released submitted behind it, then the stop's
    // close(): the first write ends 30 ms in, the second may start only at 200 ms.
    q.submit(job('a'));
    await sleep(5);
    q.submit(job('a'));
    const t0 = performance.now();
    await q.close(2_000);
    expect(written).toEqual(['a', 'a']);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});
