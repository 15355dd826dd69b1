/**
 * The steps of a rollback, as data, recorded in its journal's first line like an install's: a
 * rollback killed at any point is finished by running it again, from the recorded list.
 */
import { z } from 'zod';

export const rollbackStepSchema = z.discriminatedUnion('kind', [
  /** Runs the U<version>__ script the undone install kept for a migration it applied. */
  z.object({ kind: z.literal('undo'), db: z.string(), version: z.string(), file: z.string() }),
  /** Points an image tag back at the digest the previous release had under it. */
  z.object({ kind: z.literal('retag'), ref: z.string(), digest: z.string(), mediaType: z.string() }),
  /** Puts back the config files an install touched, from its backup, and takes it off the state's stack. */
  z.object({ kind: z.literal('restore'), installId: z.string() }),
  /** Ends an interrupted install's own journal as rolled back: its receipt and audit line. */
  z.object({ kind: z.literal('conclude'), installId: z.string() }),
]);

export type RollbackStep = z.infer<typeof rollbackStepSchema>;

export function rollbackStepId(step: RollbackStep): string {
  switch (step.kind) {
    case 'undo':
      return `undo:${step.db}:U${step.version}`;
    case 'retag':
      return `retag:${step.ref}`;
    case 'restore':
      return `restore:${step.installId}`;
    case 'conclude':
      return `conclude:${step.installId}`;
  }
}
