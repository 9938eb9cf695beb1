import { z } from 'zod';

const octet = z.number().int().min(0).max(255);
const address = z.string().min(1).max(20);

// SMPP field names are accepted too (data_coding, esm_class, ...), since callers think in them.
const SNAKE_ALIASES: Record<string, string> = {
  system_id: 'systemId',
  source_addr: 'source',
  destination_addr: 'destination',
  source_addr_ton: 'sourceTon',
  source_addr_npi: 'sourceNpi',
  dest_addr_ton: 'destTon',
  dest_addr_npi: 'destNpi',
  service_type: 'serviceType',
  data_coding: 'dataCoding',
  esm_class: 'esmClass',
  timeout_ms: 'timeoutMs',
};

function unalias(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[SNAKE_ALIASES[k] ?? k] = v;
  return out;
}

/** POST /mo: a mobile-originated message the sim sends as deliver_sm. */
const moObject = z
  .object({
    /** Which bound system_id gets it; any receiver/transceiver session when omitted. */
    systemId: z.string().optional(),
    source: address,
    destination: address,
    sourceTon: octet.default(1),
    sourceNpi: octet.default(1),
    destTon: octet.default(0),
    destNpi: octet.default(1),
    serviceType: z.string().max(5).default(''),
    text: z.string().optional(),
    hex: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2})*$/, 'hex must be an even number of hex digits')
      .optional(),
    dataCoding: octet.default(0),
    esmClass: octet.default(0),
    /** Body in message_payload instead of short_message (also used when it exceeds 254 octets). */
    payload: z.boolean().default(false),
    sar: z
      .object({
        reference: z.number().int().min(0).max(0xffff),
        total: z.number().int().min(1).max(255),
        part: z.number().int().min(1).max(255),
      })
      .optional(),
    timeoutMs: z.number().int().min(1).max(120_000).optional(),
  })
  .strict()
  .refine((m) => (m.text === undefined) !== (m.hex === undefined), 'give exactly one of text or hex');

export const moRequestSchema = z.preprocess(unalias, moObject);

/** In-process callers use these names; over HTTP the SMPP spellings above work too. */
export type MoRequest = z.input<typeof moObject>;
