/**
 * One core poll per smscName per interval, whatever the number of binds of that smscName this
 * process runs. The core's GET lists every ready message of an smscName, so N binds polling it
 * each on their own timer would ask N times per interval for the same list (issue 16: 1,000
 * binds at the 100 ms default put 10,000 requests/s of idle load on the core).
 *
 * A request is shared: a pump whose smscName has a request on its way joins it; a pump that
 * finds the latest answer younger than its own interval (another pump asked) waits for the
 * group's next request instead of making one, so the pumps of one smscName fall into one rhythm.
 * A pump never gets the same answer twice, so a bind draining a backlog still polls as fast as
 * it sends (and a lone bind polls exactly as before). Joining is safe because every consumer of
 * one answer judges it with the answer's own PollToken (InFlightIds), begun before the request
 * and open until the last of them is done: a message another bind took from it, and maybe
 * already reported, still counts as taken for everyone using that answer. A completed answer is
 * never handed to a pump that did not ask before it came (holding tokens open for that let a
 * reported message be taken again: duplicate sends in test/integration/gateway/faults.test.ts).
 */
import type { CoreClient, CoreMessage } from '../core/index.js';
import type { InFlightIds, PollToken } from './types.js';

/** One answer lent to one pump: look at `list` with `token`, then call done(). */
export interface PollLease {
  list: CoreMessage[];
  token: PollToken;
  done(): void;
}

interface Answer {
  smscName: string;
  pending: Promise<CoreMessage[]>;
  token: PollToken;
  /** when the answer came (performance.now()); undefined while the request is on its way */
  at: number | undefined;
  /** pumps that have had this answer */
  seen: WeakSet<object>;
  /** leases not yet done */
  holders: number;
  /** the latest for its smscName: pumps may still join it while it is on its way */
  current: boolean;
  ended: boolean;
}

export class CorePolls {
  private readonly latest = new Map<string, Answer>();
  /** core requests made, for tests and metrics */
  requests = 0;
  /** answers handed to a pump that did not ask the core itself */
  shared = 0;

  constructor(
    private readonly core: Pick<CoreClient, 'poll'>,
    private readonly ids: InFlightIds,
  ) {}

  /**
   * An answer for smscName: the request on its way if `consumer` has not had it; after waiting
   * for the group's next request if another pump asked less than maxAgeMs ago; otherwise a new
   * request. Rejects when the request fails.
   */
  poll(smscName: string, consumer: object, maxAgeMs: number): Promise<PollLease> {
    const a = this.latest.get(smscName);
    if (a && !a.seen.has(consumer)) {
      if (a.at === undefined) return this.join(a, consumer, true);
      const left = a.at + maxAgeMs - performance.now();
      // Another pump of this smscName asked less than an interval ago: wait for the group's
      // next request instead of making one more (it is made by whoever asks first then).
      if (left > 0) {
        return new Promise<void>((r) => setTimeout(r, left).unref()).then(() =>
          this.poll(smscName, consumer, maxAgeMs),
        );
      }
    }
    return this.join(this.request(smscName), consumer, false);
  }

  /**
   * Hands the answer to one more pump; its token stays open until every holder is done. One
   * promise step from the core's answer to the pump, as when the pump asked the core itself.
   */
  private join(a: Answer, consumer: object, shared: boolean): Promise<PollLease> {
    if (shared) this.shared++;
    a.seen.add(consumer);
    a.holders++;
    return a.pending.then(
      (list) => {
        let released = false;
        return {
          list,
          token: a.token,
          done: () => {
            if (released) return;
            released = true;
            this.done(a);
          },
        };
      },
      (err: unknown) => {
        this.done(a);
        throw err;
      },
    );
  }

  private request(smscName: string): Answer {
    const prev = this.latest.get(smscName);
    if (prev) this.retire(prev);
    this.requests++;
    const token = this.ids.beginPoll();
    const a: Answer = {
      smscName,
      pending: this.core.poll(smscName),
      token,
      at: undefined,
      seen: new WeakSet(),
      holders: 0,
      current: true,
      ended: false,
    };
    this.latest.set(smscName, a);
    a.pending.then(
      () => {
        a.at = performance.now();
      },
      () => this.retire(a),
    );
    return a;
  }

  /** No pump may join it any more (replaced, or its request failed). */
  private retire(a: Answer): void {
    if (a.current) {
      a.current = false;
      if (this.latest.get(a.smscName) === a) this.latest.delete(a.smscName);
    }
    this.end(a);
  }

  private done(a: Answer): void {
    a.holders--;
    this.end(a);
  }

  /**
   * The token closes once the answer is in and nobody is looking at it any more. A later pump
   * never takes an answer it did not ask (or join) before it came: the core may have recorded a
   * "sent" since, whose release that pump could no longer tell from this token.
   */
  private end(a: Answer): void {
    if (a.ended || a.holders > 0 || (a.at === undefined && a.current)) return;
    a.ended = true;
    this.ids.endPoll(a.token);
  }

  /** Drops every cached answer (stop). */
  clear(): void {
    for (const a of [...this.latest.values()]) this.retire(a);
  }
}
