// Our typed PDUs against the `smpp` package, byte for byte, for every PDU the gateway sends or
// receives: encoding arbitrary valid fields gives the package's bytes, and decoding the
// package's bytes gives the same fields back (the package read raw, without its text filters).
import fc from 'fast-check';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { decodePdu, encodeMessageRequest, encodePdu, PduRefusal } from '../../../src/smpp/pdu/codec.js';
import { partFields } from '../../../src/gateway/pdu-mapping.js';
import { encodeMessage } from '../../../src/codec/index.js';
import type { Command, Pdu } from '../../../src/smpp/pdu/pdu.js';
import { responseTo } from '../../../src/smpp/pdu/pdu.js';
import { SmppEncodeError, Status, statusName } from '../../../src/smpp/errors.js';
import { CommandId } from '../../../src/smpp/pdu/header.js';

const octet = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const seq = fc.integer({ min: 0, max: 0x7fffffff });
// The package reads C-strings as 'ascii' (high bit cleared), so the comparison stays in 0x01-0x7f;
// our own round trip (below) covers Latin-1.
const text = (max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: max });
const time = fc.constantFrom('', '261123120000000+', '000001000000000R');
const bytes = (min: number, max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

// TLVs whose value type the package and SMPP 3.4 agree on (the package reads source_telematics_id
// as 2 octets and alert_on_message_delivery as 1, where 3.4 says 1 and 0).
const tlvArbs = {
  dest_addr_subunit: octet,
  dest_network_type: octet,
  dest_telematics_id: u16,
  qos_time_to_live: u32,
  payload_type: octet,
  additional_status_info_text: text(255),
  receipted_message_id: text(64),
  ms_msg_wait_facilities: octet,
  privacy_indicator: octet,
  source_subaddress: bytes(2, 23),
  user_message_reference: u16,
  source_port: u16,
  destination_port: u16,
  language_indicator: octet,
  callback_num_pres_ind: octet,
  callback_num: bytes(4, 19),
  network_error_code: bytes(3, 3),
  message_payload: bytes(0, 600),
  delivery_failure_reason: octet,
  more_messages_to_send: octet,
  message_state: octet,
  ussd_service_op: octet,
  ms_validity: octet,
  its_session_info: bytes(2, 2),
};
// The three sar_* TLVs come together or not at all (a request with some of them is refused).
const sar = fc.option(
  fc.record({ sar_msg_ref_num: u16, sar_total_segments: octet, sar_segment_seqnum: octet }),
  { nil: undefined },
);
const tlvs = fc
  .tuple(fc.record(tlvArbs, { requiredKeys: [] }), sar, fc.boolean())
  .map(([t, s, first]) => (s === undefined ? t : first ? { ...s, ...t } : { ...t, ...s }));

const head = { command_status: fc.constant(0), sequence_number: seq };

const shortMessage = {
  ...head,
  service_type: text(5),
  source_addr_ton: octet,
  source_addr_npi: octet,
  source_addr: text(20),
  dest_addr_ton: octet,
  dest_addr_npi: octet,
  destination_addr: text(20),
  esm_class: octet,
  protocol_id: octet,
  priority_flag: octet,
  schedule_delivery_time: time,
  validity_period: time,
  registered_delivery: octet,
  replace_if_present_flag: octet,
  data_coding: octet,
  sm_default_msg_id: octet,
  short_message: bytes(0, 255),
};

const withTlvs = <T extends object>(base: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.tuple(base, tlvs).map(([b, t]) => ({ ...b, ...t }));

const bind = (command: 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver'): fc.Arbitrary<Pdu> =>
  fc.record({
    command: fc.constant(command),
    ...head,
    system_id: text(40),
    password: text(40),
    system_type: text(12),
    interface_version: octet,
    addr_ton: octet,
    addr_npi: octet,
    address_range: text(40),
  });
const bindResp = (
  command: 'bind_transmitter_resp' | 'bind_receiver_resp' | 'bind_transceiver_resp',
): fc.Arbitrary<Pdu> =>
  fc.record(
    { command: fc.constant(command), ...head, system_id: text(15), sc_interface_version: octet },
    { requiredKeys: ['command', 'command_status', 'sequence_number', 'system_id'] },
  );
const headerOnly = (
  command: 'unbind' | 'unbind_resp' | 'enquire_link' | 'enquire_link_resp',
): fc.Arbitrary<Pdu> => fc.record({ command: fc.constant(command), ...head });

const ARBS: Record<Command, fc.Arbitrary<Pdu>> = {
  bind_transmitter: bind('bind_transmitter'),
  bind_receiver: bind('bind_receiver'),
  bind_transceiver: bind('bind_transceiver'),
  bind_transmitter_resp: bindResp('bind_transmitter_resp'),
  bind_receiver_resp: bindResp('bind_receiver_resp'),
  bind_transceiver_resp: bindResp('bind_transceiver_resp'),
  unbind: headerOnly('unbind'),
  unbind_resp: headerOnly('unbind_resp'),
  enquire_link: headerOnly('enquire_link'),
  enquire_link_resp: headerOnly('enquire_link_resp'),
  generic_nack: fc.record({
    command: fc.constant('generic_nack' as const),
    command_status: u32,
    sequence_number: seq,
  }),
  outbind: fc.record({
    command: fc.constant('outbind' as const),
    ...head,
    system_id: text(15),
    password: text(8),
  }),
  alert_notification: fc.record(
    {
      command: fc.constant('alert_notification' as const),
      ...head,
      source_addr_ton: octet,
      source_addr_npi: octet,
      source_addr: text(64),
      esme_addr_ton: octet,
      esme_addr_npi: octet,
      esme_addr: text(64),
      ms_availability_status: octet,
    },
    {
      requiredKeys: [
        'command',
        'command_status',
        'sequence_number',
        'source_addr_ton',
        'source_addr_npi',
        'source_addr',
        'esme_addr_ton',
        'esme_addr_npi',
        'esme_addr',
      ],
    },
  ),
  submit_sm: withTlvs(fc.record({ command: fc.constant('submit_sm' as const), ...shortMessage })),
  deliver_sm: withTlvs(fc.record({ command: fc.constant('deliver_sm' as const), ...shortMessage })),
  data_sm: withTlvs(
    fc.record({
      command: fc.constant('data_sm' as const),
      ...head,
      service_type: text(5),
      source_addr_ton: octet,
      source_addr_npi: octet,
      source_addr: text(64),
      dest_addr_ton: octet,
      dest_addr_npi: octet,
      destination_addr: text(64),
      esm_class: octet,
      registered_delivery: octet,
      data_coding: octet,
    }),
  ),
  submit_sm_resp: fc.record({
    command: fc.constant('submit_sm_resp' as const),
    ...head,
    message_id: text(64),
  }),
  deliver_sm_resp: fc.record({
    command: fc.constant('deliver_sm_resp' as const),
    ...head,
    message_id: text(64),
  }),
  data_sm_resp: withTlvs(
    fc.record({ command: fc.constant('data_sm_resp' as const), ...head, message_id: text(64) }),
  ),
  query_sm: fc.record({
    command: fc.constant('query_sm' as const),
    ...head,
    message_id: text(64),
    source_addr_ton: octet,
    source_addr_npi: octet,
    source_addr: text(20),
  }),
  query_sm_resp: fc.record({
    command: fc.constant('query_sm_resp' as const),
    ...head,
    message_id: text(64),
    final_date: time,
    message_state: octet,
    error_code: octet,
  }),
};

// Where the package's names and shapes differ from SMPP 3.4's (and ours).
const PKG_NAME: Record<string, string> = { destination_port: 'dest_port' };
const PKG_MULTIPLE = new Set(['callback_num_pres_ind', 'callback_num']);
const PKG_BUFFER = new Set(['ms_validity']);

/** Our PDU as the package's options object, keys in the same order (TLVs go out in key order). */
function toPackage(p: Pdu): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'command') continue;
    let value: unknown = v;
    if (PKG_BUFFER.has(k)) value = Buffer.from([v as number]);
    if (PKG_MULTIPLE.has(k)) value = [value];
    out[PKG_NAME[k] ?? k] = value;
  }
  return out;
}

