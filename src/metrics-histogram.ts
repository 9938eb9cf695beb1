import type { LabelValues, Metric, Registry } from 'prom-client';

/**
 * A histogram for per-message observations (submit latency, core request duration), exposed
 * through a prom-client Registry exactly as prom-client's own Histogram is (a test compares the
 * text). prom-client's observe() builds a closure, validates the labels and builds a label key on
 * every call — with the seven bind labels, several microseconds per message. Here a series is a
 * handle holding its bucket counts in an array: labels() finds it once, observe() is arithmetic.
 */
export interface HistogramSeries {
  observe(value: number): void;
}

type Exposition = { name: string; help: string; type: string; aggregator: string; values: ExposedValue[] };

interface Series extends HistogramSeries {
  readonly labels: LabelValues<string>;
  readonly counts: number[];
  sum: number;
  count: number;
}

interface ExposedValue {
  value: number;
  metricName: string;
  labels: LabelValues<string>;
  sharedLabels?: LabelValues<string>;
}

export interface FoldedHistogramConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  buckets: readonly number[];
  registers: Registry[];
}

export class FoldedHistogram<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(c: FoldedHistogramConfig<L>) {
    this.name = c.name;
    this.help = c.help;
    this.labelNames = c.labelNames;
    this.bounds = [...c.buckets].sort((a, b) => a - b);
    // The registry needs only name, type, help and get(); it holds prom-client's own metric types.
    for (const r of c.registers) r.registerMetric(this as unknown as Metric);
  }

  /** The series of these labels, created on first use. Keep the handle on hot paths. */
  labels(labels: LabelValues<L>): HistogramSeries {
    const key = this.key(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      const counts = new Array<number>(this.bounds.length + 1).fill(0);
      const bounds = this.bounds;
      const series: Series = {
        labels: { ...labels },
        counts,
        sum: 0,
        count: 0,
        observe(value: number): void {
          if (!Number.isFinite(value)) return;
          let i = 0;
          while (i < bounds.length && value > (bounds[i] as number)) i++;
          (counts[i] as number)++;
          series.sum += value;
          series.count++;
        },
      };
      s = series;
      this.series.set(key, s);
    }
    return s;
  }

  observe(labels: LabelValues<L>, value: number): void {
    this.labels(labels).observe(value);
  }

  remove(labels: LabelValues<L>): void {
    this.series.delete(this.key(labels));
  }

  reset(): void {
    this.series.clear();
  }

  /** As prom-client's Histogram.get(): bucket labels include `le`. */
  get(): Promise<Exposition> {
    const values = this.values().map((v) => ({
      value: v.value,
      metricName: v.metricName,
      labels: { ...v.labels, ...(v.sharedLabels ?? {}) },
    }));
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  /** What the registry prints: `le` first, then the series' labels, as prom-client's Histogram. */
  getForPromString(): Promise<Exposition> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.values(),
    });
  }

  private values(): ExposedValue[] {
    const out: ExposedValue[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i] as number;
        out.push({ value: acc, metricName: `${this.name}_bucket`, labels: { le }, sharedLabels: s.labels });
      });
      out.push({
        value: s.count,
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf' },
        sharedLabels: s.labels,
      });
      out.push({ value: s.sum, metricName: `${this.name}_sum`, labels: s.labels });
      out.push({ value: s.count, metricName: `${this.name}_count`, labels: s.labels });
    }
    return out;
  }

  private key(labels: LabelValues<L>): string {
    for (const n of Object.keys(labels))
      if (!(this.labelNames as readonly string[]).includes(n))
        throw new Error(`${this.name}: unknown label "${n}"`);
    let k = '';
    for (const n of this.labelNames) {
      const v = labels[n];
      if (v === undefined) throw new Error(`${this.name}: label "${n}" is missing`);
      k += `${String(v)}\u0000`;
    }
    return k;
  }
}
