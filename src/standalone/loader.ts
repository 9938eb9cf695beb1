/**
 * Standalone mode: the desired state is a folder of the same YAML manifests one would
 * `kubectl apply` (binds and their Secrets). Invalid documents are reported and skipped; the rest
 * still loads, so one bad file never takes every bind down.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import {
  API_VERSION,
  CLIENT_BIND_KIND,
  DEFAULT_NAMESPACE,
  SERVER_BIND_KIND,
  formatIssues,
  smppClientBindSchema,
  smppServerBindSchema,
  type SmppClientBind,
  type SmppServerBind,
} from '../api/index.js';

export interface SecretManifest {
  namespace: string;
  name: string;
  /** data (base64-decoded) merged with stringData, stringData winning as the apiserver does. */
  data: Record<string, Buffer>;
}

export interface ManifestError {
  /** File path as read (dir joined with the file name). */
  file: string;
  /** 1-based index of the YAML document in the file; absent when the whole file failed. */
  document?: number;
  kind?: string;
  /** namespace/name when the document got that far. */
  name?: string;
  message: string;
}

export interface SkippedDocument {
  file: string;
  document: number;
  kind: string;
  name?: string;
}

export interface LoadResult {
  dir: string;
  /** Files read, sorted. */
  files: string[];
  clientBinds: SmppClientBind[];
  serverBinds: SmppServerBind[];
  secrets: SecretManifest[];
  errors: ManifestError[];
  /** Documents of other kinds (ConfigMaps, Argo CD Applications, ...): not ours, not errors. */
  skipped: SkippedDocument[];
  /** "Kind/namespace/name" -> "file#document", for messages that point at the source. */
  sources: Record<string, string>;
  /** Changes whenever any manifest file's name or content changes. */
  fingerprint: string;
}

/** The folder itself is unusable (missing, not a directory, unreadable). */
export class ManifestDirError extends Error {
  override name = 'ManifestDirError';
}

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_ALIASES = 100; // guards against alias bombs

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const secretSchema = z.object({
  apiVersion: z.literal('v1', 'must be v1'),
  kind: z.literal('Secret'),
  metadata: z.object({
    name: z.string('is required').min(1, 'is required').max(253),
    namespace: z.string().min(1).max(63).default(DEFAULT_NAMESPACE),
  }),
  data: z
    .record(
      z.string(),
      z
        .string('values must be base64 strings')
        .transform((s) => s.replace(/\s+/g, ''))
        .refine((s) => BASE64_RE.test(s), 'values must be base64 (use stringData for plain text)'),
    )
    .nullish(),
  stringData: z.record(z.string(), z.string('values must be strings (put numbers in quotes)')).nullish(),
});

export function isManifestFile(name: string): boolean {
  return !name.startsWith('.') && (name.endsWith('.yaml') || name.endsWith('.yml'));
}

async function listManifestFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new ManifestDirError(`manifest folder ${dir} is not a directory`);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (err instanceof ManifestDirError) throw err;
    throw new ManifestDirError(`cannot read manifest folder ${dir}: ${(err as Error).message}`);
  }
  const names = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isManifestFile(e.name))
    .map((e) => e.name)
    .sort();
  return names.map((n) => join(dir, n));
}

function describe(obj: Record<string, unknown>): { kind?: string; name?: string } {
  const kind = typeof obj.kind === 'string' ? obj.kind : undefined;
  const meta = obj.metadata;
  if (typeof meta !== 'object' || meta === null) return kind === undefined ? {} : { kind };
  const m = meta as Record<string, unknown>;
  const name =
    typeof m.name === 'string'
      ? `${typeof m.namespace === 'string' ? m.namespace : DEFAULT_NAMESPACE}/${m.name}`
      : undefined;
  return { ...(kind === undefined ? {} : { kind }), ...(name === undefined ? {} : { name }) };
}

class Collector {
  readonly result: LoadResult;
  /** Files skipped as a whole (YAML syntax errors, unreadable, too large). */
  readonly brokenFiles = new Set<string>();
  /** "Kind/namespace/name" of documents that failed validation. */
  readonly invalidObjects = new Set<string>();
  constructor(dir: string, files: string[]) {
    this.result = {
      dir,
      files,
      clientBinds: [],
      serverBinds: [],
      secrets: [],
      errors: [],
      skipped: [],
      sources: {},
      fingerprint: '',
    };
  }

  error(e: ManifestError): void {
    this.result.errors.push(e);
  }

  invalid(kind: string, name: string | undefined): void {
    if (name !== undefined) this.invalidObjects.add(`${kind}/${name}`);
  }

  /** Records the source of kind/ns/name; false (with an error) when another document already defined it. */
  claim(file: string, document: number, kind: string, namespace: string, name: string): boolean {
    const key = `${kind}/${namespace}/${name}`;
    const first = this.result.sources[key];
    if (first !== undefined) {
      this.error({
        file,
        document,
        kind,
        name: `${namespace}/${name}`,
        message: `duplicate ${kind} ${namespace}/${name}: already defined in ${first}; this one is ignored`,
      });
      return false;
    }
    this.result.sources[key] = `${file}#${document}`;
    return true;
  }

