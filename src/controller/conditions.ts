/**
 * metav1.Condition handling. kstatus, Flux and Argo CD read `Ready`; they treat a changing
 * lastTransitionTime as a new transition, so it only moves when the condition's status does.
 */

import type { Condition } from '../api/index.js';

export type { Condition };

/** A condition as computed by a reconcile, before lastTransitionTime is settled. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** Returns a new list with `update` merged in; other condition types are kept untouched. */
export function setCondition(
  existing: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const list = existing ? [...existing] : [];
  const i = list.findIndex((c) => c.type === update.type);
  const prev = i >= 0 ? list[i] : undefined;
  const lastTransitionTime =
    prev && prev.status === update.status ? prev.lastTransitionTime : formatTime(now);
  const next: Condition = { ...update, lastTransitionTime };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/** metav1.Time has second precision; a finer value would differ from what the apiserver echoes back. */
export function formatTime(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
