/**
 * Who polls the core for a partner (server binds of one smscName). Every pod accepts the
 * partner's sessions, but the core's GET holds no lock: two pods polling for it would deliver
 * the same messages twice. So the poller's claim Lease is contended only by pods that hold a
 * receiver/transceiver session of the partner; the holder keeps it while it has one, and gives
 * it up once its last one ended and every message it took has been reported to the core.
 * Another pod with a session takes it at once after that, or after the holder's silence if the
 * holder died.
 */
import type { Logger } from '../log.js';
import type { ClaimTable } from './claims.js';
import { CLAIM_LABEL, SMSC_ANNOTATION } from './claims.js';
import { pollerLeaseName } from './ownership.js';

export interface PollerDeps {
  claims: ClaimTable;
  /** server bind keys with this smscName that have a receiver/transceiver session on this pod */
  receivingHere(smscName: string): string[];
  /** all server bind keys with this smscName known here */
  bindsOf(smscName: string): string[];
  /** the set of server bind keys this pod may poll for changed */
  grant(keys: string[]): void;
  /** resolves once the bind's taken messages have all been reported (false after timeoutMs) */
  idle(key: string, timeoutMs: number): Promise<boolean>;
  idleTimeoutMs: number;
  acquireRetryMs: number;
  log: Logger;
}

export class PartnerPollers {
  private readonly granted = new Map<string, string[]>();
  /** last holder we logged declining for, per smscName (one line per change, not per retry) */
  private readonly declinedFor = new Map<string, string>();

  constructor(private readonly d: PollerDeps) {}

  /** Every grant is void (fenced): no pump of this pod polls for any partner now. */
  revokeAll(): void {
    if (this.granted.size === 0) return;
    this.granted.clear();
    this.push();
  }

  grantedKeys(): string[] {
    return [...this.granted.values()].flat();
  }

  private push(): void {
    this.d.grant(this.grantedKeys());
  }

  private setGrant(smscName: string, keys: string[]): void {
    const prev = this.granted.get(smscName);
    if (keys.length === 0) {
      if (!prev) return;
      this.granted.delete(smscName);
    } else {
      if (prev && prev.join('\n') === keys.join('\n')) return;
      this.granted.set(smscName, keys);
    }
    this.push();
  }

  async reconcile(smscName: string): Promise<{ requeueAfterMs?: number }> {
    const d = this.d;
    const name = pollerLeaseName(smscName);
    const receiving = d.receivingHere(smscName).sort();
    const held = d.claims.held(name);
    if (receiving.length > 0) {
      if (!held) {
        this.setGrant(smscName, []);
        const r = await d.claims.acquire(name, {
          labels: { [CLAIM_LABEL]: 'poller' },
          annotations: { [SMSC_ANNOTATION]: smscName },
        });
        if (!r.held) {
          if (this.declinedFor.get(smscName) !== r.holder) {
            this.declinedFor.set(smscName, r.holder);
            d.log.info(
              { smscName, binds: receiving, poller: r.holder },
              'not polling the core for this partner: another pod with a receiver session polls for it',
            );
          }
          return { requeueAfterMs: d.acquireRetryMs };
        }
        this.declinedFor.delete(smscName);
        d.log.info({ smscName, binds: receiving }, 'polling the core for this partner');
      }
      this.setGrant(smscName, receiving);
      return {};
    }
    this.declinedFor.delete(smscName);
    const wasGranted = this.granted.get(smscName) ?? [];
    this.setGrant(smscName, []);
    // Not ours (or a Lease left naming us after a fence, freed below once we are idle).
    if (!held && !d.claims.namingMe().includes(name)) return {};
    // Our last receiver session is gone: what we took must be reported before anyone else polls,
    // or the next poller would take the same messages again.
    const keys = [...new Set([...wasGranted, ...d.bindsOf(smscName)])];
    const idle = await Promise.all(keys.map((k) => d.idle(k, d.idleTimeoutMs)));
    if (idle.some((ok) => !ok)) {
      d.log.warn({ smscName }, 'partner poller still has unreported messages; keeping its claim');
      return { requeueAfterMs: d.acquireRetryMs };
    }
    await d.claims.release(name);
    d.log.info({ smscName }, 'stopped polling for this partner: no receiver session here');
    return {};
  }
}
