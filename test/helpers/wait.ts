// Polling for tests: wait for a condition with a generous deadline instead of sleeping for a
// guessed time (the machine running the tests may be busy).

export interface PollOptions {
  /** default 10000 */
  timeoutMs?: number;
  /** Named in the timeout error. */
  what?: string;
  /** default 10 */
  intervalMs?: number;
}

/** Polls `probe` until it gives something other than undefined or false, and resolves with it. */
export async function poll<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: PollOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 10));
  }
}

/** Waits until `cond` holds. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  await poll(async () => (await cond()) || undefined, { timeoutMs, what, intervalMs: 5 });
}
