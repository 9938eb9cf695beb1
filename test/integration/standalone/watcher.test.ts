import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import {
  loadManifestDir,
  watchManifestDir,
  type LoadResult,
  type ManifestWatcher,
} from '../../../src/standalone/index.js';

const log = createLogger({ level: 'silent' });

const bind = (name: string, tps: number) => `apiVersion: smpp.omnimessage.io/v1alpha1
kind: SmppClientBind
metadata: {name: ${name}}
spec:
  host: 127.0.0.1
  systemId: ${name}
  tpsLimit: ${tps}
  passwordSecretRef: {name: ${name}, key: password}
`;

/** Collects emitted states; next() waits (generously: loaded CI machines) for the next one. */
function recorder() {
  const seen: LoadResult[] = [];
  const waiters: Array<() => void> = [];
  return {
    seen,
    onChange: (r: LoadResult) => {
      seen.push(r);
      waiters.splice(0).forEach((w) => w());
    },
    /** Waits until the latest state satisfies pred (in-place writes may show intermediate states). */
    async until(pred: (r: LoadResult) => boolean, timeoutMs = 10_000): Promise<LoadResult> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const latest = seen.at(-1);
        if (latest && pred(latest)) return latest;
        if (Date.now() > deadline) throw new Error(`no matching state within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    async next(count: number, timeoutMs = 10_000): Promise<LoadResult> {
      const deadline = Date.now() + timeoutMs;
      while (seen.length < count) {
        if (Date.now() > deadline) throw new Error(`no change event #${count} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return seen[count - 1]!;
    },
  };
}

let dir: string;
let watcher: ManifestWatcher | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smpp-watch-'));
});
afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('watchManifestDir', () => {
  it('emits the initial state, then the new state when a file is written, changed or removed', async () => {
    await writeFile(join(dir, 'a.yaml'), bind('a', 10));
    const rec = recorder();
    watcher = watchManifestDir(dir, rec.onChange, log, { debounceMs: 50, resyncMs: 0 });
    expect((await rec.next(1)).clientBinds.map((b) => b.metadata.name)).toEqual(['a']);

    const names = (r: LoadResult) => r.clientBinds.map((b) => b.metadata.name).join(',');
    await writeFile(join(dir, 'b.yaml'), bind('b', 20));
    await rec.until((r) => names(r) === 'a,b');

    await writeFile(join(dir, 'a.yaml'), bind('a', 11));
    await rec.until((r) => r.clientBinds.find((b) => b.metadata.name === 'a')?.spec.tpsLimit === 11);

    await rm(join(dir, 'b.yaml'));
    await rec.until((r) => names(r) === 'a');
  });

  it('sees atomic saves (write to a temp file, rename over) and reports a broken edit without dropping good files', async () => {
    const baseline = await loadManifestDir(dir);
    const rec = recorder();
    watcher = watchManifestDir(dir, rec.onChange, log, { debounceMs: 50, resyncMs: 0, baseline });
    await writeFile(join(dir, '.c.yaml.tmp'), bind('c', 5));
    await rename(join(dir, '.c.yaml.tmp'), join(dir, 'c.yaml'));
    expect((await rec.next(1)).clientBinds.map((b) => b.metadata.name)).toEqual(['c']);

    await writeFile(join(dir, 'd.yaml'), bind('d', 0));
    const withError = await rec.until(
      (r) => r.errors.length > 0 && r.errors[0]?.message.startsWith('spec.') === true,
    );
    expect(withError.clientBinds.map((b) => b.metadata.name)).toEqual(['c']);
    expect(withError.errors[0]?.message).toBe('spec.tpsLimit: must be a whole number between 1 and 10000');

    // A bad edit of a live bind keeps its previous version in force.
    await writeFile(join(dir, '.c.tmp'), bind('c', 0));
    await rename(join(dir, '.c.tmp'), join(dir, 'c.yaml'));
    const kept = await rec.until((r) => r.errors.some((e) => e.file.endsWith('c.yaml')));
    expect(kept.clientBinds.find((b) => b.metadata.name === 'c')?.spec.tpsLimit).toBe(5);
  });

  it('does not re-emit when content is unchanged', async () => {
    await writeFile(join(dir, 'a.yaml'), bind('a', 10));
    const baseline = await loadManifestDir(dir);
    const rec = recorder();
    watcher = watchManifestDir(dir, rec.onChange, log, { debounceMs: 50, resyncMs: 0, baseline });
    // Same bytes, saved atomically: an event, no new state.
    await writeFile(join(dir, '.a.tmp'), bind('a', 10));
    await rename(join(dir, '.a.tmp'), join(dir, 'a.yaml'));
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(join(dir, '.z.tmp'), bind('z', 1)); // then a real change
    await rename(join(dir, '.z.tmp'), join(dir, 'z.yaml'));
    const r = await rec.next(1);
    expect(r.clientBinds.map((b) => b.metadata.name)).toEqual(['a', 'z']);
    expect(rec.seen).toHaveLength(1);
  });

  it('picks up changes by periodic resync, and survives the folder vanishing and coming back', async () => {
    const { mkdir } = await import('node:fs/promises');
    await writeFile(join(dir, 'a.yaml'), bind('a', 10));
    const rec = recorder();
    watcher = watchManifestDir(dir, rec.onChange, log, { debounceMs: 50, resyncMs: 200 });
    await rec.next(1);
    await rm(dir, { recursive: true });
    await mkdir(dir);
    await writeFile(join(dir, 'b.yaml'), bind('b', 10));
    await rec.until((r) => r.clientBinds.map((b) => b.metadata.name).join() === 'b');
  });

  it('keeps running when the change handler throws', async () => {
    let calls = 0;
    const rec = recorder();
    watcher = watchManifestDir(
      dir,
      (r) => {
        calls++;
        rec.onChange(r);
        if (calls === 1) throw new Error('handler bug');
      },
      log,
      { debounceMs: 50, resyncMs: 0 },
    );
    await rec.next(1);
    await writeFile(join(dir, 'a.yaml'), bind('a', 10));
    await rec.until((r) => r.clientBinds.length === 1);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
