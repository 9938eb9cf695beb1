import type { DeliverSmResp, MessageFields, SubmitSmResp } from '../pdu/message.js';
import type { Limiter } from '../rate-limiter.js';
import type { LinkRequest, Pacer, SmppLink } from './link.js';

/**
 * Requests waiting for a link with room and a slot from the limiter, oldest first. The client
 * session has one for its link; the listener one per partner bind, shared by its receiver
 * sessions. It is the Pacer of the links it feeds: their responses tell its limiter.
 */
export class RequestQueue implements Pacer {
  limiter: Limiter;
  private items: (LinkRequest | undefined)[] = [];
  private head = 0;
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
    return this.items.length - this.head;
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
    while (this.head < items.length) {
      const link = pick();
      if (link === null) break;
      const wait = this.limiter.take();
      if (wait > 0) {
        if (this.timer === null) this.timer = setTimeout(this.onTimer, Math.ceil(wait));
        break;
      }
      const req = items[this.head] as LinkRequest;
      items[this.head++] = undefined;
      link.send(req);
    }
    this.compact();
  }

  /** Fails requests that have waited `maxAgeMs` or more, with the error `error` makes. */
  expire(now: number, maxAgeMs: number, error: () => Error): void {
    const items = this.items;
    let err: Error | null = null;
    while (this.head < items.length) {
      const req = items[this.head] as LinkRequest;
      if (now - req.queuedAt < maxAgeMs) break;
      items[this.head++] = undefined;
      req.reject((err ??= error()));
    }
    this.compact();
  }

  /** Fails every queued request with `err` and stops the limiter's timer. */
  failAll(err: Error): void {
    const items = this.items;
    const head = this.head;
    this.items = [];
    this.head = 0;
    this.stopTimer();
    for (let i = head; i < items.length; i++) (items[i] as LinkRequest).reject(err);
  }

  stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
