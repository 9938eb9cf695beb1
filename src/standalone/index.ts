export { loadManifestDir, isManifestFile, ManifestDirError } from './loader.js';
export type { LoadOptions, LoadResult, ManifestError, SecretManifest, SkippedDocument } from './loader.js';
export { watchManifestDir } from './watcher.js';
export type { ManifestWatcher, WatchOptions } from './watcher.js';
export { resolveBinds, secretLookup } from './resolve.js';
export type { ResolvedBinds } from './resolve.js';
