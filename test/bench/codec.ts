// Codec benchmark: encode and decode of one-SMS bodies (GSM 03.38 and UCS-2) by src/codec, beside
// the `smpp` package's own encoders doing the same text in the same run (the baseline: what the
// gateway would cost without src/codec). Ours also chooses the charset and splits; the
// baseline only converts. Prints ns per call and the ratio (baseline time / ours: above 1 = faster).
//
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/codec.ts [--iterations 200000] [--rounds 3]
import { createRequire } from 'node:module';
import { decodeMessage, encodeMessage } from '../../src/codec/index.js';
import { intFlag, table } from './lib/format.js';

interface SmppEncoding {
  encode(text: string): Buffer;
  decode(body: Buffer): string;
}
// The package has no typed export for its encoders; src/types/smpp.d.ts covers only what src uses.
const smppDefs = createRequire(import.meta.url)('smpp/lib/defs.js') as {
  encodings: { ASCII: SmppEncoding; UCS2: SmppEncoding };
};

const GSM_TEXT = 'Your verification code is 482913. It expires in 10 minutes. Do not share it.';
const UCS2_TEXT = 'Код подтверждения: 482913. Не сообщайте его никому 🙂';

// Results feed a sink so the engine cannot drop the calls as dead code.
let sink = 0;

function nsPerCall(iterations: number, fn: () => number): number {
  for (let i = 0; i < Math.min(20_000, iterations); i++) sink += fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const args = process.argv.slice(2);
const iterations = intFlag(args, 'iterations', 200_000);
const rounds = intFlag(args, 'rounds', 3);

const gsmBody = encodeMessage(GSM_TEXT)[0]?.shortMessage ?? Buffer.alloc(0);
const ucs2Body = encodeMessage(UCS2_TEXT)[0]?.shortMessage ?? Buffer.alloc(0);

const cases: { name: string; ours: () => number; base: () => number }[] = [
  {
    name: 'encode GSM 1 part',
    ours: () => encodeMessage(GSM_TEXT)[0]?.shortMessage.length ?? 0,
    base: () => smppDefs.encodings.ASCII.encode(GSM_TEXT).length,
  },
  {
    name: 'encode UCS-2 1 part',
    ours: () => encodeMessage(UCS2_TEXT)[0]?.shortMessage.length ?? 0,
    base: () => smppDefs.encodings.UCS2.encode(UCS2_TEXT).length,
  },
  {
    name: 'decode GSM',
    ours: () => decodeMessage({ dataCoding: 0, esmClass: 0, shortMessage: gsmBody }).text.length,
    base: () => smppDefs.encodings.ASCII.decode(gsmBody).length,
  },
  {
    name: 'decode UCS-2',
    ours: () => decodeMessage({ dataCoding: 8, esmClass: 0, shortMessage: ucs2Body }).text.length,
    base: () => smppDefs.encodings.UCS2.decode(ucs2Body).length,
  },
];

const rows: (string | number)[][] = [['case', 'src/codec ns/call', 'smpp package ns/call', 'ratio']];
for (const c of cases) {
  const ours: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate who goes first so warm-up and background load fall on both sides.
    if (r % 2 === 0) {
      ours.push(nsPerCall(iterations, c.ours));
      base.push(nsPerCall(iterations, c.base));
    } else {
      base.push(nsPerCall(iterations, c.base));
      ours.push(nsPerCall(iterations, c.ours));
    }
  }
  const o = median(ours);
  const b = median(base);
  rows.push([c.name, o.toFixed(0), b.toFixed(0), `${(b / o).toFixed(2)}x`]);
}
console.log(table(rows));
if (sink === -1) console.log('unreachable');
