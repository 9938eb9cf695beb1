/**
 * The optional parameters of SMPP 3.4 §5.3.2 with the lengths the specification allows. A TLV
 * with a known tag and a length outside its range is refused (ESME_RINVTLVLEN); a tag we do not
 * know is skipped, as §3.2.4 (optional parameters) asks of receivers.
 */
export interface TlvSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

function fixed(name: string, n: number): TlvSpec {
  return { name, min: n, max: n };
}

function range(name: string, min: number, max: number): TlvSpec {
  return { name, min, max };
}

const SPECS: readonly (readonly [number, TlvSpec])[] = [
  [0x0005, fixed('dest_addr_subunit', 1)],
  [0x0006, fixed('dest_network_type', 1)],
  [0x0007, fixed('dest_bearer_type', 1)],
  [0x0008, fixed('dest_telematics_id', 2)],
  [0x000d, fixed('source_addr_subunit', 1)],
  [0x000e, fixed('source_network_type', 1)],
  [0x000f, fixed('source_bearer_type', 1)],
  [0x0010, fixed('source_telematics_id', 1)],
  [0x0017, fixed('qos_time_to_live', 4)],
  [0x0019, fixed('payload_type', 1)],
  [0x001d, range('additional_status_info_text', 1, 256)],
  [0x001e, range('receipted_message_id', 1, 65)],
  [0x0030, fixed('ms_msg_wait_facilities', 1)],
  [0x0201, fixed('privacy_indicator', 1)],
  [0x0202, range('source_subaddress', 2, 23)],
  [0x0203, range('dest_subaddress', 2, 23)],
  [0x0204, fixed('user_message_reference', 2)],
  [0x0205, fixed('user_response_code', 1)],
  [0x020a, fixed('source_port', 2)],
  [0x020b, fixed('destination_port', 2)],
  [0x020c, fixed('sar_msg_ref_num', 2)],
  [0x020d, fixed('language_indicator', 1)],
  [0x020e, fixed('sar_total_segments', 1)],
  [0x020f, fixed('sar_segment_seqnum', 1)],
  [0x0210, fixed('sc_interface_version', 1)],
  [0x0302, fixed('callback_num_pres_ind', 1)],
  [0x0303, range('callback_num_atag', 0, 65)],
  [0x0304, fixed('number_of_messages', 1)],
  [0x0381, range('callback_num', 4, 19)],
  [0x0420, fixed('dpf_result', 1)],
  [0x0421, fixed('set_dpf', 1)],
  [0x0422, fixed('ms_availability_status', 1)],
  [0x0423, fixed('network_error_code', 3)],
  [0x0424, range('message_payload', 0, 0xffff)],
  [0x0425, fixed('delivery_failure_reason', 1)],
  [0x0426, fixed('more_messages_to_send', 1)],
  [0x0427, fixed('message_state', 1)],
  [0x0501, fixed('ussd_service_op', 1)],
  [0x1201, fixed('display_time', 1)],
  [0x1203, fixed('sms_signal', 2)],
  [0x1204, fixed('ms_validity', 1)],
  [0x130c, fixed('alert_on_message_delivery', 0)],
  [0x1380, fixed('its_reply_type', 1)],
  [0x1383, fixed('its_session_info', 2)],
];

export const TLV_SPECS: ReadonlyMap<number, TlvSpec> = new Map(SPECS);

export const Tag = {
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  message_payload: 0x0424,
} as const;