function packageEncode(p: Pdu): Buffer {
  return new smpp.PDU(p.command as never, toPackage(p) as never).toBuffer();
}

/** The package's decoding of `b` without its filters (which turn bodies into guessed text), as our fields. */
function packageDecode(b: Buffer): Record<string, unknown> {
  const pdu = Object.create(smpp.PDU.prototype) as Record<string, unknown> & { fromBuffer(b: Buffer): void };
  pdu._filter = () => undefined;
  pdu.fromBuffer(b);
  const out: Record<string, unknown> = {};
  const renamed = Object.fromEntries(Object.entries(PKG_NAME).map(([ours, theirs]) => [theirs, ours]));
  for (const [k, v] of Object.entries(pdu)) {
    if (k === 'command_length' || k === 'command_id' || k === '_filter') continue;
    let value = v;
    if (PKG_MULTIPLE.has(k) && Array.isArray(v)) value = v[0];
    if (PKG_BUFFER.has(k) && Buffer.isBuffer(v)) value = v[0];
    out[renamed[k] ?? k] = value;
  }
  return out;
}

function comparable(p: Pdu): Record<string, unknown> {
  return { ...p };
}

describe('typed PDUs against the smpp package', () => {
  for (const command of Object.keys(ARBS) as Command[]) {
    const arb = ARBS[command];
    it(`${command}: our bytes are the package's, and each side decodes the other's to the same fields`, () => {
      fc.assert(
        fc.property(arb, (p) => {
          const ours = encodePdu(p);
          const theirs = packageEncode(p);
          expect(ours.toString('hex')).toBe(theirs.toString('hex'));
          const back = decodePdu(theirs);
          expect(back).not.toBeInstanceOf(PduRefusal);
          expect(comparable(back as Pdu)).toEqual(comparable(p));
          // and the package reads our bytes to our fields
          const pkg = packageDecode(ours);
          const expected: Record<string, unknown> = { ...p };
          if (p.command === 'generic_nack' || p.command_status !== 0) {
            for (const k of Object.keys(expected))
              if (!['command', 'command_status', 'sequence_number'].includes(k)) delete expected[k];
          }
          expect(pkg).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('any framed byte string decodes to a PDU or a refusal, never an exception', () => {
    const ids = fc.oneof(fc.constantFrom(...Object.values(CommandId)), u32);
    fc.assert(
      fc.property(ids, u32, seq, fc.uint8Array({ maxLength: 300 }), (id, status, sequence, body) => {
        const b = Buffer.alloc(16 + body.length);
        b.writeUInt32BE(b.length, 0);
        b.writeUInt32BE(id, 4);
        b.writeUInt32BE(status, 8);
        b.writeUInt32BE(sequence, 12);
        b.set(body, 16);
        const d = decodePdu(b, { strict: true });
        if (d instanceof PduRefusal) {
          expect(d.sequence).toBe(sequence);
          if ((id & 0x80000000) === 0) expect(d.response?.readUInt32BE(12)).toBe(sequence);
        } else {
          expect(d.sequence_number).toBe(sequence);
          expect(typeof d.command).toBe('string');
        }
      }),
      { numRuns: 20000 },
    );
  });

  it('Latin-1 strings and every octet value survive our own round trip', () => {
    const latin1 = fc.string({
      unit: fc.integer({ min: 1, max: 0xff }).map((c) => String.fromCharCode(c)),
      maxLength: 20,
    });
    fc.assert(
      fc.property(ARBS.submit_sm, latin1, (p, addr) => {
        const q = { ...p, source_addr: addr } as Pdu;
        expect(decodePdu(encodePdu(q))).toEqual(q);
      }),
    );
  });

  it("what the gateway sends (one SMS, UDH parts, SAR parts, payload) is the package's bytes", () => {
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
        for (const command of ['submit_sm', 'deliver_sm'] as const) {
          const ours = encodeMessageRequest(command, f, 42);
          const theirs = new smpp.PDU(command, { ...f, sequence_number: 42 } as never).toBuffer();
          expect(ours.toString('hex')).toBe(theirs.toString('hex'));
        }
      }
    }
  });

  it('a response with an error status is its header alone (§3.3), as the package writes it', () => {
    fc.assert(
      fc.property(ARBS.submit_sm_resp, fc.integer({ min: 1, max: 0xffffffff }), (p, status) => {
        const q = { ...p, command_status: status } as Pdu;
        const b = encodePdu(q);
        expect(b.length).toBe(16);
        expect(b.equals(packageEncode(q))).toBe(true);
        expect(decodePdu(b)).toEqual({
          command: 'submit_sm_resp',
          command_status: status,
          sequence_number: p.sequence_number,
          message_id: '',
        });
      }),
    );
  });

  it('values the types cannot rule out are an SmppEncodeError, never a TypeError', () => {
    const base = {
      command: 'submit_sm',
      command_status: 0,
      sequence_number: 1,
      service_type: '',
      source_addr_ton: 0,
      source_addr_npi: 0,
      source_addr: '1',
      dest_addr_ton: 0,
      dest_addr_npi: 0,
      destination_addr: '2',
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.alloc(0),
    } as const;
    const bad: Record<string, unknown>[] = [
      { esm_class: 256 },
      { data_coding: -1 },
      { source_addr: '1'.repeat(21) },
      { destination_addr: 'caf\u00e9\u20ac' },
      { service_type: 'a\0b' },
      { short_message: Buffer.alloc(256) },
      { schedule_delivery_time: '2611' },
      { sar_msg_ref_num: 0x10000 },
      { sar_msg_ref_num: 1, sar_total_segments: 1.5, sar_segment_seqnum: 1 },
      { sar_msg_ref_num: 1 },
      { network_error_code: Buffer.alloc(2) },
      { receipted_message_id: 'x'.repeat(65) },
      { short_message: 'not a buffer' },
      { source_addr: 42 },
      { sequence_number: 2 ** 32 },
    ];
    for (const b of bad) {
      const p = { ...base, ...b } as unknown as Pdu;
      expect(() => encodePdu(p), JSON.stringify(b)).toThrow(SmppEncodeError);
    }
  });

  it('responseTo builds the response each request is answered with', () => {
    const req = decodePdu(
      packageEncode({
        command: 'query_sm',
        command_status: 0,
        sequence_number: 42,
        message_id: 'm1',
        source_addr_ton: 0,
        source_addr_npi: 0,
        source_addr: '',
      }),
    );
    if (req instanceof PduRefusal || req.command !== 'query_sm') throw new Error('query_sm did not decode');
    const r = responseTo(req, 0, { message_id: 'm1', message_state: 2 });
    expect(r).toEqual({
      command: 'query_sm_resp',
      command_status: 0,
      sequence_number: 42,
      message_id: 'm1',
      final_date: '',
      message_state: 2,
      error_code: 0,
    });
    const theirs = new smpp.PDU(encodePdu(req)).response({ message_id: 'm1', message_state: 2 }).toBuffer();
    expect(encodePdu(r).equals(theirs)).toBe(true);
    const neg = responseTo(req, Status.ESME_RQUERYFAIL);
    expect(encodePdu(neg).length).toBe(16);
  });

  it('requests the gateway does not take are refused with generic_nack ESME_RINVCMDID (§4.3)', () => {
    const cancel = new smpp.PDU('cancel_sm', {
      sequence_number: 5,
      message_id: 'm',
      source_addr: '1',
      destination_addr: '2',
    }).toBuffer();
    const r = decodePdu(cancel);
    expect(r).toBeInstanceOf(PduRefusal);
    const refusal = r as PduRefusal;
    expect(refusal.code).toBe('refused');
    expect(refusal.status).toBe(Status.ESME_RINVCMDID);
    expect(refusal.response?.readUInt32BE(4)).toBe(0x80000000);
    expect(refusal.response?.readUInt32BE(8)).toBe(Status.ESME_RINVCMDID);
    const unknown = Buffer.from(cancel.subarray(0, 16));
    unknown.writeUInt32BE(16, 0);
    unknown.writeUInt32BE(0x00000077, 4);
    const u = decodePdu(unknown) as PduRefusal;
    expect(u.response?.readUInt32BE(4)).toBe(0x80000000);
    expect(u.response?.readUInt32BE(12)).toBe(5);
    // a response we do not know is not answered (no response to a response)
    unknown.writeUInt32BE(0x80000077, 4);
    expect((decodePdu(unknown) as PduRefusal).response).toBeNull();
  });

  it('a request that breaks SMPP 3.4 is a refusal that says which response to send', () => {
    const bad = new smpp.PDU('submit_sm', {
      sequence_number: 9,
      source_addr: '1',
      destination_addr: '2',
      user_message_reference: 1,
    }).toBuffer();
    // user_message_reference is 2 octets; say 1
    bad.writeUInt16BE(1, bad.length - 4);
    const fixed = Buffer.concat([bad.subarray(0, bad.length - 1)]);
    fixed.writeUInt32BE(fixed.length, 0);
    const r = decodePdu(fixed) as PduRefusal;
    expect(r).toBeInstanceOf(PduRefusal);
    expect(r.status).toBe(Status.ESME_RINVTLVLEN);
    expect(r.response?.readUInt32BE(4)).toBe(0x80000004);
    expect(r.response?.readUInt32BE(8)).toBe(Status.ESME_RINVTLVLEN);
    expect(r.response?.readUInt32BE(12)).toBe(9);
  });
});

describe('repeated TLVs (SMPP 3.4: only callback_num and its companions repeat)', () => {
  const withTlv = (pdu: Buffer, tag: number, value: Buffer): Buffer => {
    const tlv = Buffer.alloc(4 + value.length);
    tlv.writeUInt16BE(tag, 0);
    tlv.writeUInt16BE(value.length, 2);
    value.copy(tlv, 4);
    const out = Buffer.concat([pdu, tlv]);
    out.writeUInt32BE(out.length, 0);
    return out;
  };
  const submit = (): Buffer =>
    new smpp.PDU('submit_sm', { sequence_number: 11, source_addr: '1', destination_addr: '2' }).toBuffer();

  it('a partner request repeating a TLV that may not repeat is refused ESME_RINVOPTPARSTREAM', () => {
    const twice = withTlv(withTlv(submit(), 0x0204, Buffer.from([0, 1])), 0x0204, Buffer.from([0, 2]));
    const r = decodePdu(twice, { strict: true }) as PduRefusal;
    expect(r).toBeInstanceOf(PduRefusal);
    expect(r.status).toBe(Status.ESME_RINVOPTPARSTREAM);
    expect(r.reason).toBe('TLV user_message_reference appears more than once');
    expect(r.response?.readUInt32BE(4)).toBe(0x80000004);
    expect(r.response?.readUInt32BE(12)).toBe(11);
    // once is fine
    const once = decodePdu(withTlv(submit(), 0x0204, Buffer.from([0, 1])), { strict: true });
    expect(once).not.toBeInstanceOf(PduRefusal);
    expect((once as { user_message_reference?: number }).user_message_reference).toBe(1);
  });

  it("a carrier's request repeating a TLV is taken with the first value (a refused receipt would come back)", () => {
    const twice = withTlv(withTlv(submit(), 0x0204, Buffer.from([0, 1])), 0x0204, Buffer.from([0, 2]));
    const p = decodePdu(twice, { strict: false }) as { user_message_reference?: number };
    expect(p).not.toBeInstanceOf(PduRefusal);
    expect(p.user_message_reference).toBe(1);
  });

  it('callback_num may repeat: the first is the typed field, the others stay in other_tlvs', () => {
    const a = Buffer.from([1, 1, 1, 0x31, 0x32]);
    const b = Buffer.from([1, 1, 1, 0x33, 0x34]);
    const p = decodePdu(withTlv(withTlv(submit(), 0x0381, a), 0x0381, b)) as {
      callback_num?: Buffer;
      other_tlvs?: { tag: number; value: Buffer }[];
    };
    expect(p).not.toBeInstanceOf(PduRefusal);
    expect(p.callback_num).toEqual(a);
    expect(p.other_tlvs).toEqual([{ tag: 0x0381, value: b }]);
  });

  it('a response, read leniently, keeps the first instance and the rest in other_tlvs', () => {
    const resp = new smpp.PDU('bind_transceiver_resp', { sequence_number: 3, system_id: 'smsc' }).toBuffer();
    const p = decodePdu(withTlv(withTlv(resp, 0x0210, Buffer.from([0x34])), 0x0210, Buffer.from([0x50]))) as {
      sc_interface_version?: number;
      other_tlvs?: { tag: number; value: Buffer }[];
    };
    expect(p.sc_interface_version).toBe(0x34);
    expect(p.other_tlvs).toEqual([{ tag: 0x0210, value: Buffer.from([0x50]) }]);
  });
});

describe('status names', () => {
  it('name every command_status the smpp package names, as it does', () => {
    const first = new Map<number, string>();
    for (const [name, code] of Object.entries(smpp.errors)) if (!first.has(code)) first.set(code, name);
    for (const [code, name] of first) expect(statusName(code)).toBe(name);
    expect(statusName(0x4242)).toBe('0x00004242');
  });
});
