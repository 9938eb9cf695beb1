import type { DeliverFields, DeliverSmResp } from '../pdu/message.js';
import { SmppTimeoutError, SmppUnsentError } from '../errors.js';
import type { SmppLink } from '../link/link.js';
import { RequestQueue } from '../link/request-queue.js';
import { createLimiter, type Limiter } from '../rate-limiter.js';

/** What the scheduler needs of a partner session. */
export interface ReceiverSession {
  readonly link: SmppLink;
  /** Bound as receiver or transceiver. */
  readonly receives: boolean;
}

/** The limiter for deliver_sm to a partner: `tps` per any 1-second window, <= 0 unlimited. */
function outboundLimiter(tps: number): Limiter {
  return createLimiter(tps >= 1 ? Math.min(Math.floor(tps), 10_000) : undefined);
}

/**
 * How deliver_sm to one partner bind are scheduled over its receiver sessions: one queue for the
 * bind, paced by the bind's TPS limit, each delivery going to the next session in turn that has
 * room in its window (round robin), and failing when no receiver is left to take it.
 */
export class DeliverScheduler {
  private readonly queue: RequestQueue;
  private readonly sessions: readonly ReceiverSession[];
  private readonly key: string;
  private rr = 0;
  private readonly pick = (): SmppLink | null => {
    const sessions = this.sessions;
    const n = sessions.length;
    for (let i = 0; i < n; i++) {
      const s = sessions[(this.rr + i) % n] as ReceiverSession;
      if (s.receives && s.link.hasRoom) {
        this.rr = (this.rr + i + 1) % n;
        return s.link;
      }
    }
    return null; // a response or 'drain' pumps again
  };

  /** `sessions` is the bind's live list of bound sessions (the scheduler reads, never writes it). */
  constructor(key: string, sessions: readonly ReceiverSession[], tps: number) {
    this.key = key;
    this.sessions = sessions;
    this.queue = new RequestQueue(outboundLimiter(tps), () => this.pump());
  }

  /** The pacer the bind's receiver links report their responses to. */
  get pacer(): RequestQueue {
    return this.queue;
  }

  get queued(): number {
    return this.queue.length;
  }

  setRate(tps: number): void {
    this.queue.limiter = outboundLimiter(tps);
  }

  private hasReceiver(): boolean {
    return this.sessions.some((s) => s.receives && s.link.state === 'bound');
  }

  deliver(fields: DeliverFields): Promise<DeliverSmResp> {
    if (!this.hasReceiver()) {
      return Promise.reject(new SmppUnsentError(`no receiver or transceiver session bound for ${this.key}`));
    }
    const response = this.queue.enqueue('deliver_sm', fields);
    this.pump();
    return response;
  }

  pump(): void {
    if (this.queue.length > 0) this.queue.pump(this.pick);
  }

  /** A session left the bind: its deliveries go to the others, or fail when none can receive. */
  sessionLeft(): void {
    if (this.queue.length === 0) return;
    if (this.hasReceiver()) this.pump();
    else this.fail(new SmppUnsentError(`no receiver or transceiver session bound for ${this.key}`));
  }

  /** Deliveries that found no session slot within `ms` fail with SmppTimeoutError. */
  expire(now: number, ms: number): void {
    if (this.queue.length > 0) this.queue.expire(now, ms, () => new SmppTimeoutError('deliver_sm', ms));
  }

  fail(err: Error): void {
    this.queue.failAll(err);
  }
}
