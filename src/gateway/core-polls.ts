/**
 * One core poll per smscName per interval, whatever the number of binds of that smscName this
 * process runs. The core's GET lists every ready message of an smscName, so N binds polling it
 * each on their own timer would ask N times per interval for the same list (issue 16: 1,000
 * binds at the 100 ms default put 10,000 requests/s of idle load on the core).
 *
 * An answer is shared: a pump that has not yet seen the latest answer for its smscName, and
 * finds it younger than its own interval, takes that instead of asking again. A pump never gets
 * the same answer twice, so a bind draining a backlog still polls as fast as it sends (and a
 * lone bind polls exactly as before). Sharing is safe because every consumer of one answer
 * judges it with the answer's own PollToken (InFlightIds): a message another bind took from it,
 * and maybe already reported, still counts as taken for everyone using that answer. The token
 * stays open while the answer may still be handed out or is being looked at.
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
  /** still handed out to pumps that ask */
  current: boolean;
  timer: NodeJS.Timeout | undefined;
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
   * The latest answer for smscName that `consumer` has not had, if younger than maxAgeMs (or
   * still on its way); otherwise a new request. Rejects when the request fails.
   */
  async poll(smscName: string, consumer: object, maxAgeMs: number): Promise<PollLease> {
    let a = this.latest.get(smscName);
    const fresh = a !== undefined && (a.at === undefined || performance.now() - a.at < maxAgeMs);
    if (a && fresh && !a.seen.has(consumer)) this.shared++;
    else a = this.request(smscName, maxAgeMs);
    a.seen.add(consumer);
    a.holders++;
    const answer = a;
    let list: CoreMessage[];
    try {
      list = await answer.pending;
    } catch (err) {
      this.done(answer);
      throw err;
    }
    let released = false;
    return {
      list,
      token: answer.token,
      done: () => {
        if (released) return;
        released = true;
        this.done(answer);
      },
    };
  }

  private request(smscName: string, maxAgeMs: number): Answer {
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
      timer: undefined,
      ended: false,
    };
    this.latest.set(smscName, a);
    a.pending.then(
      () => {
        a.at = performance.now();
        if (!a.current) return;
        // No pump may take it once it is older than the interval it was asked for.
        a.timer = setTimeout(() => this.retire(a), maxAgeMs);
        a.timer.unref();
      },
      () => this.retire(a),
    );
    return a;
  }

  private retire(a: Answer): void {
    if (a.timer) clearTimeout(a.timer);
    a.timer = undefined;
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

  /** The token closes once nobody can be handed the answer and nobody is looking at it. */
  private end(a: Answer): void {
    if (a.ended || a.current || a.holders > 0) return;
    a.ended = true;
    this.ids.endPoll(a.token);
  }

  /** Drops every cached answer (stop). */
  clear(): void {
    for (const a of [...this.latest.values()]) this.retire(a);
  }
}
