/** What every PDU carries besides its body (SMPP 3.4 §3.2): the header less command_length. */
export interface Header {
  /** 0 in requests; in responses, the outcome (see errors.ts Status). */
  command_status: number;
  sequence_number: number;
}

export const CommandId = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  replace_sm: 0x00000007,
  replace_sm_resp: 0x80000007,
  cancel_sm: 0x00000008,
  cancel_sm_resp: 0x80000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  submit_multi: 0x00000021,
  submit_multi_resp: 0x80000021,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
} as const;

const NAMES = new Map<number, string>(Object.entries(CommandId).map(([name, id]) => [id, name]));

/** "submit_sm" for 0x00000004; an id SMPP 3.4 does not define as hex. */
export function commandName(id: number): string {
  return NAMES.get(id >>> 0) ?? `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}
