import { describe, expect, it } from 'vitest';
import { setCondition } from '../../../src/controller/conditions.js';
import { clientStatus, sameStatus, serverStatus } from '../../../src/controller/status.js';

const target = { host: 'smsc.example', port: 2775, systemId: 'sys', bindType: 'transceiver' };
const t0 = new Date('2026-01-01T00:00:00.250Z');
const t1 = new Date('2026-01-01T00:05:00Z');

describe('conditions', () => {
  it('moves lastTransitionTime only when the status changes', () => {
    const a = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'Connecting', message: 'm' },
      t0,
    );
    expect(a[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'BindFailed', message: 'x' }, t1);
    expect(b[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(b[0]?.reason).toBe('BindFailed');
    const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Bound', message: 'ok' }, t1);
    expect(c[0]?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
    expect(c).toHaveLength(1);
  });
});

describe('clientStatus', () => {
  it('is Ready=True when the Gateway reports Bound', () => {
    const s = clientStatus({
      generation: 4,
      podName: 'pod-a',
      suspended: false,
      runtime: { phase: 'Bound', boundSince: t0 },
      target,
      now: t1,
    });
    expect(s).toMatchObject({
      phase: 'Bound',
      gatewayPod: 'pod-a',
      observedGeneration: 4,
      boundSince: '2026-01-01T00:00:00Z',
    });
    expect(s.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'True',
      reason: 'Bound',
      observedGeneration: 4,
    });
  });

  it('surfaces the SMPP error of a failed bind', () => {
    const lastError = 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)';
    const s = clientStatus({
      podName: 'p',
      suspended: false,
      runtime: { phase: 'Reconnecting', lastError },
      target,
      now: t1,
    });
    expect(s).toMatchObject({ phase: 'Reconnecting', lastError });
    expect(s.conditions?.[0]).toMatchObject({ status: 'False', reason: 'BindFailed', message: lastError });
  });

  it('puts Secret problems and suspension before the runtime', () => {
    const err = {
      reason: 'SecretNotFound' as const,
      secret: 'c',
      message: 'password: Secret ns/c not found',
    };
    const s = clientStatus({
      podName: 'p',
      suspended: false,
      resolutionError: err,
      runtime: { phase: 'Bound' },
      target,
      now: t1,
    });
    expect(s.phase).toBe('Error');
    expect(s.conditions?.[0]?.reason).toBe('SecretNotFound');
    const p = clientStatus({ podName: 'p', suspended: true, target, now: t1 });
    expect(p.phase).toBe('Suspended');
    expect(p.conditions?.[0]).toMatchObject({ status: 'False', reason: 'Suspended' });
  });

  it('compares equal to itself recomputed later, so nothing is rewritten', () => {
    const first = clientStatus({
      podName: 'p',
      suspended: false,
      runtime: { phase: 'Bound', boundSince: t0 },
      target,
      now: t0,
    });
    const again = clientStatus({
      podName: 'p',
      suspended: false,
      runtime: { phase: 'Bound', boundSince: t0 },
      previous: JSON.parse(JSON.stringify(first)),
      target,
      now: t1,
    });
    expect(sameStatus(first, again)).toBe(true);
    const changed = clientStatus({
      podName: 'q',
      suspended: false,
      runtime: { phase: 'Bound', boundSince: t0 },
      previous: first,
      target,
      now: t1,
    });
    expect(sameStatus(first, changed)).toBe(false);
  });
});

describe('serverStatus', () => {
  it('replaces only this pod’s sessions and prunes pods that are gone', () => {
    const previous = {
      sessions: [
        {
          pod: 'a',
          peerAddress: '127.0.0.1:1',
          bindType: 'transceiver' as const,
          since: '2026-01-01T00:00:00Z',
        },
        {
          pod: 'b',
          peerAddress: '127.0.0.1:2',
          bindType: 'receiver' as const,
          since: '2026-01-01T00:00:00Z',
        },
        {
          pod: 'dead',
          peerAddress: '127.0.0.1:3',
          bindType: 'receiver' as const,
          since: '2026-01-01T00:00:00Z',
        },
      ],
    };
    const s = serverStatus({
      podName: 'a',
      suspended: false,
      runtime: {
        phase: 'Bound',
        sessions: [{ id: 'new-a', peerAddress: '::1', peerPort: 4000, bindType: 'transmitter', since: t1 }],
      },
      previous,
      livePods: new Set(['a', 'b']),
      now: t1,
    });
    expect(s.sessions?.map((e) => `${e.pod}/${e.peerAddress}`)).toEqual(['a/[::1]:4000', 'b/127.0.0.1:2']);
    expect(s.phase).toBe('Bound');
    expect(s.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Accepting' });
  });

  it('keeps a young entry of a pod not yet seen live (membership lag), drops an old one', () => {
    const previous = {
      sessions: [
        {
          pod: 'new',
          peerAddress: '127.0.0.1:1',
          bindType: 'receiver' as const,
          since: '2026-01-01T00:04:59Z',
        },
        {
          pod: 'gone',
          peerAddress: '127.0.0.1:2',
          bindType: 'receiver' as const,
          since: '2026-01-01T00:00:00Z',
        },
      ],
    };
    const s = serverStatus({
      podName: 'a',
      suspended: false,
      previous,
      livePods: new Set(['a']),
      pruneGraceMs: 8000,
      now: t1,
    });
    expect(s.sessions?.map((e) => e.pod)).toEqual(['new']);
  });

  it('is Pending-but-Ready without sessions and Error on a missing Secret', () => {
    const s = serverStatus({ podName: 'a', suspended: false, livePods: new Set(['a']), now: t1 });
    expect(s.phase).toBe('Pending');
    const e = serverStatus({
      podName: 'a',
      suspended: false,
      livePods: new Set(['a']),
      resolutionError: { reason: 'SecretKeyNotFound', message: 'm' },
      now: t1,
    });
    expect(e.conditions?.[0]).toMatchObject({ status: 'False', reason: 'SecretKeyNotFound' });
  });
});
