/**
 * Offline JSON Schemas for kubeconform: the Kubernetes OpenAPI (swagger.json of the release the
 * tests run against) split per kind, plus CRDs' openAPIV3Schema (ours and the Prometheus
 * Operator's). Objects are made strict (additionalProperties: false) so a misspelt field in a
 * chart template is an error, as kubeconform's published "-strict" schemas do.
 *
 *   node hack/kube-json-schemas.ts OUT_DIR SWAGGER_JSON [CRD_YAML...]
 *
 * Files are named <kind lower case>-<full group>-<version>.json ("deployment-apps-v1.json",
 * "service-v1-v1.json" for the core group); use kubeconform -schema-location 'OUT_DIR/{{ .ResourceKind }}-{{ .Group }}-{{ .ResourceAPIVersion }}.json'.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Schema = { [key: string]: unknown };

function isSchema(x: unknown): x is Schema {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Applies the conversions that turn an OpenAPI schema node into a strict JSON Schema node. */
function convert(node: Schema, refPrefix: string): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      out.$ref = v.replace('#/definitions/', refPrefix);
    } else if (k === 'properties' && isSchema(v)) {
      out.properties = Object.fromEntries(
        Object.entries(v).map(([name, sub]) => [name, isSchema(sub) ? convert(sub, refPrefix) : sub]),
      );
    } else if ((k === 'items' || k === 'additionalProperties' || k === 'not') && isSchema(v)) {
      out[k] = convert(v, refPrefix);
    } else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = v.map((sub) => (isSchema(sub) ? convert(sub, refPrefix) : sub));
    } else if (k === 'x-kubernetes-validations') {
      continue; // CEL: the apiserver's job, not expressible here
    } else {
      out[k] = v;
    }
  }
  const intOrString = out.format === 'int-or-string' || out['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    delete out.type;
    delete out.format;
    out.oneOf = [{ type: 'string' }, { type: 'integer' }];
  }
  if (out.nullable === true && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    delete out.nullable;
  }
  const preserve = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (isSchema(out.properties) && out.additionalProperties === undefined && !preserve) {
    out.additionalProperties = false;
  }
  return out;
}

/** Names of the definitions reachable from `root` through $ref. */
function closure(root: Schema, defs: Record<string, Schema>): Set<string> {
  const seen = new Set<string>();
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) {
      x.forEach(visit);
      return;
    }
    if (!isSchema(x)) return;
    for (const [k, v] of Object.entries(x)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')) {
        const name = v.slice('#/definitions/'.length);
        if (!seen.has(name) && defs[name]) {
          seen.add(name);
          visit(defs[name]);
        }
      } else {
        visit(v);
      }
    }
  };
  visit(root);
  return seen;
}

/** kubeconform's template fields: for apiVersion "v1" both .Group and .ResourceAPIVersion are "v1". */
function fileName(kind: string, group: string, version: string): string {
  return `${kind.toLowerCase()}-${group || version}-${version}.json`;
}

function fromSwagger(outDir: string, swaggerPath: string): number {
  const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8')) as { definitions: Record<string, Schema> };
  const defs = swagger.definitions;
  let count = 0;
  for (const [name, def] of Object.entries(defs)) {
    const gvks = def['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks)) continue;
    const reachable = closure(def, defs);
    const definitions = Object.fromEntries(
      [...reachable].sort().map((d) => [d, convert(defs[d] as Schema, '#/definitions/')]),
    );
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      ...convert(def, '#/definitions/'),
      definitions,
    };
    for (const gvk of gvks as Array<{ group: string; version: string; kind: string }>) {
      // List kinds and the like share definitions with their items; only top-level kinds matter.
      writeFileSync(join(outDir, fileName(gvk.kind, gvk.group, gvk.version)), JSON.stringify(schema));
      count++;
    }
    void name;
  }
  return count;
}

function fromCrd(outDir: string, crdPath: string): number {
  let count = 0;
  for (const doc of parseAllDocuments(readFileSync(crdPath, 'utf8'))) {
    const crd = doc.toJS() as {
      kind?: string;
      spec?: {
        group: string;
        names: { kind: string };
        versions: Array<{ name: string; schema?: { openAPIV3Schema?: Schema } }>;
      };
    } | null;
    if (!crd || crd.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
    for (const v of crd.spec.versions) {
      const root = v.schema?.openAPIV3Schema;
      if (!root) continue;
      const schema = {
        $schema: 'http://json-schema.org/draft-07/schema#',
        ...convert(root, '#/definitions/'),
      };
      writeFileSync(
        join(outDir, fileName(crd.spec.names.kind, crd.spec.group, v.name)),
        JSON.stringify(schema),
      );
      count++;
    }
  }
  return count;
}

const [outDir, swaggerPath, ...crdPaths] = process.argv.slice(2);
if (!outDir || !swaggerPath) {
  console.error('usage: node hack/kube-json-schemas.ts OUT_DIR SWAGGER_JSON [CRD_YAML...]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const n = fromSwagger(outDir, swaggerPath) + crdPaths.reduce((sum, p) => sum + fromCrd(outDir, p), 0);
console.error(`kube-json-schemas: wrote ${n} schemas to ${outDir}`);
