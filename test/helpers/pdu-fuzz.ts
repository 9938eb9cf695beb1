// Random and mutated PDUs for the decoder fuzz (unit) and the listener fuzz (integration).
import smpp from 'smpp';
import type { PduOptions } from 'smpp';

/** xorshift32: a fast deterministic stream, so a failure can be replayed from its seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function enc(command: string, fields: PduOptions): Buffer {
  return new smpp.PDU(command as never, fields).toBuffer();
}

const sm = { source_addr: '4915550001', destination_addr: '4915550002', short_message: Buffer.from('hello') };

// Every PDU the gateway sends or receives, as the `smpp` package writes them.
export const CORPUS: readonly Buffer[] = [
  enc('submit_sm', { ...sm, registered_delivery: 1 }),
  enc('submit_sm', {
    ...sm,
    esm_class: 0x40,
    data_coding: 8,
    sar_msg_ref_num: 7,
    sar_total_segments: 2,
    sar_segment_seqnum: 1,
  }),
  enc('submit_sm', { ...sm, short_message: Buffer.alloc(0), message_payload: Buffer.alloc(300, 0x41) }),
  enc('deliver_sm', { ...sm, esm_class: 4, receipted_message_id: 'abc123', message_state: 2 }),
  enc('deliver_sm', { ...sm, user_message_reference: 9, source_port: 1, destination_port: 2 }),
  enc('data_sm', { source_addr: '1', destination_addr: '2', message_payload: Buffer.from('x') }),
  enc('query_sm', { message_id: 'id-1', source_addr: '1555' }),
  enc('bind_transceiver', { system_id: 'partnerA', password: 'pw', system_type: 'x' }),
  enc('bind_transmitter', { system_id: 'a', password: 'b' }),
  enc('bind_receiver', { system_id: 'a', password: 'b', address_range: '^49' }),
  enc('enquire_link', {}),
  enc('unbind', {}),
  enc('outbind', { system_id: 'a', password: 'b' }),
  enc('alert_notification', { source_addr: '1', esme_addr: '2' }),
  enc('cancel_sm', { message_id: 'm', source_addr: '1', destination_addr: '2' }),
  enc('submit_sm_resp', { message_id: 'c-1' }),
  enc('deliver_sm_resp', { message_id: '' }),
  enc('bind_transceiver_resp', { system_id: 'smsc' }),
  enc('query_sm_resp', { message_id: 'm', final_date: '', message_state: 2, error_code: 0 }),
  enc('enquire_link_resp', {}),
  enc('unbind_resp', {}),
  enc('generic_nack', { command_status: 3 }),
];

/** One mutation of a corpus PDU; command_length is kept true, so framing survives. */
export function mutate(r: () => number, base: Buffer): Buffer {
  const pick = (n: number): number => Math.floor(r() * n);
  let b = Buffer.from(base);
  switch (pick(6)) {
    case 0: {
      // flip bytes anywhere after the length field
      const n = 1 + pick(4);
      for (let i = 0; i < n; i++) b[4 + pick(b.length - 4)] = pick(256);
      break;
    }
    case 1: // cut the body short
      b = b.subarray(0, 16 + pick(b.length - 15));
      break;
    case 2: {
      // append a TLV with a random tag among the known ones or any, and a random length
      const known = [0x0204, 0x020c, 0x020e, 0x020f, 0x0424, 0x0427, 0x001e, 0x0005, 0x1383];
      const tag = r() < 0.7 ? (known[pick(known.length)] as number) : pick(0x10000);
      const declared = pick(8);
      const actual = r() < 0.5 ? declared : pick(8);
      const tlv = Buffer.alloc(4 + actual);
      tlv.writeUInt16BE(tag, 0);
      tlv.writeUInt16BE(declared, 2);
      b = Buffer.concat([b, tlv]);
      break;
    }
    case 3: {
      // random bytes after a valid header of any command id
      const body = Buffer.alloc(pick(64));
      for (let i = 0; i < body.length; i++) body[i] = pick(256);
      b = Buffer.concat([b.subarray(0, 16), body]);
      break;
    }
    case 4: // a different command id over the same body
      b.writeUInt32BE(
        r() < 0.5 ? (CORPUS[pick(CORPUS.length)] as Buffer).readUInt32BE(4) : pick(0x100000000),
        4,
      );
      break;
    default: // drop every NUL: C-strings run into the next fields
      b = Buffer.from(b.filter((x, i) => i < 16 || x !== 0));
  }
  b = Buffer.from(b);
  b.writeUInt32BE(b.length, 0);
  return b;
}
