/**
 * Durations in specs are strings such as "30s", "1m30s" or "500ms": readable in YAML, and a
 * subset of Go's duration syntax so the apiserver's CEL `duration()` parses the same values
 * the gateway does (CRD rules compare them).
 */

/** Whole-string pattern shared by the zod schemas and the CRD's OpenAPI schema. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export class DurationError extends Error {
  override name = 'DurationError';
}

export function isDuration(text: string): boolean {
  return DURATION_RE.test(text);
}

/** "1m30s" -> 90000. Throws DurationError on anything else (no bare numbers: a unit is required). */
export function parseDuration(text: string): number {
  if (!DURATION_RE.test(text)) {
    throw new DurationError(
      `invalid duration "${text}": expected a number with a unit, e.g. "500ms", "30s", "1m", "1h30m"`,
    );
  }
  let total = 0;
  for (const m of text.matchAll(PART_RE)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  }
  return Math.round(total);
}

/** 90000 -> "1m30s"; the inverse of parseDuration for whole milliseconds (used in messages). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new DurationError(`cannot format duration ${ms}`);
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
