/**
 * Shards of client binds: which of the SHARDS claims this pod takes, keeps or hands over, and
 * therefore which groups (smscName) of client binds it runs. A handoff stops every bind of the
 * shard (a clean unbind, and the messages they hold reported to the core) before the claim is
 * released, so the next pod never runs a group while this one still does.
 */
import type { Logger } from '../log.js';
import type { ClaimTable } from './claims.js';
import { CLAIM_LABEL, SHARD_LABEL } from './claims.js';
import { decideOwnership, shardKey, shardLeaseName, shardOf } from './ownership.js';
import type { GroupOwnership } from './reconcile.js';

export interface ShardDeps {
  self: string;
  claims: ClaimTable;
  livePods(): string[];
  preferredOwner(key: string, live: string[]): string | undefined;
  /** the client binds of one shard: key, namespace, name */
  bindsOf(shard: number): { key: string; namespace: string; name: string }[];
  /** stop running one client bind here (level-triggered; flushed at once) */
  stopClient(key: string): void;
  clientStopped(namespace: string, name: string, timeoutMs: number): Promise<void>;
  /** the shard's binds must reconcile again (it was taken or given up) */
  wakeBinds(shard: number): void;
  unbindTimeoutMs: number;
  acquireRetryMs: number;
  log: Logger;
}

export class ShardOwnership implements GroupOwnership {
  /** shards being handed over: their binds no longer run here, though the claim is still ours */
  private readonly releasing = new Set<number>();

  constructor(private readonly d: ShardDeps) {}

  private holds(shard: number): boolean {
    return !this.releasing.has(shard) && this.d.claims.held(shardLeaseName(shard));
  }

  runs(smscName: string): boolean {
    return this.holds(shardOf(smscName));
  }

  prefers(smscName: string): boolean {
    return this.d.preferredOwner(shardKey(shardOf(smscName)), this.d.livePods()) === this.d.self;
  }

  held(): number[] {
    const out: number[] = [];
    for (const name of this.d.claims.heldNames()) {
      const m = /^smpp-shard-(\d+)$/.exec(name);
      if (m && !this.releasing.has(Number(m[1]))) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** One shard's reconcile: take it, keep it, or hand it to its preferred pod. */
  async reconcile(shard: number): Promise<{ requeueAfterMs?: number }> {
    const d = this.d;
    const name = shardLeaseName(shard);
    const preferred = d.preferredOwner(shardKey(shard), d.livePods());
    const holding = this.holds(shard);
    const decision = decideOwnership({ self: d.self, preferred, holding, wanted: true });
    if (decision === 'acquire') {
      const r = await d.claims.acquire(name, {
        labels: { [CLAIM_LABEL]: 'shard', [SHARD_LABEL]: String(shard) },
      });
      if (!r.held) {
        d.log.debug({ shard, holder: r.holder }, 'shard still held elsewhere; waiting');
        return { requeueAfterMs: d.acquireRetryMs };
      }
      d.wakeBinds(shard);
      return {};
    }
    if (decision === 'release') {
      await this.handOver(shard, preferred ?? '');
      return {};
    }
    if (decision === 'none' && preferred !== undefined && d.claims.holderOf(name) === d.self) {
      // The Lease still names us from before a fence or a restart, yet another pod is preferred:
      // free it now rather than make that pod wait out our silence.
      await d.claims.release(name);
    }
    return {};
  }

  private async handOver(shard: number, to: string): Promise<void> {
    const d = this.d;
    this.releasing.add(shard);
    try {
      const binds = d.bindsOf(shard);
      d.log.info({ shard, to, binds: binds.length }, 'handing shard to its preferred pod');
      for (const b of binds) d.stopClient(b.key);
      await Promise.all(binds.map((b) => d.clientStopped(b.namespace, b.name, d.unbindTimeoutMs)));
      await d.claims.release(shardLeaseName(shard));
    } finally {
      this.releasing.delete(shard);
    }
    d.wakeBinds(shard);
  }
}
