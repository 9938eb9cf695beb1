// The decoder under random and mutated input: a million PDUs through PduReader. Every framed PDU
// comes out as exactly one thing — a PDU or a refusal with the response to send — nothing
// throws, and the PDU after a bad one is still read (the link does not stall).
import fc from 'fast-check';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { MAX_PDU_LENGTH, PduReader, type PduSink } from '../../../src/smpp/pdu-reader.js';
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
  return new PduReader(sink, { strict: true });
}

/**
 * The framing the stream has, walked by command_length alone (the oracle for the reader): whether a
 * length breaks the framing before the end, where the last frame ends (past the stream's end when
 * it is incomplete) and whether a frame starts where the trailing canary does.
 */
function walkFrames(stream: Buffer): { fatal: boolean; end: number; reachesCanary: boolean } {
  const canaryAt = stream.length - ENQUIRE.length;
  let at = 0;
  let reachesCanary = false;
  while (stream.length - at >= 4) {
    if (at === canaryAt) reachesCanary = true;
    const len = stream.readUInt32BE(at);
    if (len < 16 || len > MAX_PDU_LENGTH) return { fatal: true, end: at, reachesCanary: false };
    at += len;
  }
  return { fatal: false, end: at, reachesCanary };
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

  it('a prefix whose command_length swallows the next PDU: the reader waits for that frame, then reads on', () => {
    // fast-check's counterexample of seed -1219748987 for an oracle that expected the canary
    // regardless: 00 00 01 and the canary's first byte declare a 256-byte PDU.
    const t: Tally = { pdus: 0, refused: 0, fatal: 0, canary: 0, badResponse: 0 };
    const rd = reader(t);
    const stream = Buffer.concat([Buffer.from([0, 0, 1]), ENQUIRE]);
    for (let i = 0; i < stream.length; i++) rd.push(stream.subarray(i, i + 1));
    expect(t).toEqual({ pdus: 0, refused: 0, fatal: 0, canary: 0, badResponse: 0 });
    expect(rd.stopped).toBe(false);
    rd.push(Buffer.concat([Buffer.alloc(256 - stream.length), ENQUIRE]));
    expect(t.pdus + t.refused).toBe(1);
    expect(t.canary).toBe(1);
    expect(t.fatal).toBe(0);
  });

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
          const frames = walkFrames(stream);
          let at = 0;
          let k = 0;
          while (at < stream.length) {
            const n = cuts[k++ % cuts.length] as number;
            rd.push(stream.subarray(at, at + n)); // a throw fails the property
            at += n;
          }
          expect(t.badResponse).toBe(0);
          expect(t.fatal).toBe(frames.fatal ? 1 : 0);
          expect(rd.stopped).toBe(frames.fatal);
          // The trailing PDU comes out exactly when the framing reaches it: random bytes before it
          // may declare a frame that swallows it (seed -1219748987: 00 00 01 then the canary's
          // 00 is command_length 256), and then the reader rightly waits for the rest of that frame.
          expect(t.canary).toBe(frames.reachesCanary ? 1 : 0);
          // Not a stall: once the open frame is complete, the next PDU is read.
          if (!frames.fatal && frames.end >= stream.length) {
            rd.push(Buffer.concat([Buffer.alloc(frames.end - stream.length), ENQUIRE]));
            expect(t.canary).toBe(frames.reachesCanary ? 2 : 1);
          }
        },
      ),
      { numRuns: 5_000 },
    );
  }, 120_000);
});
