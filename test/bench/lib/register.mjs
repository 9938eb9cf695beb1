// `node --experimental-transform-types --import ./test/bench/lib/register.mjs <bench>.ts`
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
