import { safeEqual } from '../auth.js';
import { Status, type BindType } from '../errors.js';
import type { BindState } from './bind-table.js';
import type { BindRejectionCode } from './types.js';

export interface BindAttempt {
  systemId: string;
  password: string;
  bindType: BindType;
  peerAddress: string;
}

export type AuthResult =
  | { ok: true; bind: BindState }
  | {
      ok: false;
      status: number;
      code: BindRejectionCode;
      /** For people: names the limit or bind type. */
      reason: string;
      /** Counts toward the slow-down of the address (a guess, not a limit). */
      failure: boolean;
      /** The entry it was meant for, once the password matched one. */
      bind: BindState | undefined;
    };

/**
 * Decides a partner's bind against the entries for its system_id: password, address allowlist,
 * suspension, bind type, maxSessions — in that order, so a guesser learns nothing past a wrong
 * password. The status codes are the ones the seeds' providers answer with.
 */
export function authenticate(candidates: readonly BindState[], a: BindAttempt): AuthResult {
  let bs: BindState | undefined;
  // Compare against every candidate so timing does not reveal which one matched.
  for (const cand of candidates) {
    if (safeEqual(a.password, cand.entry.password) && !bs) bs = cand;
  }
  const no = (status: number, code: BindRejectionCode, reason: string, failure: boolean): AuthResult => ({
    ok: false,
    status,
    code,
    reason,
    failure,
    bind: bs,
  });
  if (candidates.length === 0) {
    safeEqual(a.password, a.password); // same work as a real comparison
    return no(Status.ESME_RINVSYSID, 'unknown_system_id', 'unknown system_id', true);
  }
  if (!bs) return no(Status.ESME_RINVPASWD, 'wrong_password', 'wrong password', true);
  if (!bs.allow.allows(a.peerAddress)) {
    return no(Status.ESME_RBINDFAIL, 'address_not_allowed', 'address not in ipAllowlist', true);
  }
  if (bs.entry.suspend) return no(Status.ESME_RBINDFAIL, 'suspended', 'bind suspended', false);
  if (!bs.entry.allowedBindTypes.includes(a.bindType)) {
    return no(Status.ESME_RINVBNDSTS, 'bind_type_not_allowed', `bind type ${a.bindType} not allowed`, false);
  }
  if (bs.sessions.length >= bs.entry.maxSessions) {
    // The seeds' providers answer "already bound" when the account's sessions are used up.
    return no(Status.ESME_RALYBND, 'max_sessions', `maxSessions (${bs.entry.maxSessions}) reached`, false);
  }
  return { ok: true, bind: bs };
}
