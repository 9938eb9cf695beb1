// The decoder under random and mutated input: a million PDUs through PduReader. Every framed PDU
// comes out as exactly one thing — a PDU or a refusal with the response to send — nothing
// throws, and the PDU after a bad one is still read (the link does not stall).
import fc from 'fast-check';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { PduReader, type PduSink } from '../../../src/smpp/pdu-reader.js';
import { SmppDecodeError } from '../../../src/smpp/errors.js';
import { CORPUS, mutate, rng } from '../../helpers/pdu-fuzz.js';

const ENQUIRE = new smpp.PDU('enquire_link', { sequence_number: 0x7ffffffe }).toBuffer();

interface Tally {
  pdus: number;
  refused: number;
  fatal: number;
  canary: number;
  badResponse: number;
}

function reader(t: Tally): PduReader {
  const sink: PduSink = {
    onPdu: (p) => {
      if (p.sequence_number === 0x7ffffffe && p.command === 'enquire_link') t.canary++;
      else t.pdus++;
    },
    onRefused: (r) => {
      // A header-only response with the response bit set (or generic_nack), the request's sequence;
      // none only for a response PDU of a command we do not know (a response is never answered).
      if (r.response === null) {
        if ((r.commandId & 0x80000000) === 0) t.badResponse++;
      } else if (r.response.length !== 16 || (r.response.readUInt32BE(4) & 0x80000000) === 0) t.badResponse++;
      else if (r.response.readUInt32BE(12) !== r.sequence) t.badResponse++;
      t.refused++;
    },
    onDecodeError: (e) => {
      if (!(e instanceof SmppDecodeError)) t.badResponse++;
      t.fatal++;
    },
  };
  return new PduReader(sink, { addresses: true });
}

describe('decoder fuzz', () => {
  it('a million random and mutated PDUs: each comes out once, nothing throws, the next PDU is read', () => {
    const r = rng(0x5eed17);
    const TOTAL = 1_000_000;
    const BATCH = 100;
    const t: Tally = { pdus: 0, refused: 0, fatal: 0, canary: 0, badResponse: 0 };
    const rd = reader(t);
    let sent = 0;
    for (let done = 0; done < TOTAL; done += BATCH) {
      const parts: Buffer[] = [];
      for (let i = 0; i < BATCH; i++) {
        const base = CORPUS[Math.floor(r() * CORPUS.length)] as Buffer;
        parts.push(r() < 0.25 ? base : mutate(r, base));
      }
      parts.push(ENQUIRE);
      sent += BATCH;
      const stream = Buffer.concat(parts);
      // split the stream at random points, as TCP may
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(r() * 2048);
        rd.push(stream.subarray(at, at + n));
        at += n;
      }
      if (t.canary !== done / BATCH + 1) throw new Error(`stalled after batch ${done / BATCH}`);
    }
    expect(t.fatal).toBe(0);
    expect(t.badResponse).toBe(0);
    expect(t.pdus + t.refused).toBe(sent);
    expect(t.canary).toBe(TOTAL / BATCH);
    // The corpus is not only refused: both outcomes are exercised in bulk.
    expect(t.refused).toBeGreaterThan(TOTAL / 10);
    expect(t.pdus).toBeGreaterThan(TOTAL / 4);
  }, 120_000);

  it('any byte string yields PDUs, refusals or one framing error, never an exception', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
            fc.constantFrom(...CORPUS),
            fc
              .tuple(fc.constantFrom(...CORPUS), fc.uint8Array({ minLength: 1, maxLength: 40 }))
              .map(([b, tail]) => {
                const out = Buffer.concat([b, Buffer.from(tail)]);
                out.writeUInt32BE(out.length, 0);
                return out;
              }),
          ),
          { maxLength: 8 },
        ),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        (pieces, cuts) => {
          const t: Tally = { pdus: 0, refused: 0, fatal: 0, canary: 0, badResponse: 0 };
          const rd = reader(t);
          const stream = Buffer.concat([...pieces, ENQUIRE]);
          let at = 0;
          let k = 0;
          while (at < stream.length) {
            const n = cuts[k++ % cuts.length] as number;
            rd.push(stream.subarray(at, at + n)); // a throw fails the property
            at += n;
          }
          expect(t.fatal).toBeLessThanOrEqual(1);
          expect(t.badResponse).toBe(0);
          // Without a framing error the stream is read to its end: the trailing PDU comes out.
          if (t.fatal === 0) expect(t.canary).toBe(1);
          else expect(rd.stopped).toBe(true);
        },
      ),
      { numRuns: 5_000 },
    );
  }, 120_000);
});
