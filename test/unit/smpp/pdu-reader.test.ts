import fc from 'fast-check';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { decodeRaw, decodeSimpleResponse } from '../../../src/smpp/pdu-reader.js';

function pduBytes(commandId: number, status: number, seq: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(16 + body.length, 0);
  head.writeUInt32BE(commandId, 4);
  head.writeUInt32BE(status, 8);
  head.writeUInt32BE(seq, 12);
  return Buffer.concat([head, body]);
}

/** Own fields, as the library's decoder leaves them. */
function fields(pdu: object): Record<string, unknown> {
  return { ...pdu };
}

const idText = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 64,
});

// Bodies a carrier may send: nothing, a terminated id, an id followed by a TLV, an id without its
// terminator, an id with a NUL inside.
const bodyArb = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  idText.map((id) => Buffer.from(`${id}\0`, 'ascii')),
  fc
    .tuple(idText, fc.integer({ min: 0, max: 255 }))
    .map(([id, state]) => Buffer.concat([Buffer.from(`${id}\0`), Buffer.from([0x04, 0x27, 0, 1, state])])),
  idText.filter((id) => id.length > 0).map((id) => Buffer.from(id, 'ascii')),
  fc.tuple(idText, idText).map(([a, b]) => Buffer.from(`${a}\0${b}\0`, 'ascii')),
);

describe('decodeSimpleResponse', () => {
  it('gives the same PDU as the smpp package whenever it decodes one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0x80000004, 0x80000005),
        fc.nat({ max: 0xffffffff }),
        fc.integer({ min: 1, max: 0x7fffffff }),
        bodyArb,
        (commandId, status, seq, body) => {
          const bytes = pduBytes(commandId, status, seq, body);
          const fast = decodeSimpleResponse(bytes);
          const lib = new smpp.PDU(bytes);
          if (fast === undefined) return;
          expect(Object.getPrototypeOf(fast)).toBe(Object.getPrototypeOf(lib));
          expect(fields(fast)).toEqual(fields(lib));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('takes the usual answers itself and leaves the rest to the library', () => {
    const ok = pduBytes(0x80000004, 0, 7, Buffer.from('5f3a9c\0', 'ascii'));
    expect(decodeSimpleResponse(ok)?.message_id).toBe('5f3a9c');
    expect(decodeSimpleResponse(pduBytes(0x80000005, 0, 8, Buffer.alloc(0)))?.command).toBe(
      'deliver_sm_resp',
    );
    const refused = decodeSimpleResponse(pduBytes(0x80000004, 0x58, 9, Buffer.alloc(0)));
    expect(refused?.command_status).toBe(0x58);
    expect(refused && 'message_id' in refused).toBe(false);
    // With a TLV after the id, or another command: the library decodes it.
    const withTlv = pduBytes(0x80000004, 0, 10, Buffer.from([0x61, 0, 0x04, 0x27, 0, 1, 2]));
    expect(decodeSimpleResponse(withTlv)).toBeUndefined();
    expect(decodeRaw(withTlv).message_id).toBe('a');
    expect(decodeSimpleResponse(pduBytes(0x80000015, 0, 11, Buffer.alloc(0)))).toBeUndefined();
    // The decoded response still answers like a library PDU.
    expect(decodeRaw(ok).isResponse()).toBe(true);
  });
});
