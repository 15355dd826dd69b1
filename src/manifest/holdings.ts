/**
 * What a site's image target holds, as its receipts say it (docs/DELTA.md): per image target,
 * the images airlock installed there (every release still on the site's stack) and every
 * config and layer blob of theirs the target was found to hold, with its size. Written into
 * each install's receipt and by `airlock status --receipt`; read back, zod-validated, by
 * `airlock build --since`.
 */
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { parseJson } from '../base/validate.js';
import { deltaReleaseSchema } from './delta.js';

export const RECEIPT_FORMAT = 'airlock-receipt/v1';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');

const heldImageSchema = z.object({
  ref: z.string().min(1),
  /** The top-level manifest or index the stack's release recorded. */
  digest,
  /** Versions of the releases on the stack that installed this very image. */
  releases: z.array(z.string()),
  /** Where it went: `<registry>/<repository>[:tag]`, or `<layout dir>:<ref>`. */
  destination: z.string(),
  /** Whether the target still holds its manifest; a missing one contributes no blob. */
  present: z.boolean(),
});

const heldBlobSchema = z.object({
  digest,
  size: z.number().int().nonnegative(),
  /** In a registry: the repositories found holding it (a blob is linked per repository). */
  repositories: z.array(z.string()).optional(),
});

const targetHoldingsSchema = z.object({
  kind: z.enum(['registry', 'oci-layout']),
  /** host[:port] of the registry, or the layout directory. */
  location: z.string().min(1),
  images: z.array(heldImageSchema),
  /** Sorted by digest, each once. */
  blobs: z.array(heldBlobSchema),
});

export const holdingsSchema = z.object({
  site: z.string().min(1),
  environment: z.string().min(1),
  /** The installed release (top of the stack) and its content digest; null when nothing is installed. */
  release: deltaReleaseSchema.nullable(),
  surveyedAt: z.iso.datetime({ offset: false }),
  targets: z.array(targetHoldingsSchema),
});

/** A receipt as `build --since` reads it: any receipt airlock wrote, of which only the holdings matter. */
const receiptSchema = z.looseObject({
  format: z.literal(RECEIPT_FORMAT),
  holdings: holdingsSchema.nullable(),
  holdingsError: z.string().optional(),
});

export type Holdings = z.infer<typeof holdingsSchema>;
export type TargetHoldings = z.infer<typeof targetHoldingsSchema>;
export type HeldImage = z.infer<typeof heldImageSchema>;
export type HeldBlob = z.infer<typeof heldBlobSchema>;

/** A receipt's holdings; RECEIPT_INVALID naming the file and field when it is no receipt or says nothing of them. */
export function parseReceiptHoldings(bytes: Buffer, file: string): Holdings {
  const receipt = parseJson(receiptSchema, bytes, file, 'RECEIPT_INVALID');
  if (receipt.holdings === null) {
    throw new AirlockError(
      'RECEIPT_INVALID',
      `${file}: holdings: null (${receipt.holdingsError ?? 'not surveyed'}): export a fresh receipt on the site with airlock status --site <site.yaml> --receipt <file>`,
    );
  }
  return receipt.holdings;
}
