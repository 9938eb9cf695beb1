/**
 * The receipt store: what a delivery receipt needs to find its message after the submit, kept
 * where every gateway pod can reach it. Two halves:
 *
 * - carrier ids: carrier message id → core id, written at submit_sm_resp, read when the
 *   carrier's receipt arrives (often on another session, maybe on another pod, after a restart);
 *   a long message's parts form a group so one outcome covers the whole message.
 * - partner receipts: partners' submit_sm waiting for their final state, so any pod with a
 *   receiver session of that partner can send the receipt.
 *
 * Keys are scoped by `namespace/smscName`. Writes never make traffic wait: record() returns at
 * once and the implementation batches; reads that cannot be answered reject with
 * ReceiptStoreUnavailable so the caller can ask the peer to retry instead of dropping a receipt.
 */
import type { ReceiptState } from '../codec/index.js';
import type { BindLabels } from '../metrics.js';

export interface CarrierIdRecord {
  coreId: string;
  /** Parts the message was sent in (1 for a short message). */
  parts: number;
  /** The canonical form of the carrier id that matched (a receipt may write it in another base). */
  key: string;
}

/**
 * What to do with one part's receipt of a long message: report the whole message's outcome now
 * (with every part's carrier id), wait for the other parts, or nothing (already reported).
 */
export type PartVerdict =
  | { verdict: 'report'; carrierIds: string[] }
  | { verdict: 'wait' }
  | { verdict: 'finished' };

/** The store could not answer (Redis down or slow); the caller decides what to tell the peer. */
export class ReceiptStoreUnavailable extends Error {
  constructor(
    readonly op: string,
    cause: unknown,
  ) {
    super(`receipt store unavailable (${op}): ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'ReceiptStoreUnavailable';
  }
}

export interface TrackedSubmit {
  bindKey: string;
  labels: BindLabels;
  coreId: string;
  /** registered_delivery of the partner's submit_sm. */
  registeredDelivery: number;
  /** The partner's addresses; the receipt goes back from destination to source. */
  source: { addr: string; ton: number; npi: number };
  destination: { addr: string; ton: number; npi: number };
  /** The first characters of the message, for the receipt's text field. */
  text: string;
  submittedAt: Date;
}

export interface FinalState {
  state: ReceiptState;
  err: string;
  doneAt: Date;
}

/** A tracked partner submit as the queue holds it. */
export interface QueuedReceipt extends TrackedSubmit {
  /** When it is next looked at (ms since the epoch). */
  due: number;
  /** Core checks done so far (picks the next wait). */
  checks: number;
  /** Known once the core showed a final state; then only the sending is left. */
  final?: FinalState;
}

/**
 * Partner submits waiting for their receipt. A claim leases entries: they are not handed out
 * again until `leaseMs` has passed, so a pod that dies mid-check only delays them. Every method
 * that ends an entry says whether this call ended it, so each ending is counted once across pods.
 */
export interface PartnerReceiptQueue {
  /** Adds (batched); entries pushed out by the per-bind limit come back from the promise. */
  add(e: QueuedReceipt, maxPerBind: number): Promise<QueuedReceipt[]>;
  /** Due entries of a bind, leased to the caller until now + leaseMs. */
  claim(bindKey: string, now: number, max: number, leaseMs: number): Promise<QueuedReceipt[]>;
  /** Stores new due/checks/final of an entry still queued; false when it was ended meanwhile. */
  update(e: QueuedReceipt): Promise<boolean>;
  /** Ends an entry; true if this call removed it. */
  remove(bindKey: string, coreId: string): Promise<boolean>;
  /** Ends and returns the entries submitted before `before`. */
  expire(bindKey: string, before: number): Promise<QueuedReceipt[]>;
  /** Ends and returns every entry of a bind (the bind was deleted). */
  dropBind(bindKey: string): Promise<QueuedReceipt[]>;
  /** Entries of a bind still queued. */
  count(bindKey: string): Promise<number>;
  /** Whether entries outlive this process (true for Redis): a stop then does not drop them. */
  readonly durable: boolean;
}

export interface ReceiptStore {
  readonly kind: 'memory' | 'redis';
  /** Records the carrier ids of a message just accepted (parts in order). Never waits, never throws. */
  record(scope: string, coreId: string, carrierIds: string[]): void;
  /** What this process can answer without a round trip (ids it recorded itself, recently). */
  peek(scope: string, carrierId: string): CarrierIdRecord | undefined;
  /** The record of a receipt's carrier id; undefined when unknown or expired; ReceiptStoreUnavailable. */
  lookup(scope: string, carrierId: string): Promise<CarrierIdRecord | undefined>;
  /** One part's final outcome of a long message (key: CarrierIdRecord.key). */
  partOutcome(
    scope: string,
    coreId: string,
    key: string,
    outcome: 'delivered' | 'failed',
  ): Promise<PartVerdict>;
  /** The report of a finished long message did not reach the core: let a retried receipt finish it again. */
  reopen(scope: string, coreId: string, key: string): Promise<void>;
  readonly partnerReceipts: PartnerReceiptQueue;
  /** Writes still waiting for the store (0 for memory). */
  readonly pendingWrites: number;
  /** Tries to write what is buffered within `ms`, then closes connections. */
  close(ms?: number): Promise<void>;
}
