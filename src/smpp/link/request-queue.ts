import type { DeliverSmResp, MessageFields, SubmitSmResp } from '../pdu/message.js';
import type { Limiter } from '../rate-limiter.js';
import { Fifo } from '../../fifo.js';
import type { LinkRequest, Pacer, SmppLink } from './link.js';

/**
 * Requests waiting for a link with room and a slot from the limiter, oldest first. The client
 * session has one for its link; the listener one per partner bind, shared by its receiver
 * sessions. It is the Pacer of the links it feeds: their responses tell its limiter.
 */
export class RequestQueue implements Pacer {
  limiter: Limiter;
  private readonly items = new Fifo<LinkRequest>();
  private timer: NodeJS.Timeout | null = null;
  private readonly onTimer: () => void;

  /** `wake` runs when the limiter's wait is over: it should pump again. */
  constructor(limiter: Limiter, wake: () => void) {
    this.limiter = limiter;
    this.onTimer = () => {
      this.timer = null;
      wake();
    };
  }

  get length(): number {
    return this.items.size;
  }

  /**
   * Queues `command` with `fields`; the promise settles with its response (the link resolves a
   * submit_sm only with a submit_sm_resp and a deliver_sm only with a deliver_sm_resp) or its
   * failure. The caller pumps.
   */
  enqueue(command: 'submit_sm', fields: MessageFields): Promise<SubmitSmResp>;
  enqueue(command: 'deliver_sm', fields: MessageFields): Promise<DeliverSmResp>;
  enqueue(command: LinkRequest['command'], fields: MessageFields): Promise<SubmitSmResp | DeliverSmResp> {
    return new Promise((resolve, reject) => {
      this.items.push({ command, fields, resolve, reject, queuedAt: performance.now(), sentAt: 0 });
    });
  }

  /**
   * Sends queued requests while `pick` finds a link with room and the limiter allows; stops at
   * the first refusal (a response, 'drain' or the limiter's timer brings the next pump).
   */
  pump(pick: () => SmppLink | null): void {
    const items = this.items;
    while (items.size > 0) {
      const link = pick();
      if (link === null) break;
      const wait = this.limiter.take();
      if (wait > 0) {
        if (this.timer === null) this.timer = setTimeout(this.onTimer, Math.ceil(wait));
        break;
      }
      link.send(items.shift() as LinkRequest);
    }
  }

  /** Fails requests that have waited `maxAgeMs` or more, with the error `error` makes. */
  expire(now: number, maxAgeMs: number, error: () => Error): void {
    const items = this.items;
    let err: Error | null = null;
    for (let req = items.peek(); req !== undefined && now - req.queuedAt >= maxAgeMs; req = items.peek()) {
      items.shift();
      req.reject((err ??= error()));
    }
  }

  /** Fails every queued request with `err` and stops the limiter's timer. */
  failAll(err: Error): void {
    const failed = this.items.clear();
    this.stopTimer();
    for (const req of failed) req.reject(err);
  }

  stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
