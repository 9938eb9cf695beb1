import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../../src/commands/crds.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smpp-crds-'));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('smpp-operator crds', () => {
  it('--check fails on a missing or edited file and passes after --out', async () => {
    expect(await command.run(['--check', '--out', dir])).toBe(1);
    expect(await command.run(['--out', dir])).toBe(0);
    expect(await command.run(['--check', '--out', dir])).toBe(0);

    const file = join(dir, 'smppserverbinds.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('maximum: 10000', 'maximum: 9999'));
    expect(await command.run(['--check', '--out', dir])).toBe(1);
    expect(vi.mocked(console.error).mock.calls.flat().join('\n')).toContain(`CRDs are stale: ${file}`);
  });

  it('prints both CRDs as one YAML stream without options', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await command.run([])).toBe(0);
    const text = write.mock.calls.map((c) => String(c[0])).join('');
    expect(text.match(/^kind: CustomResourceDefinition$/gm)).toHaveLength(2);
    expect(text).toContain('\n---\n');
  });

  it('refuses unknown options with usage', async () => {
    expect(await command.run(['--bogus'])).toBe(2);
  });
});
