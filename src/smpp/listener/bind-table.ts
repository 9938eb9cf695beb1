import type { Logger } from '../../log.js';
import { passwordTag } from '../auth.js';
import { CidrAllowlist } from '../cidr.js';
import type { BindType } from '../errors.js';
import type { LocalCloseCause } from '../link/close-reason.js';
import { createLimiter, type Limiter } from '../rate-limiter.js';
import { DeliverScheduler, type ReceiverSession } from './deliver-scheduler.js';
import type { ServerBindEntry, ServerSessionInfo } from './types.js';

/** What the bind table keeps of a bound partner session. */
export interface BoundSession extends ReceiverSession {
  /** The password tag, system_id and bind type it bound with, to notice entry changes. */
  readonly tag: string;
  readonly systemId: string;
  readonly bindType: BindType;
  readonly peerAddress: string;
  readonly info: ServerSessionInfo;
}

function inboundLimiter(rate: number): Limiter | null {
  if (rate < 1) return null;
  const r = Math.min(Math.floor(rate), 10_000);
  return createLimiter(r, { burst: r });
}

function allowlistFor(entry: ServerBindEntry, log: Logger): CidrAllowlist {
  try {
    return new CidrAllowlist(entry.ipAllowlist);
  } catch (err) {
    // Fail closed: a typo in the allowlist must not open the bind to everyone.
    log.error(
      { namespace: entry.namespace, bind: entry.name, err },
      'invalid ipAllowlist; refusing all binds for this entry',
    );
    return new CidrAllowlist(['::/128']);
  }
}

/** Live state of one server bind: its entry, its bound sessions, its limiters and its deliveries. */
export class BindState {
  entry: ServerBindEntry;
  tag: string;
  allow: CidrAllowlist;
  readonly sessions: BoundSession[] = [];
  /** Partner submit_sm above this rate are answered ESME_RTHROTTLED; null: unlimited. */
  inbound: Limiter | null;
  readonly deliveries: DeliverScheduler;

  constructor(entry: ServerBindEntry, log: Logger) {
    this.entry = entry;
    this.tag = passwordTag(entry.password);
    this.allow = allowlistFor(entry, log);
    this.inbound = inboundLimiter(entry.inboundTpsLimit);
    this.deliveries = new DeliverScheduler(entry.key, this.sessions, entry.tpsLimit);
  }

  update(entry: ServerBindEntry, log: Logger): void {
    const old = this.entry;
    this.entry = entry;
    this.tag = passwordTag(entry.password);
    this.allow = allowlistFor(entry, log);
    if (old.tpsLimit !== entry.tpsLimit) this.deliveries.setRate(entry.tpsLimit);
    if (old.inboundTpsLimit !== entry.inboundTpsLimit) this.inbound = inboundLimiter(entry.inboundTpsLimit);
  }

  add(s: BoundSession): void {
    this.sessions.push(s);
  }

  /** Takes a session out (it can no longer take deliveries); false when it was not in. */
  remove(s: BoundSession): boolean {
    const i = this.sessions.indexOf(s);
    if (i < 0) return false;
    this.sessions.splice(i, 1);
    this.deliveries.sessionLeft();
    return true;
  }

  /** The live sessions the (changed) entry no longer admits, with why. */
  inadmissible(): [BoundSession, LocalCloseCause][] {
    const e = this.entry;
    let allowedLeft = e.maxSessions;
    const out: [BoundSession, LocalCloseCause][] = [];
    for (const s of this.sessions) {
      let cause: LocalCloseCause | null = null;
      if (e.suspend) cause = 'bind suspended';
      else if (s.tag !== this.tag) cause = 'password changed';
      else if (s.systemId !== e.systemId) cause = 'system_id changed';
      else if (!e.allowedBindTypes.includes(s.bindType)) cause = 'bind type no longer allowed';
      else if (!this.allow.allows(s.peerAddress)) cause = 'address no longer allowed';
      else if (allowedLeft <= 0) cause = 'maxSessions lowered';
      if (cause) out.push([s, cause]);
      else allowedLeft--;
    }
    return out;
  }
}

/** Which system_id has which bind entries, and each bind's sessions. */
export class BindTable {
  private binds = new Map<string, BindState>();
  private bySystemId = new Map<string, BindState[]>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  get(key: string): BindState | undefined {
    return this.binds.get(key);
  }

  /** The entries a bind with this system_id may be meant for. */
  candidates(systemId: string): readonly BindState[] {
    return this.bySystemId.get(systemId) ?? [];
  }

  all(): IterableIterator<BindState> {
    return this.binds.values();
  }

  /** Replaces the entries (keeping the live state of those that stay); returns the removed ones. */
  set(entries: readonly ServerBindEntry[]): BindState[] {
    const next = new Map<string, BindState>();
    for (const e of entries) {
      const existing = this.binds.get(e.key);
      if (existing) existing.update(e, this.log);
      next.set(e.key, existing ?? new BindState(e, this.log));
    }
    const removed = [...this.binds].filter(([key]) => !next.has(key)).map(([, bs]) => bs);
    this.binds = next;
    const bySys = new Map<string, BindState[]>();
    for (const bs of next.values()) {
      const list = bySys.get(bs.entry.systemId);
      if (list) list.push(bs);
      else bySys.set(bs.entry.systemId, [bs]);
    }
    this.bySystemId = bySys;
    return removed;
  }

  sessions(key?: string): ServerSessionInfo[] {
    const states =
      key !== undefined ? [this.binds.get(key)].filter((b) => b !== undefined) : this.binds.values();
    const out: ServerSessionInfo[] = [];
    for (const bs of states) for (const s of bs.sessions) out.push(s.info);
    return out;
  }

  /** Live counters of one bind: bound sessions, deliver_sm awaiting a response, deliver_sm waiting to be sent. */
  stats(key: string): { sessions: number; inFlight: number; queued: number; bufferedBytes: number } {
    const bs = this.binds.get(key);
    if (!bs) return { sessions: 0, inFlight: 0, queued: 0, bufferedBytes: 0 };
    let inFlight = 0;
    let bufferedBytes = 0;
    for (const s of bs.sessions) {
      inFlight += s.link.inFlight;
      bufferedBytes += s.link.bufferedBytes;
    }
    return { sessions: bs.sessions.length, inFlight, queued: bs.deliveries.queued, bufferedBytes };
  }
}
