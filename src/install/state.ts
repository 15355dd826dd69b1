/**
 * What is installed on a site: `<stateDir>/state.json`, rewritten durably at the end of
 * each install or rollback. `releases` is a stack: the last entry is the installed release,
 * the ones before it are what `airlock rollback` returns to, one at a time. `highest` only
 * ever goes up: older bundles are refused against it.
 *
 * State directory layout (docs/INSTALL.md):
 *   state.json            this file          audit.jsonl   append-only audit log
 *   journal.jsonl         run in progress    install.lock  the site lock
 *   installs/<id>/        per run: journal, install.log, backup of touched configs,
 *                         hooks, masked views of templates, undo scripts
 *   receipts/<...>.json   receipts to carry back to the connected side
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { parseJson } from '../base/validate.js';
import { ensureDir, writeFileDurable } from '../fs/durable.js';

export function statePaths(stateDir: string) {
  return {
    state: join(stateDir, 'state.json'),
    journal: join(stateDir, 'journal.jsonl'),
    audit: join(stateDir, 'audit.jsonl'),
    installs: join(stateDir, 'installs'),
    receipts: join(stateDir, 'receipts'),
    install: (installId: string) => join(stateDir, 'installs', installId),
    /** Where a run's journal goes once it ended. */
    runJournal: (installId: string) => join(stateDir, 'installs', installId, 'journal.jsonl'),
    /** Undo scripts travel with the install that applied the migrations, so a rollback needs no bundle. */
    undoScript: (installId: string, db: string, version: string) => join(stateDir, 'installs', installId, 'undo', db, `${version}.sql`),
  };
}

export const signerRecordSchema = z.object({ keyId: z.string(), name: z.string().optional(), roles: z.array(z.string()) });

const configRecordSchema = z.object({
  /** sha256 of the file as written (rendered): the only trace of a rendered template kept. */
  sha256: z.string(),
  mode: z.number(),
  template: z.boolean(),
  /** The run whose installs/<id>/display/ holds this file's masked view (templates only). */
  installId: z.string(),
});

const releaseRecordSchema = z.object({
  installId: z.string(),
  name: z.string(),
  version: z.string(),
  bundleDigest: z.string(),
  bundleFile: z.string(),
  signers: z.array(signerRecordSchema),
  installedAt: z.string(),
  installedBy: z.string(),
  host: z.string(),
  health: z.enum(['passed', 'failed', 'none']),
  configs: z.record(z.string(), configRecordSchema),
  images: z.array(z.object({ ref: z.string(), digest: z.string(), mediaType: z.string().optional() })),
  /** Migration versions this install applied, per database (what undo scripts may undo). */
  migrations: z.record(z.string(), z.array(z.string())),
  receipt: z.string(),
});

const stateSchema = z.object({
  format: z.literal('airlock-state/v1'),
  site: z.string(),
  environment: z.string(),
  releases: z.array(releaseRecordSchema),
  /**
   * Rollback protection: the highest version ever installed here (src/install/highest.ts).
   * Absent in state files written before it existed.
   */
  highest: z.object({ name: z.string(), version: z.string() }).optional(),
});

export type ConfigRecord = z.infer<typeof configRecordSchema>;
export type ReleaseRecord = z.infer<typeof releaseRecordSchema>;
export type SiteState = z.infer<typeof stateSchema>;

export function currentRelease(state: SiteState): ReleaseRecord | undefined {
  return state.releases[state.releases.length - 1];
}

export async function readState(stateDir: string, site: { site: string; environment: string }): Promise<SiteState> {
  const file = statePaths(stateDir).state;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { format: 'airlock-state/v1', site: site.site, environment: site.environment, releases: [] };
    throw error;
  }
  const state = parseJson(stateSchema, text, file, 'JOURNAL_INVALID');
  if (state.site !== site.site || state.environment !== site.environment) {
    throw new AirlockError(
      'SITE_INVALID',
      `${file}: belongs to site ${state.site} (${state.environment}), but the site file says ${site.site} (${site.environment}); each site needs its own stateDir`,
    );
  }
  return state;
}

export async function writeState(stateDir: string, state: SiteState): Promise<void> {
  await ensureStateDir(stateDir);
  await writeFileDurable(statePaths(stateDir).state, stateText(state), 0o600);
}

/**
 * `JSON.stringify(state, null, 2)` and a newline, byte for byte, made one release at a time:
 * each release holds a record per config file, and the whole text at once (reinstalls stack up
 * releases: 5 MB each at 20,000 files) would sit in memory beside the state it came from.
 */
export async function* stateText(state: SiteState): AsyncGenerator<Buffer> {
  // A JSON text has no raw newline inside a string: every newline is indentation, and can be deepened.
  const nested = (value: unknown, indent: string) => JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
  const members = Object.entries(state).filter(([, value]) => value !== undefined);
  yield Buffer.from('{');
  for (const [index, [key, value]] of members.entries()) {
    const comma = index < members.length - 1 ? ',' : '';
    if (key !== 'releases' || state.releases.length === 0) {
      yield Buffer.from(`\n  ${JSON.stringify(key)}: ${nested(value, '  ')}${comma}`);
      continue;
    }
    yield Buffer.from(`\n  "releases": [`);
    for (const [at, release] of state.releases.entries()) {
      yield Buffer.from(`\n    ${nested(release, '    ')}${at < state.releases.length - 1 ? ',' : ''}`);
    }
    yield Buffer.from(`\n  ]${comma}`);
  }
  yield Buffer.from(members.length === 0 ? '}\n' : '\n}\n');
}

/** The state directory holds copies of rendered configs: only its owner may read it. */
export async function ensureStateDir(stateDir: string): Promise<void> {
  await ensureDir(stateDir, 0o700);
}
