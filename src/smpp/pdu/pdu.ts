/**
 * Every PDU the engine sends or receives, as one union discriminated by `command`, and the
 * response each request is answered with.
 */
import { CommandId } from './header.js';
import type {
  DataSm,
  DataSmResp,
  DeliverSm,
  DeliverSmResp,
  MessagePdu,
  SubmitSm,
  SubmitSmResp,
} from './message.js';
import type { QueryPdu, QuerySm, QuerySmResp } from './query.js';
import type {
  Bind,
  BindResp,
  EnquireLink,
  EnquireLinkResp,
  SessionPdu,
  Unbind,
  UnbindResp,
} from './session.js';

export type Pdu = SessionPdu | MessagePdu | QueryPdu;
export type Command = Pdu['command'];
export type PduOf<C extends Command> = Extract<Pdu, { command: C }>;

/** Requests that have a response of their own (outbind and alert_notification have none). */
export type AnsweredRequest = Bind | Unbind | EnquireLink | SubmitSm | DeliverSm | DataSm | QuerySm;

export type ResponseOf<R extends AnsweredRequest> = R extends Bind
  ? BindResp
  : R extends Unbind
    ? UnbindResp
    : R extends EnquireLink
      ? EnquireLinkResp
      : R extends SubmitSm
        ? SubmitSmResp
        : R extends DeliverSm
          ? DeliverSmResp
          : R extends DataSm
            ? DataSmResp
            : QuerySmResp;

/** The response's fields beyond its header, all optional: what is left out is empty. */
export type ResponseBody<R extends AnsweredRequest> = Partial<
  Omit<ResponseOf<R>, 'command' | 'command_status' | 'sequence_number'>
>;

export function commandIdOf(p: Pdu): number {
  return CommandId[p.command];
}

export function isResponse(p: Pdu): boolean {
  return (CommandId[p.command] & 0x80000000) !== 0;
}

/** The response to `req` with `status` and, on success, `body` (§3.3: an error has none). */
export function responseTo<R extends AnsweredRequest>(
  req: R,
  status = 0,
  body?: ResponseBody<R>,
): ResponseOf<R> {
  const head = { command_status: status, sequence_number: req.sequence_number };
  let r: Pdu;
  switch (req.command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      r = { command: `${req.command}_resp`, ...head, system_id: '' };
      break;
    case 'unbind':
      r = { command: 'unbind_resp', ...head };
      break;
    case 'enquire_link':
      r = { command: 'enquire_link_resp', ...head };
      break;
    case 'submit_sm':
      r = { command: 'submit_sm_resp', ...head, message_id: '' };
      break;
    case 'deliver_sm':
      r = { command: 'deliver_sm_resp', ...head, message_id: '' };
      break;
    case 'data_sm':
      r = { command: 'data_sm_resp', ...head, message_id: '' };
      break;
    case 'query_sm':
      r = {
        command: 'query_sm_resp',
        ...head,
        message_id: '',
        final_date: '',
        message_state: 0,
        error_code: 0,
      };
      break;
  }
  if (body !== undefined) Object.assign(r, body);
  return r as ResponseOf<R>;
}
