import { describe, expect, it } from 'vitest';
import {
  isBindError,
  rejectDuplicateSystemIds,
  resolveClientBind,
  resolveServerBind,
  smppClientBindSchema,
  smppServerBindSchema,
  type SecretLookup,
} from '../../../src/api/index.js';

const client = smppClientBindSchema.parse({
  apiVersion: 'smpp.omnimessage.io/v1alpha1',
  kind: 'SmppClientBind',
  metadata: {
    name: 'carrier',
    namespace: 'smpp',
    generation: 3,
    annotations: { 'smpp.omnimessage.io/reconnect': '2026-01-01T00:00:00Z' },
  },
  spec: {
    host: '127.0.0.1',
    systemId: 'u',
    passwordSecretRef: { name: 'carrier', key: 'password' },
    tls: { enabled: true, caSecretRef: { name: 'carrier-ca' } },
  },
});

const secrets: Record<string, Record<string, Buffer>> = {
  'smpp/carrier': { password: Buffer.from('s3cret') },
  'smpp/carrier-ca': { 'ca.crt': Buffer.from('-----BEGIN CERTIFICATE-----\n') },
};
const lookup: SecretLookup = (ns, name) => secrets[`${ns}/${name}`];

describe('resolveClientBind', () => {
  it('reads the password and CA, defaults smscName and carries the reconnect token', () => {
    const r = resolveClientBind(client, lookup);
    if (isBindError(r)) throw new Error(r.message);
    expect(r).toMatchObject({
      namespace: 'smpp',
      name: 'carrier',
      generation: 3,
      password: 's3cret',
      tlsCa: '-----BEGIN CERTIFICATE-----\n',
      reconnectToken: '2026-01-01T00:00:00Z',
    });
    expect(r.spec.smscName).toBe('carrier');
  });

  it('names the missing Secret', () => {
    const r = resolveClientBind(client, (ns, name) => (name === 'carrier' ? undefined : lookup(ns, name)));
    expect(r).toEqual({
      kind: 'SmppClientBind',
      namespace: 'smpp',
      name: 'carrier',
      reason: 'SecretNotFound',
      message: 'spec.passwordSecretRef: Secret smpp/carrier not found',
    });
  });

  it('names the missing key, also for the TLS CA', () => {
    const noKey = resolveClientBind(client, (ns, name) =>
      name === 'carrier' ? { pass: Buffer.from('x') } : lookup(ns, name),
    );
    expect(noKey).toMatchObject({
      reason: 'SecretKeyNotFound',
      message: 'spec.passwordSecretRef: Secret smpp/carrier has no key "password"',
    });
    const noCa = resolveClientBind(client, (ns, name) => (name === 'carrier-ca' ? {} : lookup(ns, name)));
    expect(noCa).toMatchObject({
      reason: 'SecretKeyNotFound',
      message: 'spec.tls.caSecretRef: Secret smpp/carrier-ca has no key "ca.crt"',
    });
  });

  it('refuses empty passwords and trailing newlines without echoing the value', () => {
    const empty = resolveClientBind(client, (ns, name) =>
      name === 'carrier' ? { password: Buffer.alloc(0) } : lookup(ns, name),
    );
    expect(empty).toMatchObject({ reason: 'InvalidSecret' });
    const nl = resolveClientBind(client, (ns, name) =>
      name === 'carrier' ? { password: Buffer.from('hunter2\n') } : lookup(ns, name),
    );
    expect(nl).toMatchObject({ reason: 'InvalidSecret' });
    expect(isBindError(nl) && nl.message).toContain('newline');
    expect(JSON.stringify(nl)).not.toContain('hunter2');
  });
});

describe('server binds', () => {
  const make = (ns: string, name: string, systemId: string) =>
    smppServerBindSchema.parse({
      apiVersion: 'smpp.omnimessage.io/v1alpha1',
      kind: 'SmppServerBind',
      metadata: { name, namespace: ns },
      spec: { systemId, passwordSecretRef: { name: 'p', key: 'password' } },
    });
  const pw: SecretLookup = () => ({ password: Buffer.from('pw') });

  it('resolve the password', () => {
    const r = resolveServerBind(make('a', 'acme', 'acme_corp'), pw);
    expect(r).toMatchObject({ namespace: 'a', name: 'acme', password: 'pw', spec: { smscName: 'acme' } });
  });

  it('keep the first bind by namespace/name when two share a systemId', () => {
    const binds = [make('b', 'two', 'same'), make('a', 'one', 'same'), make('a', 'other', 'different')].map(
      (b) => {
        const r = resolveServerBind(b, pw);
        if (isBindError(r)) throw new Error(r.message);
        return r;
      },
    );
    const { accepted, errors } = rejectDuplicateSystemIds(binds);
    expect(accepted.map((b) => `${b.namespace}/${b.name}`)).toEqual(['a/one', 'a/other']);
    expect(errors).toEqual([
      {
        kind: 'SmppServerBind',
        namespace: 'b',
        name: 'two',
        reason: 'DuplicateSystemId',
        message: 'systemId "same" is already used by SmppServerBind a/one',
      },
    ]);
  });
});
