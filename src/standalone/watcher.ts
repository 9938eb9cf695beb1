import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../log.js';
import { loadManifestDir, type LoadResult } from './loader.js';

export interface WatchOptions {
  /** Quiet time after the last change before re-reading (editors write in several steps). Default 250 ms. */
  debounceMs?: number;
  /**
   * Re-read on this period even without events: fs.watch misses changes on some filesystems
   * (network mounts, some container volumes). 0 disables. Default 30 s.
   */
  resyncMs?: number;
  /**
   * State the caller already has (from loadManifestDir): only changes relative to it are
   * emitted. Without it the watcher loads once at start and emits that state too.
   */
  baseline?: LoadResult;
}

export interface ManifestWatcher {
  close(): void;
}

/**
 * Watches a manifest folder (each reload passes the last state as `previous`, so a bad edit keeps
 * the objects' previous versions, as a rejected `kubectl apply` would) and calls onChange with the whole new desired state (level-
 * triggered: consumers diff it against what runs) whenever any manifest file changes.
 * Unchanged content (same fingerprint) is not re-emitted. A folder that disappears is logged and
 * retried on each resync; the last good state stays in force meanwhile.
 */
export function watchManifestDir(
  dir: string,
  onChange: (result: LoadResult) => void,
  log: Logger,
  opts: WatchOptions = {},
): ManifestWatcher {
  const debounceMs = opts.debounceMs ?? 250;
  const resyncMs = opts.resyncMs ?? 30_000;
  let last = opts.baseline;
  let closed = false;
  let fsWatcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let dirBroken = false;

  const reload = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        let result: LoadResult;
        try {
          result = await loadManifestDir(dir, last ? { previous: last } : {});
        } catch (err) {
          if (!dirBroken) log.error({ dir, err }, 'manifest folder unreadable; keeping the last state');
          dirBroken = true;
          stopFsWatch();
          continue;
        }
        if (dirBroken) {
          log.info({ dir }, 'manifest folder readable again');
          dirBroken = false;
        }
        ensureFsWatch();
        if (closed || result.fingerprint === last?.fingerprint) continue;
        last = result;
        for (const e of result.errors) {
          log.warn(
            { file: e.file, document: e.document, kind: e.kind, name: e.name, error: e.message },
            'manifest skipped',
          );
        }
        log.info(
          {
            dir,
            clientBinds: result.clientBinds.length,
            serverBinds: result.serverBinds.length,
            secrets: result.secrets.length,
            errors: result.errors.length,
          },
          'manifests loaded',
        );
        try {
          onChange(result);
        } catch (err) {
          log.error({ err }, 'manifest change handler failed');
        }
      } while (again && !closed);
    } finally {
      running = false;
    }
  };

  const schedule = (): void => {
    if (closed) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      void reload();
    }, debounceMs);
  };

  function ensureFsWatch(): void {
    if (fsWatcher || closed) return;
    try {
      fsWatcher = watch(dir, { persistent: false }, () => schedule());
      fsWatcher.on('error', (err) => {
        log.warn({ dir, err }, 'manifest folder watch failed; relying on resync');
        stopFsWatch();
        schedule();
      });
    } catch (err) {
      log.warn({ dir, err }, 'cannot watch manifest folder; relying on resync');
    }
  }

  function stopFsWatch(): void {
    fsWatcher?.close();
    fsWatcher = undefined;
  }

  ensureFsWatch();
  const resync = resyncMs > 0 ? setInterval(() => void reload(), resyncMs) : undefined;
  resync?.unref();
  if (!opts.baseline) void reload();

  return {
    close() {
      closed = true;
      if (debounce) clearTimeout(debounce);
      if (resync) clearInterval(resync);
      stopFsWatch();
    },
  };
}
