/** in-toto statements and DSSE envelopes as data (pure): what a statement is about, and the bytes a DSSE signature covers. */
import { z } from 'zod';
import { parseJson } from '../base/validate.js';

export const dsseEnvelopeSchema = z.looseObject({
  payloadType: z.string(),
  payload: z.string(),
  signatures: z.array(z.looseObject({ sig: z.string(), keyid: z.string().optional() })).min(1),
});

export type DsseEnvelope = z.infer<typeof dsseEnvelopeSchema>;

const statementSchema = z.looseObject({
  _type: z.string().optional(),
  subject: z.array(z.looseObject({ name: z.string().optional(), digest: z.record(z.string(), z.string()) })),
  predicateType: z.string(),
  predicate: z.unknown().optional(),
});

export type Statement = z.infer<typeof statementSchema>;

/** DSSE's pre-authentication encoding: what the signature is over. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function parseStatement(payload: Buffer, what: string): Statement {
  return parseJson(statementSchema, payload, `${what}: in-toto statement`, 'IMAGE_SIGNATURE_INVALID');
}

/** The `sha256:<hex>` digests a statement is about. */
export function statementDigests(statement: Statement): string[] {
  return statement.subject.flatMap((subject) => (subject.digest.sha256 === undefined ? [] : [`sha256:${subject.digest.sha256.toLowerCase()}`]));
}
