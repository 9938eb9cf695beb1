import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadManifestDir, ManifestDirError, resolveBinds } from '../../../src/standalone/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smpp-manifests-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const clientBind = (name: string, extra = '') => `apiVersion: smpp.omnimessage.io/v1alpha1
kind: SmppClientBind
metadata:
  name: ${name}
spec:
  host: 127.0.0.1
  port: 2775
  systemId: ${name.replace(/-/g, '_')}
  passwordSecretRef: {name: ${name}, key: password}
${extra}`;

const secret = (name: string, password: string) => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
data:
  password: ${Buffer.from(password).toString('base64')}
`;

describe('loadManifestDir', () => {
  it('loads multi-document files of binds and Secrets, with defaults applied', async () => {
    await writeFile(
      join(dir, 'carrier.yaml'),
      `${secret('carrier', 'pw1')}---\n${clientBind('carrier')}---\n`,
    );
    await writeFile(
      join(dir, 'partner.yml'),
      `apiVersion: v1
kind: Secret
metadata: {name: acme, namespace: partners}
stringData: {password: acme-pw}
---
apiVersion: smpp.omnimessage.io/v1alpha1
kind: SmppServerBind
metadata: {name: acme, namespace: partners}
spec:
  systemId: acme_corp
  passwordSecretRef: {name: acme, key: password}
  ipAllowlist: ["127.0.0.1", "::1"]
`,
    );
    const r = await loadManifestDir(dir);
    expect(r.errors).toEqual([]);
    expect(r.files).toEqual([join(dir, 'carrier.yaml'), join(dir, 'partner.yml')]);
    expect(r.clientBinds).toHaveLength(1);
    expect(r.clientBinds[0]).toMatchObject({
      kind: 'SmppClientBind',
      metadata: { name: 'carrier', namespace: 'default' },
      spec: { host: '127.0.0.1', tpsLimit: 100, bindType: 'transceiver', reconnect: { minDelay: '1s' } },
    });
    expect(r.serverBinds[0]).toMatchObject({ metadata: { namespace: 'partners' }, spec: { maxSessions: 4 } });
    expect(r.secrets.map((s) => [s.namespace, s.name, s.data.password?.toString()])).toEqual([
      ['default', 'carrier', 'pw1'],
      ['partners', 'acme', 'acme-pw'],
    ]);
    expect(r.sources['SmppClientBind/default/carrier']).toBe(`${join(dir, 'carrier.yaml')}#2`);
  });

  it('reports an invalid document with a readable message and still loads the rest', async () => {
    await writeFile(
      join(dir, 'a.yaml'),
      `${clientBind('bad', '  tpsLimit: 0\n  reconnect: {minDelay: 2m, maxDelay: 1m}\n')}---\n${clientBind('good')}`,
    );
    const r = await loadManifestDir(dir);
    expect(r.clientBinds.map((b) => b.metadata.name)).toEqual(['good']);
    expect(r.errors).toEqual([
      {
        file: join(dir, 'a.yaml'),
        document: 1,
        kind: 'SmppClientBind',
        name: 'default/bad',
        message:
          'spec.tpsLimit: must be a whole number between 1 and 10000; spec.reconnect.minDelay: reconnect.minDelay must not be longer than reconnect.maxDelay',
      },
    ]);
  });

  it('skips a file with YAML syntax errors as a whole and keeps the other files', async () => {
    await writeFile(join(dir, 'broken.yaml'), `${clientBind('one')}---\nkind: [unclosed\n`);
    await writeFile(join(dir, 'ok.yaml'), clientBind('two'));
    const r = await loadManifestDir(dir);
    expect(r.clientBinds.map((b) => b.metadata.name)).toEqual(['two']);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.file).toBe(join(dir, 'broken.yaml'));
    expect(r.errors[0]?.message).toMatch(/^YAML error in document 2: .*file skipped$/);
  });

  it('rejects wrong apiVersion, missing kind, non-objects and bad base64; never echoes Secret data', async () => {
    await writeFile(
      join(dir, 'x.yaml'),
      [
        clientBind('v').replace('v1alpha1', 'v1beta9'),
        'apiVersion: v1\nmetadata: {name: nokind}\n',
        '- just\n- a list\n',
        'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: "not base64!!topsecret"}\n',
      ].join('---\n'),
    );
    const r = await loadManifestDir(dir);
    expect(r.errors.map((e) => [e.document, e.message])).toEqual([
      [1, 'apiVersion must be smpp.omnimessage.io/v1alpha1, got "smpp.omnimessage.io/v1beta9"'],
      [2, 'kind is missing'],
      [3, 'document is not a mapping (expected a Kubernetes object)'],
      [4, 'data.password: values must be base64 (use stringData for plain text)'],
    ]);
    expect(JSON.stringify(r.errors)).not.toContain('topsecret');
  });

  it('reports duplicates and keeps the first definition', async () => {
    await writeFile(join(dir, '1.yaml'), clientBind('dup'));
    await writeFile(join(dir, '2.yaml'), clientBind('dup', '  tpsLimit: 5\n'));
    const r = await loadManifestDir(dir);
    expect(r.clientBinds).toHaveLength(1);
    expect(r.clientBinds[0]?.spec.tpsLimit).toBe(100);
    expect(r.errors[0]?.message).toBe(
      `duplicate SmppClientBind default/dup: already defined in ${join(dir, '1.yaml')}#1; this one is ignored`,
    );
  });

  it('ignores other kinds, other extensions, dotfiles and subfolders; follows symlinks; reads Lists', async () => {
    await writeFile(join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    await writeFile(join(dir, 'notes.txt'), clientBind('txt'));
    await writeFile(join(dir, '.hidden.yaml'), clientBind('hidden'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'inner.yaml'), clientBind('inner'));
    await writeFile(join(dir, 'target.data'), clientBind('linked'));
    await symlink(join(dir, 'target.data'), join(dir, 'link.yaml'));
    await writeFile(
      join(dir, 'list.yaml'),
      `apiVersion: v1\nkind: List\nitems:\n- ${secret('listed', 'pw').trimEnd().replace(/\n/g, '\n  ')}\n`,
    );
    const r = await loadManifestDir(dir);
    expect(r.errors).toEqual([]);
    expect(r.clientBinds.map((b) => b.metadata.name)).toEqual(['linked']);
    expect(r.secrets.map((s) => s.name)).toEqual(['listed']);
    expect(r.skipped).toEqual([
      { file: join(dir, 'cm.yaml'), document: 1, kind: 'ConfigMap', name: 'default/c' },
    ]);
  });

  it('asks to quote a numeric stringData value', async () => {
    await writeFile(
      join(dir, 's.yaml'),
      'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: 12345678}\n',
    );
    const r = await loadManifestDir(dir);
    expect(r.secrets).toEqual([]);
    expect(r.errors.map((e) => e.message)).toEqual([
      'stringData.password: values must be strings (put numbers in quotes)',
    ]);
  });

  it('stringData wins over data for the same key', async () => {
    await writeFile(
      join(dir, 's.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: ${Buffer.from('old').toString('base64')}}\nstringData: {password: new}\n`,
    );
    const r = await loadManifestDir(dir);
    expect(r.secrets[0]?.data.password?.toString()).toBe('new');
  });

  it('fingerprint changes with content only', async () => {
    await writeFile(join(dir, 'a.yaml'), clientBind('a'));
    const one = await loadManifestDir(dir);
    const same = await loadManifestDir(dir);
    await writeFile(join(dir, 'a.yaml'), clientBind('a', '  tpsLimit: 7\n'));
    const changed = await loadManifestDir(dir);
    expect(same.fingerprint).toBe(one.fingerprint);
    expect(changed.fingerprint).not.toBe(one.fingerprint);
  });

  it('with a previous state, a bad edit keeps the previous version like a rejected kubectl apply', async () => {
    await writeFile(join(dir, 'a.yaml'), `${secret('a', 'pw')}---\n${clientBind('a', '  tpsLimit: 7\n')}`);
    await writeFile(join(dir, 'b.yaml'), clientBind('b'));
    const good = await loadManifestDir(dir);

    await writeFile(join(dir, 'a.yaml'), `${secret('a', 'pw')}---\n${clientBind('a', '  tpsLimit: 0\n')}`);
    await writeFile(join(dir, 'b.yaml'), 'kind: [unclosed\n');
    const bad = await loadManifestDir(dir, { previous: good });
    expect(bad.clientBinds.map((b) => [b.metadata.name, b.spec.tpsLimit])).toEqual([
      ['a', 7],
      ['b', 100],
    ]);
    expect(bad.errors.map((e) => e.message)).toEqual([
      'spec.tpsLimit: must be a whole number between 1 and 10000; the previous version stays in force',
      expect.stringMatching(/^YAML error .*file skipped; the previous version stays in force$/),
    ]);
    // Without a previous state the same folder loads neither.
    expect((await loadManifestDir(dir)).clientBinds).toEqual([]);
    // Deleting the broken file really removes what it defined.
    await rm(join(dir, 'b.yaml'));
    const removed = await loadManifestDir(dir, { previous: bad });
    expect(removed.clientBinds.map((b) => b.metadata.name)).toEqual(['a']);
  });

  it('throws ManifestDirError for a missing folder', async () => {
    await expect(loadManifestDir(join(dir, 'nope'))).rejects.toThrow(ManifestDirError);
    await writeFile(join(dir, 'file.yaml'), '');
    await expect(loadManifestDir(join(dir, 'file.yaml'))).rejects.toThrow(/is not a directory/);
  });
});

describe('resolveBinds', () => {
  it('resolves passwords from the loaded Secrets and reports binds whose Secret or key is missing', async () => {
    await writeFile(
      join(dir, 'all.yaml'),
      [
        secret('ok', 'pw-ok'),
        clientBind('ok'),
        clientBind('no-secret'),
        'apiVersion: v1\nkind: Secret\nmetadata: {name: no-key}\nstringData: {other: x}\n',
        clientBind('no-key'),
      ].join('---\n'),
    );
    const { client, server, errors } = resolveBinds(await loadManifestDir(dir));
    expect(client.map((c) => [c.name, c.password, c.spec.smscName])).toEqual([['ok', 'pw-ok', 'ok']]);
    expect(server).toEqual([]);
    expect(errors).toEqual([
      {
        kind: 'SmppClientBind',
        namespace: 'default',
        name: 'no-secret',
        reason: 'SecretNotFound',
        message: 'spec.passwordSecretRef: Secret default/no-secret not found',
      },
      {
        kind: 'SmppClientBind',
        namespace: 'default',
        name: 'no-key',
        reason: 'SecretKeyNotFound',
        message: 'spec.passwordSecretRef: Secret default/no-key has no key "password"',
      },
    ]);
  });

  it('does not look across namespaces', async () => {
    await writeFile(
      join(dir, 'ns.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata: {name: carrier, namespace: other}\nstringData: {password: x}\n---\n${clientBind('carrier')}`,
    );
    const { client, errors } = resolveBinds(await loadManifestDir(dir));
    expect(client).toEqual([]);
    expect(errors[0]?.reason).toBe('SecretNotFound');
  });
});

describe('manifests/examples', () => {
  it('load and resolve without errors (the demo runs them)', async () => {
    const r = await loadManifestDir('manifests/examples');
    expect(r.errors).toEqual([]);
    const resolved = resolveBinds(r);
    expect(resolved.errors).toEqual([]);
    expect(resolved.client.map((c) => [c.spec.host, c.spec.port, c.spec.systemId])).toEqual([
      ['127.0.0.1', 2775, 'demo_carrier'],
    ]);
    expect(resolved.server.map((s) => s.spec.systemId)).toEqual(['demo_partner']);
  });

  it('reference examples are valid too', async () => {
    const r = await loadManifestDir('manifests/examples/reference');
    expect(r.errors).toEqual([]);
    expect(resolveBinds(r).errors).toEqual([]);
    expect(r.clientBinds[0]?.spec.tls).toMatchObject({ enabled: true, caSecretRef: { key: 'ca.crt' } });
  });
});
