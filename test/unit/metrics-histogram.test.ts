import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FoldedHistogram } from '../../src/metrics-histogram.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ['bind_name', 'namespace'] as const;

function pair(): {
  ours: FoldedHistogram<(typeof LABELS)[number]>;
  theirs: Histogram;
  a: Registry;
  b: Registry;
} {
  const a = new Registry();
  const b = new Registry();
  const config = { name: 'x_latency_seconds', help: 'Latency', labelNames: [...LABELS], buckets: BUCKETS };
  return {
    ours: new FoldedHistogram({ ...config, registers: [a] }),
    theirs: new Histogram({ ...config, registers: [b] }),
    a,
    b,
  };
}

describe('FoldedHistogram', () => {
  it("prints exactly what prom-client's Histogram prints for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom('vodafone', 'att', 'o2'),
            fc.constantFrom('sms', 'ops'),
            fc.oneof(fc.double({ min: 0, max: 20, noNaN: true }), fc.constantFrom(...BUCKETS)),
          ),
          { maxLength: 60 },
        ),
        async (obs) => {
          const { ours, theirs, a, b } = pair();
          for (const [bind_name, namespace, v] of obs) {
            ours.labels({ bind_name, namespace }).observe(v);
            theirs.labels({ bind_name, namespace }).observe(v);
          }
          expect(await a.metrics()).toBe(await b.metrics());
          // get() (JSON, the bench reads it): the same samples; prom-client adds empty exemplar fields.
          const samples = (m: { values: { value: number; metricName?: string; labels: object }[] }) =>
            m.values.map(({ value, metricName, labels }) => ({ value, metricName, labels }));
          expect(samples(await ours.get())).toEqual(samples(await theirs.get()));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps one series per label set; remove and reset drop them; unknown labels are refused', async () => {
    const { ours, a } = pair();
    const s = ours.labels({ bind_name: 'vodafone', namespace: 'sms' });
    expect(ours.labels({ namespace: 'sms', bind_name: 'vodafone' })).toBe(s);
    s.observe(0.02);
    ours.observe({ bind_name: 'att', namespace: 'sms' }, 3);
    expect(await a.metrics()).toContain('x_latency_seconds_count{bind_name="att",namespace="sms"} 1');
    ours.remove({ bind_name: 'att', namespace: 'sms' });
    const text = await a.metrics();
    expect(text).not.toContain('bind_name="att"');
    expect(text).toContain('x_latency_seconds_bucket{le="0.025",bind_name="vodafone",namespace="sms"} 1');
    ours.reset();
    expect(await a.metrics()).not.toContain('vodafone');
    expect(() => ours.labels({ bind_name: 'x', namespace: 'y', extra: 'z' } as never)).toThrow(
      /unknown label/,
    );
  });
});
