import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  buildCrds,
  crdFileName,
  crdYaml,
  openApiOf,
  StructuralSchemaError,
  toStructural,
  type CustomResourceDefinition,
  type JsonSchema,
} from '../../../src/api/index.js';

type Node = JsonSchema & { properties?: Record<string, Node>; items?: Node; additionalProperties?: Node };

function walk(node: Node, path: string, visit: (n: Node, path: string) => void): void {
  visit(node, path);
  for (const [name, sub] of Object.entries(node.properties ?? {})) walk(sub, `${path}.${name}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    walk(node.additionalProperties, `${path}.*`, visit);
}

function at(root: Node, path: string): Node {
  let n: Node | undefined = root;
  for (const part of path.split('.')) {
    n = part === '[]' ? n?.items : n?.properties?.[part];
  }
  if (!n) throw new Error(`no schema at ${path}`);
  return n;
}

const [client, server] = buildCrds();
if (!client || !server) throw new Error('expected two CRDs');

function version(crd: CustomResourceDefinition) {
  const versions = crd.spec.versions as Array<Record<string, unknown>>;
  expect(versions).toHaveLength(1);
  return versions[0] as {
    name: string;
    served: boolean;
    storage: boolean;
    subresources: unknown;
    additionalPrinterColumns: Array<{ name: string; jsonPath: string; type: string }>;
    schema: { openAPIV3Schema: Node };
  };
}

describe('generated CRDs', () => {
  it('name the group, version, kinds, short names and category', () => {
    expect(client.metadata.name).toBe('smppclientbinds.smpp.omnimessage.io');
    expect(server.metadata.name).toBe('smppserverbinds.smpp.omnimessage.io');
    expect(client.spec.group).toBe('smpp.omnimessage.io');
    expect(client.spec.scope).toBe('Namespaced');
    expect(client.spec.names).toMatchObject({
      kind: 'SmppClientBind',
      shortNames: ['scb'],
      categories: ['smpp'],
    });
    expect(server.spec.names).toMatchObject({
      kind: 'SmppServerBind',
      shortNames: ['ssb'],
      categories: ['smpp'],
    });
    for (const crd of [client, server]) {
      const v = version(crd);
      expect(v).toMatchObject({
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
      });
    }
  });

  it('are structural: every node has a single type and nothing outside JSONSchemaProps', () => {
    for (const crd of [client, server]) {
      walk(version(crd).schema.openAPIV3Schema, '', (n, path) => {
        expect(typeof n.type, `type at ${path || '<root>'}`).toBe('string');
        for (const banned of ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'const', '$schema'])
          expect(n, `${banned} at ${path}`).not.toHaveProperty(banned);
        if (n.properties)
          expect(n, `additionalProperties beside properties at ${path}`).not.toHaveProperty(
            'additionalProperties',
          );
        if (n.type === 'integer') {
          expect(Math.abs(Number(n.maximum ?? 0))).toBeLessThan(Number.MAX_SAFE_INTEGER);
        }
      });
    }
  });

  it('carry the seeds ranges, enums and defaults', () => {
    const spec = at(version(client).schema.openAPIV3Schema, 'spec');
    expect(spec.required).toEqual(['host', 'systemId', 'passwordSecretRef']);
    expect(at(spec, 'port')).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535, default: 2775 });
    expect(at(spec, 'tpsLimit')).toMatchObject({ minimum: 1, maximum: 10000, default: 100 });
    expect(at(spec, 'queueCheckInterval')).toMatchObject({ minimum: 100, maximum: 10000 });
    // Unset falls back to the gateway-wide SMPP_POLL_INTERVAL, so no schema default here.
    expect(at(spec, 'queueCheckInterval')).not.toHaveProperty('default');
    expect(at(spec, 'bindType')).toMatchObject({
      enum: ['transmitter', 'receiver', 'transceiver'],
      default: 'transceiver',
    });
    expect(at(spec, 'enquireLinkInterval')).toMatchObject({ type: 'string', default: '30s' });
    // Formats are CEL rules with readable messages rather than bare `pattern`s.
    expect(at(spec, 'host').pattern).toBeUndefined();
    // Nested defaults only apply when the parent exists, so the parents default to {}.
    expect(at(spec, 'reconnect').default).toEqual({});
    expect(at(spec, 'tls').default).toEqual({});
    expect(at(spec, 'codec.longMessage')).toMatchObject({ enum: ['udh8', 'udh16', 'sar', 'payload'] });
    expect(at(spec, 'passwordSecretRef').required).toEqual(['name', 'key']);
    expect(typeof at(spec, 'host').description).toBe('string');

    const sspec = at(version(server).schema.openAPIV3Schema, 'spec');
    expect(at(sspec, 'allowedBindTypes')).toMatchObject({ 'x-kubernetes-list-type': 'set', minItems: 1 });
    expect(at(sspec, 'ipAllowlist')).toMatchObject({ 'x-kubernetes-list-type': 'set', default: [] });
  });

  it('carry CEL rules where a schema cannot say it', () => {
    const spec = at(version(client).schema.openAPIV3Schema, 'spec');
    const rules = (n: Node) =>
      (n['x-kubernetes-validations'] as Array<{ rule: string; message: string }>) ?? [];
    expect(rules(at(spec, 'reconnect'))).toContainEqual(
      expect.objectContaining({
        rule: expect.stringContaining('duration(self.minDelay) <= duration(self.maxDelay)'),
        message: 'reconnect.minDelay must not be longer than reconnect.maxDelay',
      }),
    );
    expect(rules(at(spec, 'tls')).map((r) => r.message)).toContain(
      'tls.caSecretRef is only used when tls.enabled is true',
    );
    expect(rules(at(spec, 'enquireLinkInterval')).map((r) => r.message)).toEqual([
      'must be a duration with a unit, e.g. "500ms", "30s", "1m"',
      'must be between 1s and 1h',
    ]);
    expect(rules(at(spec, 'enquireLinkInterval'))[1]?.rule).toContain("duration(self) >= duration('1s')");
    expect(rules(at(spec, 'host'))[0]).toMatchObject({
      rule: expect.stringMatching(/^self\.matches\(r'\^.*\$'\)$/),
      message: 'must be a host name or an IP address (no scheme, no port)',
    });
    expect(rules(version(client).schema.openAPIV3Schema)[0]?.rule).toBe('self.metadata.name.size() <= 63');
    const sspec = at(version(server).schema.openAPIV3Schema, 'spec');
    expect(rules(at(sspec, 'ipAllowlist.[]'))[0]?.rule).toBe('isIP(self) || isCIDR(self)');
    // CEL cost estimation needs bounded strings and lists wherever a rule runs.
    expect(at(sspec, 'ipAllowlist').maxItems).toBeDefined();
    expect(at(sspec, 'ipAllowlist.[]').maxLength).toBeDefined();
  });

  it('print the columns kubectl get shows', () => {
    const cols = version(client).additionalPrinterColumns;
    expect(cols.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Phase', 'Host', 'Bind Type', 'TPS', 'Gateway Pod', 'Ready', 'Age']),
    );
    expect(cols.find((c) => c.name === 'Ready')?.jsonPath).toBe(
      '.status.conditions[?(@.type=="Ready")].status',
    );
    expect(cols.find((c) => c.name === 'Age')).toMatchObject({
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
    });
    const scols = version(server).additionalPrinterColumns;
    expect(scols.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Phase', 'System ID', 'Sessions', 'Ready', 'Age']),
    );
  });

  it('describe status in metav1.Condition shape with server sessions', () => {
    const status = at(version(server).schema.openAPIV3Schema, 'status');
    expect(at(status, 'phase').enum).toEqual([
      'Pending',
      'Connecting',
      'Bound',
      'Reconnecting',
      'Suspended',
      'Error',
    ]);
    const conditions = at(status, 'conditions');
    expect(conditions).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
    expect(at(status, 'conditions.[]').required).toEqual([
      'type',
      'status',
      'lastTransitionTime',
      'reason',
      'message',
    ]);
    expect(Object.keys(at(status, 'sessions.[]').properties ?? {})).toEqual([
      'pod',
      'peerAddress',
      'bindType',
      'since',
    ]);
    expect(at(status, 'observedGeneration').format).toBe('int64');
  });

  it('render to deterministic YAML that parses back to the same object', () => {
    const again = buildCrds();
    for (const [i, crd] of [client, server].entries()) {
      const text = crdYaml(crd);
      expect(text).toBe(crdYaml(again[i]!));
      expect(parse(text)).toEqual(JSON.parse(JSON.stringify(crd)));
    }
    expect(crdFileName(client)).toBe('smppclientbinds.yaml');
  });

  it('match the checked-in crds/ files', async () => {
    for (const crd of [client, server]) {
      expect(await readFile(`crds/${crdFileName(crd)}`, 'utf8')).toBe(crdYaml(crd));
    }
  });
});

describe('toStructural', () => {
  it('refuses schemas the apiserver would reject, naming the path', () => {
    expect(() => openApiOf(z.object({ a: z.union([z.string(), z.number()]) }))).toThrow(
      StructuralSchemaError,
    );
    expect(() => openApiOf(z.object({ a: z.union([z.string(), z.number()]) }))).toThrow(/\.a/);
    expect(() => toStructural({ type: 'object', properties: { x: {} } })).toThrow(
      /\.x: every schema node needs a single "type"/,
    );
  });
  it('drops additionalProperties:false and safe-integer bounds', () => {
    const s = openApiOf(z.strictObject({ n: z.int() }));
    expect(s).toEqual({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] });
  });
});
