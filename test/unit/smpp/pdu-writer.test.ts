import fc from 'fast-check';
import smpp, { type PduOptions } from 'smpp';
import { describe, expect, it } from 'vitest';
import { encodeSubmitSm } from '../../../src/smpp/pdu-writer.js';
import { partFields } from '../../../src/gateway/pdu-mapping.js';
import { encodeMessage } from '../../../src/codec/index.js';

// The `smpp` package is the oracle: the direct encoder must give exactly its bytes.
function library(fields: PduOptions, seq: number): Buffer {
  const pdu = new smpp.PDU('submit_sm', { ...fields });
  pdu.sequence_number = seq;
  return pdu.toBuffer();
}

const octet = fc.integer({ min: 0, max: 255 });
const printable = (max: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

const fieldsArb: fc.Arbitrary<PduOptions> = fc.record(
  {
    service_type: printable(5),
    source_addr_ton: octet,
    source_addr_npi: octet,
    source_addr: printable(20),
    dest_addr_ton: octet,
    dest_addr_npi: octet,
    destination_addr: printable(20),
    esm_class: octet,
    protocol_id: octet,
    priority_flag: octet,
    schedule_delivery_time: fc.constantFrom('', '261123120000000+'),
    validity_period: fc.constantFrom('', '000001000000000R'),
    registered_delivery: octet,
    replace_if_present_flag: octet,
    data_coding: octet,
    sm_default_msg_id: octet,
    short_message: fc.uint8Array({ maxLength: 255 }).map((a) => Buffer.from(a)),
    sar_msg_ref_num: fc.integer({ min: 0, max: 0xffff }),
    sar_total_segments: octet,
    sar_segment_seqnum: octet,
    message_payload: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
  },
  { requiredKeys: [] },
);

describe('encodeSubmitSm', () => {
  it('gives the smpp package’s bytes for any field set it accepts', () => {
    fc.assert(
      fc.property(fieldsArb, fc.integer({ min: 1, max: 0x7fffffff }), (fields, seq) => {
        const ours = encodeSubmitSm(fields, seq);
        expect(ours).toBeDefined();
        expect(ours?.toString('hex')).toBe(library(fields, seq).toString('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the package’s bytes for what the gateway sends: one SMS, UDH parts, SAR parts, payload', () => {
    const msg = { id: '1', source_msisdn: '+15550001111', destination_msisdn: '447700900123' };
    const cases = [
      encodeMessage('hello'),
      encodeMessage('x'.repeat(400), { longMessage: 'udh8', reference: 7 }),
      encodeMessage('Привет '.repeat(30), { longMessage: 'sar', reference: 300 }),
      encodeMessage('y'.repeat(500), { longMessage: 'payload' }),
      encodeMessage('z'.repeat(300), { longMessage: 'udh16', reference: 65000 }),
    ];
    for (const parts of cases) {
      for (const part of parts) {
        const f = partFields({ ...msg, message_body: '' }, part, undefined, 1);
        const ours = encodeSubmitSm(f, 42);
        expect(ours?.toString('hex')).toBe(library(f, 42).toString('hex'));
      }
    }
  });

  it('declines what it does not cover, so the caller uses the package', () => {
    const base: PduOptions = {
      source_addr: '123',
      destination_addr: '456',
      short_message: Buffer.from('hi'),
    };
    expect(encodeSubmitSm({ ...base, user_message_reference: 5 }, 1)).toBeUndefined();
    expect(encodeSubmitSm({ ...base, source_addr: 'Café' }, 1)).toBeUndefined();
    expect(encodeSubmitSm({ ...base, short_message: 'text' }, 1)).toBeUndefined();
    expect(encodeSubmitSm({ ...base, short_message: Buffer.alloc(256) }, 1)).toBeUndefined();
    expect(encodeSubmitSm({ ...base, data_coding: 256 }, 1)).toBeUndefined();
    expect(encodeSubmitSm({ ...base, sar_total_segments: 300 }, 1)).toBeUndefined();
  });
});
