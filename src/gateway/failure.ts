/**
 * What a refused or unanswered request means for the message it carried: failed for good,
 * returned to the core for a retry, or released untouched.
 */
import { isTemporaryStatus, SmppEncodeError, SmppStatusError, SmppUnsentError } from '../smpp/errors.js';
import type { Decision } from './mt-pump.js';

export interface Failure {
  permanent: boolean;
  reason: string;
  /** Never written to the peer (queued when the session went away). */
  unsent: boolean;
}

export function classify(err: unknown): Failure {
  const reason = err instanceof Error ? err.message : String(err);
  if (err instanceof SmppStatusError)
    return { permanent: !isTemporaryStatus(err.status), reason, unsent: false };
  // The PDU could not even be encoded (bad address or body): sending it again will not help.
  // Any other exception (a bug of ours, say) is not the message's fault: it is retried.
  if (err instanceof SmppEncodeError) return { permanent: true, reason, unsent: false };
  // Timeouts and closed sessions: the carrier may never have seen it; try again later.
  return { permanent: false, reason, unsent: err instanceof SmppUnsentError };
}

/**
 * The decision for a message none of whose parts was accepted. Parts never written to the peer
 * are released rather than returned: a PUT would spend one of the core's retry attempts, and
 * start its backoff, on a message the carrier never saw.
 */
export function failedDecision(failures: Failure[]): Exclude<Decision, { outcome: 'sent' }> {
  const permanent = failures.find((f) => f.permanent);
  if (permanent) return { outcome: 'failed', reason: permanent.reason };
  const reason = failures[0]?.reason ?? 'unknown';
  return failures.every((f) => f.unsent) ? { outcome: 'released', reason } : { outcome: 'returned', reason };
}
