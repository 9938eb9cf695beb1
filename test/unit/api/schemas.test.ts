import { describe, expect, it } from 'vitest';
import {
  clientBindSpecSchema,
  formatIssues,
  isIpOrCidr,
  serverBindSpecSchema,
  smppClientBindSchema,
  smscNameOf,
} from '../../../src/api/index.js';

const minimalClient = {
  host: 'smpp.carrier.example',
  systemId: 'user1',
  passwordSecretRef: { name: 'c', key: 'password' },
};
const minimalServer = { systemId: 'acme_corp', passwordSecretRef: { name: 'acme', key: 'password' } };

function clientErrors(spec: unknown): string[] {
  const r = clientBindSpecSchema.safeParse(spec);
  return r.success ? [] : formatIssues(r.error, 'spec');
}
function serverErrors(spec: unknown): string[] {
  const r = serverBindSpecSchema.safeParse(spec);
  return r.success ? [] : formatIssues(r.error, 'spec');
}

describe('SmppClientBind spec', () => {
  it('fills every default of a minimal spec', () => {
    const spec = clientBindSpecSchema.parse(minimalClient);
    expect(spec).toEqual({
      ...minimalClient,
      port: 2775,
      bindType: 'transceiver',
      interfaceVersion: 0x34,
      tls: { enabled: false, insecureSkipVerify: false },
      tpsLimit: 100,
      window: 10,
      enquireLinkInterval: '30s',
      responseTimeout: '10s',
      bindTimeout: '10s',
      reconnect: { minDelay: '1s', maxDelay: '60s' },
      suspend: false,
      codec: { dataCoding: 'gsm7', longMessage: 'udh8', packed: false },
    });
  });

  it('keeps given values and fills the rest of nested objects', () => {
    const spec = clientBindSpecSchema.parse({
      ...minimalClient,
      reconnect: { maxDelay: '5m' },
      tls: { enabled: true, caSecretRef: { name: 'ca' } },
      codec: { longMessage: 'sar' },
    });
    expect(spec.reconnect).toEqual({ minDelay: '1s', maxDelay: '5m' });
    expect(spec.tls).toEqual({
      enabled: true,
      caSecretRef: { name: 'ca', key: 'ca.crt' },
      insecureSkipVerify: false,
    });
    expect(spec.codec).toEqual({ dataCoding: 'gsm7', longMessage: 'sar', packed: false });
  });

  it.each([
    [{ port: 0 }, 'spec.port: must be a whole number between 1 and 65535'],
    [{ port: 65536 }, 'spec.port: must be a whole number between 1 and 65535'],
    [{ port: 27.5 }, 'spec.port: must be a whole number between 1 and 65535'],
    [{ tpsLimit: 0 }, 'spec.tpsLimit: must be a whole number between 1 and 10000'],
    [{ tpsLimit: 10001 }, 'spec.tpsLimit: must be a whole number between 1 and 10000'],
    [{ queueCheckInterval: 99 }, 'spec.queueCheckInterval: must be a whole number between 100 and 10000'],
    [{ queueCheckInterval: 10001 }, 'spec.queueCheckInterval: must be a whole number between 100 and 10000'],
    [{ window: 0 }, 'spec.window: must be a whole number between 1 and 1000'],
    [{ bindType: 'tx' }, 'spec.bindType: must be one of transmitter, receiver, transceiver'],
    [{ host: 'smpp://carrier:2775' }, 'spec.host: must be a host name or an IP address (no scheme, no port)'],
    [
      { systemId: 'a_very_long_system_id' },
      'spec.systemId: must be at most 15 characters (SMPP 3.4 system_id limit)',
    ],
    [
      { enquireLinkInterval: '30' },
      'spec.enquireLinkInterval: must be a duration with a unit, e.g. "500ms", "30s", "1m"',
    ],
    [{ enquireLinkInterval: '500ms' }, 'spec.enquireLinkInterval: must be between 1s and 1h'],
    [{ responseTimeout: '10m' }, 'spec.responseTimeout: must be between 100ms and 5m'],
    [
      { reconnect: { minDelay: '2m', maxDelay: '1m' } },
      'spec.reconnect.minDelay: reconnect.minDelay must not be longer than reconnect.maxDelay',
    ],
    [
      { tls: { caSecretRef: { name: 'ca' } } },
      'spec.tls.caSecretRef: tls.caSecretRef is only used when tls.enabled is true',
    ],
    [
      { tls: { serverName: 'x' } },
      'spec.tls.serverName: tls.serverName is only used when tls.enabled is true',
    ],
    [
      { tls: { enabled: true, insecureSkipVerify: true, caSecretRef: { name: 'ca' } } },
      'spec.tls.caSecretRef: tls.caSecretRef has no effect with tls.insecureSkipVerify: true; set one or the other',
    ],
    [{ codec: { longMessage: 'udh7' } }, 'spec.codec.longMessage: must be one of udh8, udh16, sar, payload'],
    [{ codec: { dataCoding: 'utf8' } }, 'spec.codec.dataCoding: must be one of gsm7, latin1, ucs2, 8bit'],
    [
      { addressing: { source: { ton: 7 } } },
      'spec.addressing.source.ton: must be one of 0, 1, 2, 3, 4, 5, 6',
    ],
    [
      { addressing: { destination: { npi: 2 } } },
      'spec.addressing.destination.npi: must be one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18',
    ],
    [
      { passwordSecretRef: { name: 'Bad_Name', key: 'password' } },
      'spec.passwordSecretRef.name: must be a valid Secret name (lower case letters, digits, "-" and ".")',
    ],
    [{ tpsLimt: 5 }, 'spec: Unrecognized key: "tpsLimt"'],
  ])('rejects %j', (patch, message) => {
    expect(clientErrors({ ...minimalClient, ...patch })).toContain(message);
  });

  it('requires host, systemId and passwordSecretRef', () => {
    const errors = clientErrors({});
    expect(errors.map((e) => e.split(':')[0])).toEqual(
      expect.arrayContaining(['spec.host', 'spec.systemId', 'spec.passwordSecretRef']),
    );
  });

  it('accepts host names and IPv4/IPv6 literals', () => {
    for (const host of ['127.0.0.1', '::1', 'smpp-1.carrier.example', '2001:db8::10']) {
      expect(clientErrors({ ...minimalClient, host })).toEqual([]);
    }
  });

  it('limits bind names to 63 characters (they name Leases)', () => {
    const manifest = (name: string) => ({
      apiVersion: 'smpp.omnimessage.io/v1alpha1',
      kind: 'SmppClientBind',
      metadata: { name },
      spec: minimalClient,
    });
    expect(smppClientBindSchema.safeParse(manifest('a'.repeat(63))).success).toBe(true);
    const r = smppClientBindSchema.safeParse(manifest('a'.repeat(64)));
    expect(r.success ? [] : formatIssues(r.error)).toEqual(['metadata.name: must be at most 63 characters']);
  });

  it('smscName defaults to metadata.name at run time', () => {
    const bind = smppClientBindSchema.parse({
      apiVersion: 'smpp.omnimessage.io/v1alpha1',
      kind: 'SmppClientBind',
      metadata: { name: 'vodafone-uk' },
      spec: minimalClient,
    });
    expect(bind.metadata.namespace).toBe('default');
    expect(bind.spec.smscName).toBeUndefined();
    expect(smscNameOf(bind)).toBe('vodafone-uk');
    expect(smscNameOf({ ...bind, spec: { ...bind.spec, smscName: 'vodafone_uk' } })).toBe('vodafone_uk');
  });
});

