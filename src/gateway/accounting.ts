/**
 * Where every message taken from the core ended. The invariant the gateway keeps, under any
 * fault: taken == sent + returned + failed + released + inFlight, and inFlight drains to 0 once
 * traffic stops. "Returned" is a PUT (the core counts an attempt and backs off); "released" is a
 * message never written to the peer, left untouched in the core's queue (its GET holds no lock),
 * so a stop or a lost session does not spend a retry attempt on it. Outcomes are counted when they are decided (the carrier's answer); whether the core
 * has been told yet is tracked apart (reportsPending / reportsAbandoned).
 */
export type Outcome = 'sent' | 'returned' | 'failed' | 'released';

export interface AccountingSnapshot {
  taken: number;
  sent: number;
  returned: number;
  failed: number;
  /** Never written to the peer; left in the core's queue for a later poll. */
  released: number;
  /** Taken and not yet decided. */
  inFlight: number;
  /** Decided, and the core's PATCH/PUT not yet acknowledged. */
  reportsPending: number;
  /** Reports given up on (the core stayed unreachable past shutdown). */
  reportsAbandoned: number;
}

export class Accounting {
  taken = 0;
  sent = 0;
  returned = 0;
  failed = 0;
  released = 0;
  reportsPending = 0;
  reportsAbandoned = 0;

  constructor(private readonly parent?: Accounting) {}

  take(n = 1): void {
    this.taken += n;
    this.parent?.take(n);
  }

  settle(outcome: Outcome): void {
    this[outcome]++;
    this.parent?.settle(outcome);
  }

  reportStarted(): void {
    this.reportsPending++;
    this.parent?.reportStarted();
  }

  reportDone(abandoned = false): void {
    this.reportsPending--;
    if (abandoned) this.reportsAbandoned++;
    this.parent?.reportDone(abandoned);
  }

  get inFlight(): number {
    return this.taken - this.sent - this.returned - this.failed - this.released;
  }

  snapshot(): AccountingSnapshot {
    return {
      taken: this.taken,
      sent: this.sent,
      returned: this.returned,
      failed: this.failed,
      released: this.released,
      inFlight: this.inFlight,
      reportsPending: this.reportsPending,
      reportsAbandoned: this.reportsAbandoned,
    };
  }
}