  add(file: string, document: number, obj: unknown): void {
    if (obj === null || obj === undefined) return; // empty document, e.g. a trailing ---
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      this.error({ file, document, message: 'document is not a mapping (expected a Kubernetes object)' });
      return;
    }
    const o = obj as Record<string, unknown>;
    const { kind, name } = describe(o);
    const where = { file, document, ...(kind ? { kind } : {}), ...(name ? { name } : {}) };
    if (kind === undefined) {
      this.error({ ...where, message: 'kind is missing' });
      return;
    }
    if (kind === 'List' && o.apiVersion === 'v1' && Array.isArray(o.items)) {
      for (const item of o.items) this.add(file, document, item);
      return;
    }
    if (kind === CLIENT_BIND_KIND || kind === SERVER_BIND_KIND) {
      if (o.apiVersion !== API_VERSION) {
        this.error({
          ...where,
          message: `apiVersion must be ${API_VERSION}, got ${JSON.stringify(o.apiVersion)}`,
        });
        return;
      }
      const parsed =
        kind === CLIENT_BIND_KIND ? smppClientBindSchema.safeParse(o) : smppServerBindSchema.safeParse(o);
      if (!parsed.success) {
        this.invalid(kind, name);
        this.error({ ...where, message: formatIssues(parsed.error).join('; ') });
        return;
      }
      const bind = parsed.data;
      if (!this.claim(file, document, kind, bind.metadata.namespace, bind.metadata.name)) return;
      if (bind.kind === CLIENT_BIND_KIND) this.result.clientBinds.push(bind);
      else this.result.serverBinds.push(bind);
      return;
    }
    if (kind === 'Secret') {
      const parsed = secretSchema.safeParse(o);
      if (!parsed.success) {
        // Never echo Secret contents: issue messages carry paths and rules only.
        this.invalid(kind, name);
        this.error({ ...where, message: formatIssues(parsed.error).join('; ') });
        return;
      }
      const s = parsed.data;
      if (!this.claim(file, document, 'Secret', s.metadata.namespace, s.metadata.name)) return;
      const data: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64');
      for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = Buffer.from(v, 'utf8');
      this.result.secrets.push({ namespace: s.metadata.namespace, name: s.metadata.name, data });
      return;
    }
    this.result.skipped.push({ file, document, kind, ...(name ? { name } : {}) });
  }
}

/** Parses one file's text into the collector; a YAML syntax error skips the whole file. */
function loadManifestText(collector: Collector, file: string, text: string): void {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const [i, doc] of list.entries()) {
    const first = doc.errors[0];
    if (first) {
      collector.brokenFiles.add(file);
      collector.error({
        file,
        message: `YAML error in document ${i + 1}: ${first.message.split('\n')[0] ?? 'parse error'}; file skipped`,
      });
      return;
    }
  }
  for (const [i, doc] of list.entries()) {
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      collector.error({ file, document: i + 1, message: `cannot read document: ${(err as Error).message}` });
      continue;
    }
    collector.add(file, i + 1, value);
  }
}

export interface LoadOptions {
  /**
   * The state loaded before. A bad edit then behaves like a rejected `kubectl apply`: an object
   * whose new document is invalid, or whose file no longer parses, keeps its previous version
   * (the error is still reported), so a typo does not tear down a live session.
   */
  previous?: LoadResult;
}

const KEPT = '; the previous version stays in force';

function sourceFile(source: string): string {
  return source.slice(0, source.lastIndexOf('#'));
}

function keepPrevious(collector: Collector, previous: LoadResult): void {
  const r = collector.result;
  const keep = (key: string): boolean => {
    const source = previous.sources[key];
    if (source === undefined || r.sources[key] !== undefined) return false;
    if (!collector.brokenFiles.has(sourceFile(source)) && !collector.invalidObjects.has(key)) return false;
    r.sources[key] = source;
    return true;
  };
  for (const b of previous.clientBinds) {
    if (keep(`${b.kind}/${b.metadata.namespace}/${b.metadata.name}`)) r.clientBinds.push(b);
  }
  for (const b of previous.serverBinds) {
    if (keep(`${b.kind}/${b.metadata.namespace}/${b.metadata.name}`)) r.serverBinds.push(b);
  }
  for (const s of previous.secrets) {
    if (keep(`Secret/${s.namespace}/${s.name}`)) r.secrets.push(s);
  }
  for (const e of r.errors) {
    const objectKept =
      e.kind !== undefined &&
      e.name !== undefined &&
      collector.invalidObjects.has(`${e.kind}/${e.name}`) &&
      previous.sources[`${e.kind}/${e.name}`] !== undefined;
    const fileKept =
      e.document === undefined && Object.values(previous.sources).some((src) => sourceFile(src) === e.file);
    if (objectKept || fileKept) e.message += KEPT;
  }
}

/**
 * Reads every *.yaml / *.yml file directly in `dir` (not subfolders; dotfiles ignored) in name
 * order. Throws ManifestDirError only when the folder itself cannot be read.
 */
export async function loadManifestDir(dir: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const files = await listManifestFiles(dir);
  const collector = new Collector(dir, files);
  const hash = createHash('sha256');
  for (const file of files) {
    let buf: Buffer;
    try {
      const st = await stat(file);
      if (!st.isFile()) continue; // a symlink to a directory
      if (st.size > MAX_FILE_BYTES) {
        collector.brokenFiles.add(file);
        collector.error({ file, message: `file is larger than ${MAX_FILE_BYTES} bytes; skipped` });
        hash.update(`${file}\0size:${st.size}:${st.mtimeMs}\0`);
        continue;
      }
      buf = await readFile(file);
    } catch (err) {
      // Vanished between readdir and read (editors' atomic saves): the next event re-reads.
      collector.brokenFiles.add(file);
      collector.error({ file, message: `cannot read file: ${(err as Error).message}` });
      continue;
    }
    hash.update(`${file}\0`).update(buf).update('\0');
    loadManifestText(collector, file, buf.toString('utf8'));
  }
  collector.result.fingerprint = hash.digest('hex');
  if (opts.previous) keepPrevious(collector, opts.previous);
  return collector.result;
}
