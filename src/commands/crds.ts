import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCrds, crdFileName, crdYaml } from '../api/crd.js';
import { wantsHelp, type Command } from './command.js';

const usage = `Usage: smpp-operator crds [--out DIR | --check [--out DIR]]

Prints the CustomResourceDefinitions of SmppClientBind and SmppServerBind, generated from the
schemas in src/api/.

Options:
  --out DIR    write one file per CRD into DIR (e.g. crds/) instead of printing
  --check      exit 1 when the files in DIR (default crds/) differ from what would be generated
  -h, --help   this help
`;

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export const command: Command = {
  name: 'crds',
  summary: 'print or write the CustomResourceDefinitions (--check: fail if crds/ is stale)',
  usage,
  async run(args) {
    if (wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    let values: { out?: string | undefined; check?: boolean | undefined };
    try {
      ({ values } = parseArgs({
        args,
        options: { out: { type: 'string' }, check: { type: 'boolean' } },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      console.error(`smpp-operator crds: ${(err as Error).message}\n\n${usage}`);
      return 2;
    }
    const files = buildCrds().map((crd) => ({ name: crdFileName(crd), text: crdYaml(crd) }));

    if (values.check) {
      const dir = values.out ?? 'crds';
      const stale: string[] = [];
      for (const f of files) {
        const current = await readOrUndefined(join(dir, f.name));
        if (current !== f.text) stale.push(join(dir, f.name) + (current === undefined ? ' (missing)' : ''));
      }
      if (stale.length > 0) {
        console.error(
          `CRDs are stale: ${stale.join(', ')}\nRegenerate them with: node dist/cli.js crds --out ${dir}`,
        );
        return 1;
      }
      console.log(`CRDs in ${dir}/ are up to date`);
      return 0;
    }

    if (values.out !== undefined) {
      await mkdir(values.out, { recursive: true });
      for (const f of files) {
        await writeFile(join(values.out, f.name), f.text);
        console.log(`wrote ${join(values.out, f.name)}`);
      }
      return 0;
    }

    process.stdout.write(files.map((f) => f.text).join('---\n'));
    return 0;
  },
};
