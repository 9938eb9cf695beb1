// Lets Node 24 run the TypeScript sources directly (its built-in type stripping) although they
// import each other as "./x.js" (NodeNext style): a relative ".js" that does not exist is
// retried as ".ts". Used only by the benchmarks: node --import ./test/bench/smpp-session-loader.ts ...
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      if (specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw err;
    }
  },
});
