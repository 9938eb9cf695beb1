import { z } from 'zod';

const octet = z.number().int().min(0).max(255);
const address = z.string().min(1).max(20);

/** POST /mo: a mobile-originated message the sim sends as deliver_sm. */
export const moRequestSchema = z
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

export type MoRequest = z.input<typeof moRequestSchema>;
