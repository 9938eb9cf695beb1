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

/** A PDU's fields less its header: what a caller fills in for a request the link numbers. */
export type Fields<P extends Pdu> = Omit<P, 'command' | 'command_status' | 'sequence_number'>;

/**
 * An answer to a peer's request, as the link's owners give it: a status and, on success, the
 * fields of the response (message_id for submit_sm/deliver_sm/data_sm, system_id for a bind,
 * the query_sm_resp fields). Fields a response does not have are not written.
 */
export type Answer = { command_status?: number } & Partial<
  Fields<BindResp> & Fields<SubmitSmResp> & Fields<DataSmResp> & Fields<QuerySmResp>
>;

const ANSWERED: ReadonlySet<string> = new Set([
  'bind_transmitter',
  'bind_receiver',
  'bind_transceiver',
  'unbind',
  'enquire_link',
  'submit_sm',
  'deliver_sm',
  'data_sm',
  'query_sm',
]);

function isAnswered(p: Pdu): p is AnsweredRequest {
  return ANSWERED.has(p.command);
}

/**
 * The response to `req` carrying `a`; a PDU without a response of its own (outbind,
 * alert_notification, a response) is answered with generic_nack (§4.3).
 */
export function answerTo(req: Pdu, a: Answer = {}): Pdu {
  const { command_status: status = 0, ...body } = a;
  if (!isAnswered(req))
    return { command: 'generic_nack', command_status: status, sequence_number: req.sequence_number };
  const r = responseTo(req, status);
  if (status === 0) {
    // Only the fields this response has; everything else in `body` would be ignored anyway.
    const target = r as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(body))
      if (v !== undefined && (k in target || r.command === 'data_sm_resp')) target[k] = v;
  }
  return r;
}

export type { DataSm, DataSmResp, DeliverSm, DeliverSmResp, SubmitSm, SubmitSmResp } from './message.js';
export type { QuerySm, QuerySmResp } from './query.js';
