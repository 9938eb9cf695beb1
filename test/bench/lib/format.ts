/** 7412.3 -> "7,412 msg/s" */
export function rate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} msg/s`;
}

/** CPU milliseconds per message with enough digits to compare engines (0.0813 ms). */
export function msPerMsg(ms: number): string {
  return `${ms.toPrecision(3)} ms CPU/msg`;
}

export function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
}

/** A plain aligned table for bench output. */
export function table(rows: (string | number)[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => String(c).padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Parses `--name value` flags for bench entry points. */
export function intFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** The median; the mean of the middle two for an even count. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}
