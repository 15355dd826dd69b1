/**
 * The steps of an install, as data. The plan is turned into this list once, recorded in the
 * journal's first line, and a resumed run executes the recorded list, not a fresh plan (a fresh
 * plan would see the half-applied site and plan something else). Steps carry no secrets:
 * rendered configs appear only as their sha256.
 */
import { z } from 'zod';
import { healthGateSchema } from '../manifest/health-gate.js';

const hookPhase = z.enum(['preInstall', 'postInstall', 'healthCheck']);

const configFile = z.object({ dest: z.string(), path: z.string(), template: z.boolean(), mode: z.number(), sha256: z.string() });
export type ConfigFileStep = z.infer<typeof configFile>;

export const installStepSchema = z.discriminatedUnion('kind', [
  /** Extracts hooks, masked config views and undo scripts into the install's state directory. */
  z.object({ kind: z.literal('prepare') }),
  z.object({ kind: z.literal('hook'), phase: hookPhase, name: z.string(), path: z.string(), timeoutSeconds: z.number() }),
  /**
   * A health check judged on the site's Prometheus. `before`: its query's value sampled just
   * before the install began (noWorseThan gates), recorded here so a resumed run judges the
   * release against the same baseline, not one the half-applied release already moved.
   */
  z.object({ kind: z.literal('gate'), gate: healthGateSchema, before: z.object({ value: z.number(), at: z.string() }).optional() }),
  /** `target`: where the image goes, `<registry>/<repository>:<tag>` or `<layout dir>:<ref>`, as the plan showed it. */
  z.object({
    kind: z.literal('image'),
    ref: z.string(),
    digest: z.string(),
    mediaType: z.string().optional(),
    target: z.string(),
    /** The artifacts pushed beside it (for the receipt; older journals have none). */
    attached: z.array(z.object({ digest: z.string(), kind: z.string() })).optional(),
  }),
  z.object({
    kind: z.literal('migrate'),
    db: z.string(),
    version: z.string(),
    description: z.string(),
    path: z.string(),
    checksum: z.string(),
  }),
  /** Copies every config file the install will touch, so the install can be undone. */
  z.object({ kind: z.literal('backup'), dests: z.array(z.string()) }),
  /** One config file: what journals written before batches hold (a resumed run of one finishes it as a batch of one). */
  z.object({ kind: z.literal('config'), ...configFile.shape }),
  /** Config files written as one durable batch (src/fs/durable-batch.ts), numbered from 1. */
  z.object({ kind: z.literal('configs'), batch: z.number(), files: z.array(configFile) }),
  z.object({ kind: z.literal('remove'), dest: z.string() }),
  /** Writes state (the release goes onto the site's stack). */
  z.object({ kind: z.literal('record') }),
]);

export type InstallStep = z.infer<typeof installStepSchema>;

export function installStepId(step: InstallStep): string {
  switch (step.kind) {
    case 'prepare':
    case 'backup':
    case 'record':
      return step.kind;
    case 'hook':
      return step.phase === 'healthCheck' ? `health:${step.name}` : `hook:${step.phase}:${step.name}`;
    case 'gate':
      return `health:${step.gate.name}`;
    case 'image':
      return `image:${step.ref}`;
    case 'migrate':
      return `migrate:${step.db}:V${step.version}`;
    case 'config':
      return `config:${step.dest}`;
    case 'configs':
      return `configs:${step.batch}`;
    case 'remove':
      return `remove:${step.dest}`;
  }
}

/** A health check (a script, or a gate): its failure gets the release's onHealthCheckFailure reaction. */
export function isHealthCheck(step: InstallStep | undefined): boolean {
  return (step?.kind === 'hook' && step.phase === 'healthCheck') || step?.kind === 'gate';
}
