/**
 * Evaluates the Argo CD health Lua of manifests/examples/gitops/argocd-health.yaml for one
 * object under a real Lua 5.1 interpreter (Argo CD's gopher-lua speaks 5.1), as Argo CD would.
 * Used by hack/argocd-health-check.ts (fixed cases) and the cluster e2e (live objects).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function toLua(v: Json): string {
  if (v === null) return 'nil';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v); // a JSON string literal is a valid Lua one here
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v)
    .map(([k, x]) => `[${JSON.stringify(k)}] = ${toLua(x)}`)
    .join(', ')}}`;
}

export interface Health {
  status: string;
  message: string;
}

export function argoHealth(
  kind: 'SmppClientBind' | 'SmppServerBind',
  obj: { [key: string]: Json },
  lua = 'lua5.1',
  file = 'manifests/examples/gitops/argocd-health.yaml',
): Health {
  const cm = parse(readFileSync(file, 'utf8')) as { data: Record<string, string> };
  const script = cm.data[`resource.customizations.health.smpp.omnimessage.io_${kind}`];
  if (!script) throw new Error(`no health check for ${kind} in ${file}`);
  const program = `obj = ${toLua(obj)}\nlocal function check()\n${script}\nend\nlocal hs = check()\nio.write(hs.status, "\\n", hs.message or "")\n`;
  const [status = '', message = ''] = execFileSync(lua, ['-'], { input: program, encoding: 'utf8' }).split(
    '\n',
  );
  return { status, message };
}
