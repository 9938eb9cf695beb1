/**
 * Tells the core how each message ended (PATCH sent / PUT retry / PATCH failed), retrying while
 * the core is unreachable. A lost "sent" report would make the core hand the message out again
 * (a duplicate SMS), so reports are retried until they land or the process stops; the caller
 * keeps the message in its in-flight set until then, so it is never taken twice meanwhile.
 */
import type { CoreClient } from '../core/index.js';
import { CoreError } from '../core/index.js';
import type { Logger } from '../log.js';
import type { Accounting } from './accounting.js';
import { backoffDelay } from '../backoff.js';

export type ReportKind = 'mark_sent' | 'return_for_retry' | 'mark_failed' | 'report_receipt';

interface Job {
  kind: ReportKind;
  id: string;
  run: () => Promise<void>;
  done: () => void;
  acct: Accounting | undefined;
  attempts: number;
  timer?: NodeJS.Timeout;
}

export interface ReporterOptions {
  /** First and largest delay between attempts of one report. Default 200 / 10000 ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class Reporter {
  private readonly pending = new Set<Job>();
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private idle: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly core: Pick<CoreClient, 'retryDelayMs'>,
    private readonly log: Logger,
    opts: ReporterOptions = {},
  ) {
    this.minDelay = opts.minDelayMs ?? 200;
    this.maxDelay = opts.maxDelayMs ?? 10_000;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Runs `run` until it succeeds, the core rejects it for good (4xx: retrying cannot help), or
   * abandon() is called; then `done`.
   */
  report(kind: ReportKind, id: string, run: () => Promise<void>, done: () => void, acct?: Accounting): void {
    const job: Job = { kind, id, run, done, acct, attempts: 0 };
    this.pending.add(job);
    acct?.reportStarted();
    this.attempt(job);
  }

  private attempt(job: Job): void {
    job.timer = undefined;
    job.attempts++;
    job.run().then(
      () => this.finish(job, false),
      (err: unknown) => {
        if (!this.pending.has(job)) return;
        if (err instanceof CoreError && !err.temporary) {
          this.log.warn(
            { messageId: job.id, endpoint: job.kind, status: err.status, err },
            'core rejected the report; not retrying',
          );
          this.finish(job, false);
          return;
        }
        if (this.closed) {
          this.abandon(job, err);
          return;
        }
        const backoff = backoffDelay(job.attempts - 1, this.minDelay, this.maxDelay);
        const delay = Math.max(backoff, this.core.retryDelayMs());
        this.log.debug(
          { messageId: job.id, endpoint: job.kind, attempts: job.attempts, delayMs: delay },
          'core report failed; retrying',
        );
        job.timer = setTimeout(() => this.attempt(job), delay);
      },
    );
  }

  private finish(job: Job, abandoned: boolean): void {
    if (!this.pending.delete(job)) return;
    if (job.timer) clearTimeout(job.timer);
    job.acct?.reportDone(abandoned);
    job.done();
    if (this.pending.size === 0) {
      const waiters = this.idle;
      this.idle = [];
      for (const w of waiters) w();
    }
  }

  private abandon(job: Job, err: unknown): void {
    this.log.error(
      {
        messageId: job.id,
        endpoint: job.kind,
        attempts: job.attempts,
        err,
      },
      job.kind === 'mark_sent'
        ? 'could not tell the core a message was sent; it may be sent again'
        : 'could not report to the core before shutdown',
    );
    this.finish(job, true);
  }

  /**
   * Resolves when every report landed, or at `deadline` (epoch ms): reports still failing then
   * get one last immediate attempt and are abandoned if it fails.
   */
  async drain(deadline: number): Promise<void> {
    if (this.pending.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.idle.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    if (this.pending.size === 0) return;
    this.closed = true;
    // Reports waiting on a backoff timer: one last try now. Those mid-request end via attempt().
    const last: Promise<void>[] = [];
    for (const job of [...this.pending]) {
      if (job.timer) {
        clearTimeout(job.timer);
        job.timer = undefined;
        last.push(
          job.run().then(
            () => this.finish(job, false),
            (err: unknown) => this.abandon(job, err),
          ),
        );
      }
    }
    await Promise.race([Promise.all(last), new Promise((r) => setTimeout(r, 1000).unref())]);
    for (const job of [...this.pending]) this.abandon(job, new Error('shutdown'));
  }
}
