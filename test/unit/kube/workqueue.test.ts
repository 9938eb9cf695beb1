import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue, type HandlerResult } from '../../../src/kube/workqueue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  let q: WorkQueue | undefined;
  afterEach(async () => {
    await q?.shutdown();
    q = undefined;
    vi.useRealTimers();
  });

  it('dedupes a key added many times before it runs', async () => {
    const runs: string[] = [];
    q = new WorkQueue(async (k) => {
      runs.push(k);
    });
    for (let i = 0; i < 5; i++) {
      q.add('a');
      q.add('b');
    }
    expect(q.length).toBe(2);
    q.start();
    await q.idle();
    expect(runs).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once; an add during processing runs once more afterwards', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const gate = deferred();
    q = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) await gate.promise;
        active--;
      },
      { concurrency: 4 },
    );
    q.start();
    q.add('k');
    await vi.waitFor(() => expect(q?.isProcessing('k')).toBe(true));
    q.add('k');
    q.add('k');
    q.add('k');
    expect(q.length).toBe(0); // parked as dirty, not queued beside the running one
    gate.resolve();
    await vi.waitFor(() => expect(runs).toBe(2));
    await q.idle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('processes different keys in parallel up to the concurrency', async () => {
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    q = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await gate.promise;
        active--;
      },
      { concurrency: 3 },
    );
    q.start();
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await vi.waitFor(() => expect(active).toBe(3));
    expect(q.length).toBe(2);
    gate.resolve();
    await q.idle();
    expect(maxActive).toBe(3);
  });

  describe('with fake timers', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });

    it('retries a failing key with per-key exponential backoff and forgets it on success', async () => {
      const calls: number[] = [];
      const failures: number[] = [];
      let failUntil = 4;
      q = new WorkQueue(
        async () => {
          calls.push(Date.now());
          if (calls.length <= failUntil) throw new Error('boom');
        },
        { baseDelayMs: 100, maxDelayMs: 500 },
      );
      q.on('failed', (_k: string, _e: unknown, delay: number) => failures.push(delay));
      q.start();
      const t0 = Date.now();
      q.add('k');
      await vi.advanceTimersByTimeAsync(0);
      for (let i = 0; i < 4; i++) await vi.advanceTimersByTimeAsync(500);
      await q.idle();
      expect(failures).toEqual([100, 200, 400, 500]);
      expect(calls.map((c) => c - t0)).toEqual([0, 100, 300, 700, 1200]);
      expect(q.numRequeues('k')).toBe(0);

      // Failures of one key don't slow another.
      failUntil = 6;
      q.add('other');
      await vi.advanceTimersByTimeAsync(0);
      expect(q.numRequeues('other')).toBe(1);
      expect(q.numRequeues('k')).toBe(0);
    });

    it('runs delayed adds when due, keeping the earliest, and honours requeueAfterMs', async () => {
      const seen: { k: string; t: number }[] = [];
      const t0 = Date.now();
      let again = true;
      q = new WorkQueue(async (k): Promise<HandlerResult> => {
        seen.push({ k, t: Date.now() - t0 });
        if (k === 'periodic' && again) {
          again = false;
          return { requeueAfterMs: 1000 };
        }
      });
      q.start();
      q.addAfter('a', 500);
      q.addAfter('a', 2000); // later: ignored
      q.addAfter('b', 800);
      q.addAfter('b', 300); // sooner: wins
      q.add('periodic');
      expect(q.delayedCount).toBe(2);
      await vi.advanceTimersByTimeAsync(3000);
      expect(seen).toEqual([
        { k: 'periodic', t: 0 },
        { k: 'b', t: 300 },
        { k: 'a', t: 500 },
        { k: 'periodic', t: 1000 },
      ]);
      expect(q.delayedCount).toBe(0);
    });

    it('holds 10,000 delayed keys under one timer and runs each once, in due order', async () => {
      const seen: { k: string; t: number }[] = [];
      const t0 = Date.now();
      q = new WorkQueue(
        async (k) => {
          seen.push({ k, t: Date.now() - t0 });
        },
        { concurrency: 8 },
      );
      q.start();
      const due = new Map<string, number>();
      for (let i = 0; i < 10_000; i++) {
        const key = `ns/bind-${i}`;
        const at = 1 + ((i * 7919) % 5000);
        q.addAfter(key, at);
        due.set(key, at);
      }
      // Superseded: sooner wins for half of them, and a third are run at once instead.
      for (let i = 0; i < 10_000; i += 2) {
        const key = `ns/bind-${i}`;
        q.addAfter(key, 1);
        due.set(key, 1);
      }
      for (let i = 0; i < 10_000; i += 3) {
        q.add(`ns/bind-${i}`);
        due.set(`ns/bind-${i}`, 0);
      }
      expect(vi.getTimerCount()).toBeLessThanOrEqual(1);
      await vi.advanceTimersByTimeAsync(6000);
      await q.idle();
      expect(seen).toHaveLength(10_000);
      expect(new Set(seen.map((s) => s.k)).size).toBe(10_000);
      for (const s of seen) expect(s.t).toBe(due.get(s.k));
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.t).toBeGreaterThanOrEqual(seen[i - 1]!.t);
      expect(q.delayedCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('an immediate add supersedes a pending delayed add of the same key', async () => {
      let runs = 0;
      q = new WorkQueue(async () => {
        runs++;
      });
      q.start();
      q.addAfter('k', 1000);
      q.add('k');
      await vi.advanceTimersByTimeAsync(5000);
      expect(runs).toBe(1);
    });
  });

  it('shutdown drops pending work and waits for the running handler', async () => {
    const gate = deferred();
    let finished = false;
    const runs: string[] = [];
    const queue = new WorkQueue(async (k) => {
      runs.push(k);
      await gate.promise;
      finished = true;
    });
    queue.start();
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 10);
    await vi.waitFor(() => expect(runs).toEqual(['a']));
    const done = queue.shutdown();
    gate.resolve();
    await done;
    expect(finished).toBe(true);
    queue.add('d');
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toEqual(['a']);
  });
});
