// Polling for tests: wait for a condition with a generous deadline instead of sleeping for a
// guessed time (the machine running the tests may be busy).

export interface PollOptions {
  /** default 10000 */
  timeoutMs?: number;
  /** Named in the timeout error. */
  what?: string;
  /** default 10 */
  intervalMs?: number;
  /** A probe that throws counts as "not yet" (a server still starting); the last error is in the timeout's message. */
  ignoreErrors?: boolean;
}

/** Polls `probe` until it gives something other than undefined or false, and resolves with it. */
export async function poll<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: PollOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (opts.ignoreErrors !== true) throw err;
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const last = lastErr === undefined ? '' : `: ${String(lastErr)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${last}`);
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
