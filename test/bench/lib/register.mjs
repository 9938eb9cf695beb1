// `node --import ./test/bench/lib/register.mjs <bench>.ts` (Node 24 strips the types itself)
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
