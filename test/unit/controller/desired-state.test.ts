import { describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import {
  computeDesiredState,
  withDefaults,
  resolveClientBind,
  resolveServerBind,
  secretKeysOf,
  type SecretLookup,
} from '../../../src/controller/desired-state.js';
import {
  clientBindSpecSchema,
  serverBindSpecSchema,
  type ClientBindSpecInput,
  type SmppClientBind,
  type SmppServerBind,
} from '../../../src/api/index.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function secretStore(secrets: Record<string, Record<string, string>>): SecretLookup {
  return (ns, name) => {
    const data = secrets[`${ns}/${name}`];
    if (!data) return undefined;
    const s: V1Secret = {
      metadata: { name, namespace: ns },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    };
    return s;
  };
}

function client(
  name: string,
  extra: Partial<ClientBindSpecInput> = {},
  annotations?: Record<string, string>,
): SmppClientBind {
  return {
    apiVersion: 'smpp.omnimessage.io/v1alpha1',
    kind: 'SmppClientBind',
    metadata: { name, namespace: 'carriers', generation: 3, ...(annotations ? { annotations } : {}) },
    spec: clientBindSpecSchema.parse({
      host: '127.0.0.1',
      port: 2775,
      bindType: 'transceiver',
      systemId: 'sys',
      passwordSecretRef: { name: 'creds', key: 'password' },
      ...extra,
    }),
  };
}

describe('resolveClientBind', () => {
  it('reads the password from the referenced Secret key and carries the reconnect annotation', () => {
    const r = resolveClientBind(
      client('a', {}, { 'smpp.omnimessage.io/reconnect': '2026-01-01T00:00:00Z' }),
      secretStore({ 'carriers/creds': { password: 's3cret' } }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ namespace: 'carriers', name: 'a', generation: 3, password: 's3cret' });
    expect(r.value.reconnectToken).toBe('2026-01-01T00:00:00Z');
  });

  it('reports a missing Secret without leaking anything', () => {
    const r = resolveClientBind(client('a'), secretStore({}));
    expect(r).toMatchObject({ ok: false, error: { reason: 'SecretNotFound' } });
    if (!r.ok) expect(r.error.message).toContain('carriers/creds');
  });

  it('reports a missing key', () => {
    const r = resolveClientBind(client('a'), secretStore({ 'carriers/creds': { other: 'x' } }));
    expect(r).toMatchObject({ ok: false, error: { reason: 'SecretKeyNotFound' } });
    if (!r.ok) expect(r.error.message).toContain('"password"');
  });

  it('resolves the TLS CA only when TLS is enabled', () => {
    const spec = { tls: { enabled: true, caSecretRef: { name: 'ca', key: 'ca.crt' } } };
    const missing = resolveClientBind(
      client('a', spec),
      secretStore({ 'carriers/creds': { password: 'p' } }),
    );
    expect(missing).toMatchObject({ ok: false, error: { reason: 'SecretNotFound' } });
    if (!missing.ok) expect(missing.error.message).toContain('carriers/ca');
    const ok = resolveClientBind(
      client('a', spec),
      secretStore({ 'carriers/creds': { password: 'p' }, 'carriers/ca': { 'ca.crt': 'PEM' } }),
    );
    expect(ok.ok && ok.value.tlsCa).toBe('PEM');
  });

  it('changes the fingerprint when the password rotates, not otherwise', () => {
    const a = resolveClientBind(client('a'), secretStore({ 'carriers/creds': { password: 'one' } }));
    const b = resolveClientBind(client('a'), secretStore({ 'carriers/creds': { password: 'one' } }));
    const c = resolveClientBind(client('a'), secretStore({ 'carriers/creds': { password: 'two' } }));
    expect(a.ok && b.ok && c.ok).toBe(true);
    if (!a.ok || !b.ok || !c.ok) return;
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
    expect(a.fingerprint).not.toContain('one');
  });
});

describe('computeDesiredState', () => {
  const secrets = secretStore({ 'carriers/creds': { password: 'p' } });
  const serverBind = (name: string, systemId: string, secret: string): SmppServerBind => ({
    apiVersion: 'smpp.omnimessage.io/v1alpha1',
    kind: 'SmppServerBind',
    metadata: { name, namespace: 'carriers' },
    spec: serverBindSpecSchema.parse({ systemId, passwordSecretRef: { name: secret, key: 'password' } }),
  });
  const server = serverBind('acme', 'acme', 'creds');
  const brokenServer = serverBind('broken', 'x', 'nope');

  it('keeps only owned, running client binds and every server bind', () => {
    const deleting = client('gone');
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    const state = computeDesiredState({
      clientBinds: [client('mine'), client('theirs'), client('paused', { suspend: true }), deleting],
      serverBinds: [server, brokenServer],
      secrets,
      owns: (key) => key !== 'carriers/theirs',
    });
    expect(state.clientBinds.map((b) => b.name)).toEqual(['mine']);
    expect(state.serverBinds.map((b) => b.name)).toEqual(['acme']);
    expect(state.serverErrors.get('carriers/broken')?.reason).toBe('SecretNotFound');
    expect(state.clientErrors.size).toBe(0);
  });

  it('lists an owned bind with a missing Secret as an error, not as a bind', () => {
    const c = client('x', { passwordSecretRef: { name: 'missing', key: 'password' } });
    const bad = client('y');
    (bad.spec as { port: number }).port = 70000;
    const state = computeDesiredState({ clientBinds: [c, bad], serverBinds: [], secrets, owns: () => true });
    expect(state.clientBinds).toEqual([]);
    expect(state.clientErrors.get('carriers/x')?.reason).toBe('SecretNotFound');
    expect(state.clientErrors.get('carriers/y')).toMatchObject({ reason: 'InvalidSpec' });
    expect(state.clientErrors.get('carriers/y')?.message).toContain('spec.port');
  });

  it('indexes the Secrets a bind reads', () => {
    expect(
      secretKeysOf(client('a', { tls: { enabled: true, caSecretRef: { name: 'ca', key: 'ca.crt' } } })),
    ).toEqual(['carriers/creds', 'carriers/ca']);
    expect(secretKeysOf(server)).toEqual(['carriers/creds']);
    expect(resolveServerBind(server, secrets).ok).toBe(true);
  });
});

describe('withDefaults', () => {
  it('parses a spec once per uid and generation, and again when the generation moves', () => {
    const raw = client('memo');
    const a = withDefaults({ ...raw, metadata: { ...raw.metadata, uid: 'u-memo', generation: 1 } });
    expect(a.ok).toBe(true);
    // Same uid and generation: the parsed spec of the first call, not a new parse of this one.
    const same = withDefaults({
      ...raw,
      metadata: { ...raw.metadata, uid: 'u-memo', generation: 1 },
      spec: { ...raw.spec, port: -1 },
    });
    expect(same.ok && same.obj.spec.port).toBe(2775);
    // A new generation is a new spec: parsed, and here refused.
    const next = withDefaults({
      ...raw,
      metadata: { ...raw.metadata, uid: 'u-memo', generation: 2 },
      spec: { ...raw.spec, port: -1 },
    });
    expect(next.ok).toBe(false);
    // Without a uid nothing is remembered.
    const bare = withDefaults({ ...raw, spec: { ...raw.spec, port: -1 } });
    expect(bare.ok).toBe(false);
  });
});
