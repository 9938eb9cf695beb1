/**
 * Why an SMPP link closed. Code that reacts to a close matches on `kind` (and `cause`), never on
 * the text: describeClose() gives the text for logs, events and status messages.
 */
export type CloseReason =
  /** The peer closed the connection without a reason we know of. */
  | { kind: 'peer-closed' }
  | { kind: 'socket-error'; message: string }
  /** The peer sent unbind; we answered and closed (or let it close first). */
  | { kind: 'unbind-by-peer' }
  /** The byte stream lost its SMPP framing. */
  | { kind: 'decode-error'; message: string }
  /** No bind completed within the bind timeout. */
  | { kind: 'bind-timeout'; ms: number }
  /** Our bind was answered with an error (client side); `message` is the error's. */
  | { kind: 'bind-failed'; message: string }
  /** We refused the peer's bind (server side). */
  | { kind: 'bind-rejected'; reason: string }
  /** An enquire_link of ours went unanswered (the client's dead-peer check). */
  | { kind: 'enquire-timeout'; ms: number }
  /** A request of ours (enquire_link included) went unanswered (the listener's dead-peer check). */
  | { kind: 'peer-timeout'; ms: number }
  /** We closed it, for the given cause. */
  | { kind: 'local'; cause: LocalCloseCause };

export type LocalCloseCause =
  | 'stopped'
  | 'listener closing'
  | 'bind removed'
  | 'bind suspended'
  | 'password changed'
  | 'system_id changed'
  | 'bind type no longer allowed'
  | 'address no longer allowed'
  | 'maxSessions lowered';

export function describeClose(r: CloseReason): string {
  switch (r.kind) {
    case 'peer-closed':
      return 'closed by peer';
    case 'socket-error':
      return `socket error: ${r.message}`;
    case 'unbind-by-peer':
      return 'unbind by peer';
    case 'decode-error':
      return `decode error: ${r.message}`;
    case 'bind-timeout':
      return `no bind within ${r.ms} ms`;
    case 'bind-failed':
      return r.message;
    case 'bind-rejected':
      return `bind rejected: ${r.reason}`;
    case 'enquire-timeout':
      return `enquire_link not answered within ${r.ms} ms`;
    case 'peer-timeout':
      return `partner did not answer within ${r.ms} ms`;
    case 'local':
      return r.cause;
  }
}
