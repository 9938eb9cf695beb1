// Resolve hook for running benchmarks straight from TypeScript sources with Node's built-in type
// stripping: source imports say `./x.js` (NodeNext style) while the file on disk is `./x.ts`.
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  if (
    specifier.endsWith('.js') &&
    (specifier.startsWith('.') || specifier.startsWith('/')) &&
    context.parentURL
  ) {
    const candidate = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (candidate.protocol === 'file:' && existsSync(fileURLToPath(candidate))) {
      return nextResolve(candidate.href, context);
    }
  }
  return nextResolve(specifier, context);
}