describe('SmppServerBind spec', () => {
  it('fills defaults', () => {
    expect(serverBindSpecSchema.parse(minimalServer)).toEqual({
      ...minimalServer,
      allowedBindTypes: ['transmitter', 'receiver', 'transceiver'],
      ipAllowlist: [],
      tpsLimit: 100,
      inboundTpsLimit: 100,
      maxSessions: 4,
      suspend: false,
      codec: { dataCoding: 'gsm7', longMessage: 'udh8', packed: false },
    });
  });

  it.each([
    [{ allowedBindTypes: [] }, 'spec.allowedBindTypes: must allow at least one bind type'],
    [
      { allowedBindTypes: ['receiver', 'receiver'] },
      'spec.allowedBindTypes: must list each bind type at most once',
    ],
    [
      { allowedBindTypes: ['rx'] },
      'spec.allowedBindTypes[0]: must be one of transmitter, receiver, transceiver',
    ],
    [
      { ipAllowlist: ['10.0.0.0/33'] },
      'spec.ipAllowlist[0]: must be an IPv4/IPv6 address or CIDR block, e.g. "203.0.113.7", "203.0.113.0/24", "2001:db8::/32"',
    ],
    [{ ipAllowlist: ['10.0.0.1', '10.0.0.1'] }, 'spec.ipAllowlist: must not list an entry twice'],
    [{ inboundTpsLimit: 0 }, 'spec.inboundTpsLimit: must be a whole number between 1 and 10000'],
    [{ maxSessions: 0 }, 'spec.maxSessions: must be a whole number between 1 and 1000'],
    [{ queueCheckInterval: 50 }, 'spec.queueCheckInterval: must be a whole number between 100 and 10000'],
  ])('rejects %j', (patch, message) => {
    expect(serverErrors({ ...minimalServer, ...patch })).toContain(message);
  });

  it('accepts the allowlist forms of the seeds and IPv6', () => {
    const ipAllowlist = ['192.168.1.0/24', '10.50.1.100', '10.60.0.0/16', '2001:db8::/32', '::1'];
    expect(serverErrors({ ...minimalServer, ipAllowlist })).toEqual([]);
  });
});

describe('isIpOrCidr', () => {
  it.each(['1.2.3.4', '0.0.0.0/0', '203.0.113.0/24', '::', '::1/128', '2001:db8::/32', '::ffff:1.2.3.4'])(
    'accepts %s',
    (s) => expect(isIpOrCidr(s)).toBe(true),
  );
  it.each([
    '',
    '1.2.3',
    '1.2.3.4/33',
    '1.2.3.4/',
    '1.2.3.4/-1',
    '::1/129',
    'fe80::1%eth0',
    'example.com',
    '1.2.3.4/24/1',
    '256.1.1.1',
  ])('rejects %j', (s) => expect(isIpOrCidr(s)).toBe(false));
});
