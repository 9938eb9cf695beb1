// Who is bound, and the proof operator tests need that a bind was never held twice at once:
// the highest number of concurrent sessions seen per system_id.
export type SimBindType = 'transmitter' | 'receiver' | 'transceiver';

export interface BindEvent {
  at: string;
  systemId: string;
  bindType: SimBindType;
  sessionId: string;
  peer: string;
  event: 'bound' | 'rejected' | 'unbound' | 'closed';
  status?: number;
  reason?: string;
}

export interface SystemBinds {
  systemId: string;
  active: number;
  activeByType: Record<SimBindType, number>;
  maxConcurrent: number;
  bindsOk: number;
  bindsRejected: number;
}

export class BindRegistry {
  private readonly bySystem = new Map<string, SystemBinds>();

  private entry(systemId: string): SystemBinds {
    let e = this.bySystem.get(systemId);
    if (!e) {
      e = {
        systemId,
        active: 0,
        activeByType: { transmitter: 0, receiver: 0, transceiver: 0 },
        maxConcurrent: 0,
        bindsOk: 0,
        bindsRejected: 0,
      };
      this.bySystem.set(systemId, e);
    }
    return e;
  }

  bound(systemId: string, type: SimBindType): void {
    const e = this.entry(systemId);
    e.active++;
    e.activeByType[type]++;
    e.bindsOk++;
    e.maxConcurrent = Math.max(e.maxConcurrent, e.active);
  }

  rejected(systemId: string): void {
    this.entry(systemId).bindsRejected++;
  }

  released(systemId: string, type: SimBindType): void {
    const e = this.entry(systemId);
    e.active = Math.max(0, e.active - 1);
    e.activeByType[type] = Math.max(0, e.activeByType[type] - 1);
  }

  list(): SystemBinds[] {
    return [...this.bySystem.values()].map((e) => ({ ...e, activeByType: { ...e.activeByType } }));
  }

  /** Forgets history but keeps the live counts, which describe sessions still open. */
  reset(): void {
    for (const [id, e] of this.bySystem) {
      if (e.active === 0) this.bySystem.delete(id);
      else {
        e.bindsOk = e.active;
        e.bindsRejected = 0;
        e.maxConcurrent = e.active;
      }
    }
  }
}
