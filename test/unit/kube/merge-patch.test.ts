import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergePatchDiff } from '../../../src/kube/status-writer.js';

/** RFC 7386 apply, to check that applying the diff yields the target. */
function apply(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = apply(out[k], v);
  }
  return out;
}

describe('mergePatchDiff', () => {
  it('is undefined for equal values and minimal otherwise', () => {
    expect(mergePatchDiff({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] })).toBeUndefined();
    expect(mergePatchDiff({ a: 1, b: { c: 1, d: 2 } }, { a: 1, b: { c: 1, d: 3 } })).toEqual({ b: { d: 3 } });
    expect(mergePatchDiff({ a: 1, gone: 'x' }, { a: 1 })).toEqual({ gone: null });
    expect(mergePatchDiff({ list: [1, 2] }, { list: [1] })).toEqual({ list: [1] });
    expect(mergePatchDiff({ t: 1 }, { t: 1, when: new Date(0) })).toEqual({
      when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('applied to the source gives the target (null-free JSON objects)', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.boolean(),
        fc.integer(),
        fc.string(),
        fc.array(tie('value'), { maxLength: 3 }),
        tie('object'),
      ),
      object: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), tie('value'), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(json.object, json.object, (from, to) => {
        const patch = mergePatchDiff(from, to);
        expect(patch === undefined ? from : apply(from, patch)).toEqual(to);
      }),
    );
  });
});
