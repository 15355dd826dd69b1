/**
 * What is installed on a site: `<stateDir>/state.json`, rewritten durably at the end of
 * each install or rollback. `releases` is a stack: the last entry is the installed release,
 * the ones before it are what `airlock rollback` returns to, one at a time. `highest` only
 * ever goes up: older bundles are refused against it.
 *
 * A release's record of every config file it wrote (20,000 of them in a large release) is not
 * in state.json but in `installs/<id>/configs.json`, written once when the release is recorded
 * and never changed: only the installed release's is read, and only by a run that plans config
 * changes (what the next install manages), so reinstalls stacking up releases do not make every
 * run read and rewrite all of theirs. A v1 state.json held them inline; it is still read, and
 * the next write moves them out.
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
import { formatIssues, parseJson } from '../base/validate.js';
import { ensureDir, exists, writeFileDurable } from '../fs/durable.js';

export function statePaths(stateDir: string) {
  return {
    state: join(stateDir, 'state.json'),
    journal: join(stateDir, 'journal.jsonl'),
    audit: join(stateDir, 'audit.jsonl'),
    installs: join(stateDir, 'installs'),
    receipts: join(stateDir, 'receipts'),
    install: (installId: string) => join(stateDir, 'installs', installId),
    /** A release's config records (written once, when the install is recorded). */
    configs: (installId: string) => join(stateDir, 'installs', installId, 'configs.json'),
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
  /** Inline in a v1 state.json, and in memory while the release is recorded; else in its install's configs.json (releaseConfigs). */
  configs: z.record(z.string(), configRecordSchema).optional(),
  images: z.array(z.object({ ref: z.string(), digest: z.string(), mediaType: z.string().optional() })),
  /** Migration versions this install applied, per database (what undo scripts may undo). */
  migrations: z.record(z.string(), z.array(z.string())),
  receipt: z.string(),
});

const stateSchema = z.object({
  format: z.enum(['airlock-state/v1', 'airlock-state/v2']),
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
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { format: STATE_FORMAT, site: site.site, environment: site.environment, releases: [] };
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

const STATE_FORMAT = 'airlock-state/v2';

/**
 * A release's config records: inline if it came from a v1 state.json or is being recorded,
 * else read from its file. Only runs that plan or count config files ask (a no-op install of
 * 200,000 files need not parse 36 MB of them).
 */
export async function releaseConfigs(stateDir: string, release: ReleaseRecord): Promise<Record<string, ConfigRecord>> {
  return release.configs ?? readReleaseConfigs(stateDir, release.installId);
}

async function readReleaseConfigs(stateDir: string, installId: string): Promise<Record<string, ConfigRecord>> {
  const file = statePaths(stateDir).configs(installId);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'not valid JSON';
    throw new AirlockError('JOURNAL_INVALID', `${file}: ${reason} (the config records of release install ${installId}, which state.json lists)`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new AirlockError('JOURNAL_INVALID', `${file}: not an object of config records`);
  // Record by record, keeping the parsed objects: validating the whole map at once would hold a second copy of 20,000 records.
  for (const [dest, record] of Object.entries(data)) {
    const result = configRecordSchema.safeParse(record, { reportInput: true });
    if (!result.success) throw new AirlockError('JOURNAL_INVALID', formatIssues(file, result.error).map((line) => line.replace(`${file}: `, `${file}: ${JSON.stringify(dest)}.`)).join('\n'));
  }
  return data as Record<string, ConfigRecord>;
}

/**
 * Writes state.json in the v2 format: first each release's config records that are in memory
 * and not yet in their own file (a release being recorded, or a v1 state's inline ones), so
 * state.json never names a release whose records are not on disk.
 */
export async function writeState(stateDir: string, state: SiteState): Promise<void> {
  await ensureStateDir(stateDir);
  const paths = statePaths(stateDir);
  for (const release of state.releases) {
    if (release.configs === undefined || (await exists(paths.configs(release.installId)))) continue;
    await ensureDir(paths.install(release.installId), 0o700);
    await writeFileDurable(paths.configs(release.installId), configsText(release.configs), 0o600);
  }
  const releases = state.releases.map(({ configs: _inFile, ...release }) => release);
  // Without the config records state.json is a few KB at any stack depth: one string is enough.
  await writeFileDurable(paths.state, `${JSON.stringify({ ...state, format: STATE_FORMAT, releases }, null, 2)}\n`, 0o600);
}

/** `JSON.stringify(configs)` and a newline, a few hundred records at a time (20,000 records are 3 MB of text). */
async function* configsText(configs: Record<string, ConfigRecord>): AsyncGenerator<Buffer> {
  const entries = Object.entries(configs);
  const slice = 500;
  yield Buffer.from('{');
  for (let at = 0; at < entries.length; at += slice) {
    const text = entries
      .slice(at, at + slice)
      .map(([dest, record]) => `${JSON.stringify(dest)}:${JSON.stringify(record)}`)
      .join(',');
    yield Buffer.from(at === 0 ? text : `,${text}`);
  }
  yield Buffer.from('}\n');
}

/** The state directory holds copies of rendered configs: only its owner may read it. */
export async function ensureStateDir(stateDir: string): Promise<void> {
  await ensureDir(stateDir, 0o700);
}
