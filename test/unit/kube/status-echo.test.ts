import { describe, expect, it } from 'vitest';
import { OwnStatusWrites, type EchoMeta } from '../../../src/kube/status-echo.js';

const base: EchoMeta = {
  resourceVersion: '10',
  generation: 3,
  finalizers: ['smpp.io/session'],
  labels: { team: 'a' },
  annotations: { note: 'x' },
};

describe('OwnStatusWrites', () => {
  it('knows the update our own last write stored, once', () => {
    const w = new OwnStatusWrites();
    w.record('ns/b', '11');
    expect(w.isEcho('ns/b', { ...base, resourceVersion: '11' }, base)).toBe(true);
    // The same resourceVersion again (a relist's replay) is no longer ours to skip.
    expect(w.isEcho('ns/b', { ...base, resourceVersion: '11' }, base)).toBe(false);
    expect(w.size).toBe(0);
  });

  it('reconciles what someone else wrote, and a write of ours that a later one replaced', () => {
    const w = new OwnStatusWrites();
    expect(w.isEcho('ns/b', { ...base, resourceVersion: '11' }, base)).toBe(false);
    w.record('ns/b', '11');
    w.record('ns/b', '12');
    expect(w.isEcho('ns/b', { ...base, resourceVersion: '11' }, base)).toBe(false);
    expect(w.isEcho('ns/other', { ...base, resourceVersion: '12' }, base)).toBe(false);
    expect(w.isEcho('ns/b', { ...base, resourceVersion: '12' }, { ...base, resourceVersion: '11' })).toBe(
      true,
    );
  });

  it('does not hide a change collapsed with our write (an update after a relist)', () => {
    const changes: [string, EchoMeta][] = [
      ['spec (generation)', { generation: 4 }],
      ['deletion', { deletionTimestamp: '2026-12-07T14:00:00Z' }],
      ['finalizers', { finalizers: [] }],
      ['labels', { labels: { team: 'b' } }],
      ['annotations', { annotations: {} }],
    ];
    for (const [what, change] of changes) {
      const w = new OwnStatusWrites();
      w.record('ns/b', '11');
      expect(w.isEcho('ns/b', { ...base, ...change, resourceVersion: '11' }, base), what).toBe(false);
    }
    const w = new OwnStatusWrites();
    w.record('ns/b', '11');
    // An add (no copy before) is never an echo.
    expect(w.isEcho('ns/b', { ...base, resourceVersion: '11' }, undefined)).toBe(false);
  });

  it('forgets a bind that is gone, and ignores a response without a resourceVersion', () => {
    const w = new OwnStatusWrites();
    w.record('ns/b', '11');
    w.record('ns/c', undefined);
    w.forget('ns/b');
    expect(w.size).toBe(0);
    expect(w.isEcho('ns/b', { ...base, resourceVersion: '11' }, base)).toBe(false);
  });
});
