/**
 * The write-ahead journal of the install or rollback in progress: JSON lines, each written
 * and fsynced before the process moves on. The first line is the run's begin record, typed per
 * verb (an install's carries the bundle and its confirmed plan, a rollback's the install it
 * undoes); the lines after it say, for each step, started, done or failed, and finally how the
 * run ended. A step is recorded as started before it runs and done after, so a run killed at
 * any instant leaves a journal that says exactly which step was interrupted. A torn last line
 * (killed mid-write) is ignored: what it announced never began. The journal holds no secrets:
 * steps name files and digests, never rendered content.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AirlockError, ERROR_CODES } from '../base/errors.js';
import { crashPoint } from '../base/crash.js';
import { onFileSync } from '../fs/file-fault.js';
import { fsyncPathSync } from '../fs/fsync-path.js';
import { appendRecordSync, writeTextSync } from '../fs/write-all.js';
import { installStepSchema } from './install-steps.js';
import { rollbackStepSchema } from './rollback-steps.js';

const release = z.object({ name: z.string(), version: z.string() });
const releaseRef = release.extend({ installId: z.string() });
const signer = z.object({ keyId: z.string(), name: z.string().optional(), roles: z.array(z.string()) });

/** What every run records about itself: its id (it names the run's directory under installs/), its release, who ran it. */
const runFields = {
  event: z.literal('begin'),
  at: z.string(),
  installId: z.string(),
  release,
  user: z.string(),
  host: z.string(),
  pid: z.number(),
  overrides: z.array(z.string()),
};

const installBeginSchema = z.object({
  ...runFields,
  kind: z.literal('install'),
  /** The release installed when this run began (what a rollback of it returns to). */
  from: releaseRef.nullable(),
  /** sha256 of the bundle's SHA256SUMS: a re-run resumes this run only with the same bundle. */
  bundleDigest: z.string(),
  bundleFile: z.string(),
  signers: z.array(signer),
  onHealthCheckFailure: z.enum(['rollback', 'stop']),
  /** Every config file of the release (changed or not): what the state records once it is installed. */
  configs: z.array(z.object({ dest: z.string(), path: z.string(), sha256: z.string(), mode: z.number(), template: z.boolean() })),
  steps: z.array(installStepSchema),
});

const rollbackBeginSchema = z.object({
  ...runFields,
  kind: z.literal('rollback'),
  /** The install being undone; `interrupted`: it never finished, and this rollback ends it. */
  target: releaseRef.extend({ interrupted: z.boolean() }),
  /** The release the site is back on afterwards (null: nothing installed). */
  to: releaseRef.nullable(),
  /** Migrations the undone install applied that stay applied (roll forward only). */
  kept: z.array(z.object({ db: z.string(), version: z.string() })),
  steps: z.array(rollbackStepSchema),
});

const beginSchema = z.discriminatedUnion('kind', [installBeginSchema, rollbackBeginSchema]);

const outcomes = ['succeeded', 'failed', 'rolled-back', 'unhealthy'] as const;
export type Outcome = (typeof outcomes)[number];

const progressSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('start'), at: z.string(), step: z.string() }),
  z.object({ event: z.literal('done'), at: z.string(), step: z.string() }),
  z.object({ event: z.literal('failed'), at: z.string(), step: z.string(), code: z.enum(ERROR_CODES), message: z.string() }),
  z.object({ event: z.literal('end'), at: z.string(), outcome: z.enum(outcomes) }),
]);

export type InstallBegin = z.infer<typeof installBeginSchema>;
export type RollbackBegin = z.infer<typeof rollbackBeginSchema>;
export type Begin = InstallBegin | RollbackBegin;
type Progress = z.infer<typeof progressSchema>;
export type Failure = Extract<Progress, { event: 'failed' }>;

/** Records without their time stamp: what callers hand to the journal. */
type Event<R> = R extends unknown ? Omit<R, 'at'> : never;

export interface JournalSummary<B extends Begin = Begin> {
  begin: B;
  done: ReadonlySet<string>;
  /** A step that was started and neither finished nor failed: the one interrupted. */
  interrupted?: string;
  failure?: Failure;
  outcome?: Outcome;
}

/** A journal of either verb. */
export type RunSummary = JournalSummary<InstallBegin> | JournalSummary<RollbackBegin>;

export function isInstallRun(summary: RunSummary): summary is JournalSummary<InstallBegin> {
  return summary.begin.kind === 'install';
}

function parseLine<S extends z.ZodType>(schema: S, line: string, file: string, number: number): z.infer<S> {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    throw new AirlockError('JOURNAL_INVALID', `${file}: line ${number} is not JSON`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new AirlockError('JOURNAL_INVALID', `${file}: line ${number} is not ${number === 1 ? 'a begin record' : 'a journal record'}`);
  return parsed.data;
}

/** A journal's text, summarised; undefined when it holds no complete record (never begun, or torn before its first line ended). */
export function summarize(text: string, file: string): RunSummary | undefined {
  const lines = text.split('\n');
  // Every complete record ends with '\n'; whatever follows the last one was torn by a kill.
  lines.pop();
  const [first, ...rest] = lines;
  if (first === undefined) return undefined;
  const summary = { begin: parseLine(beginSchema, first, file, 1), done: new Set<string>() } as RunSummary & { done: Set<string> };
  rest.forEach((line, index) => {
    const record = parseLine(progressSchema, line, file, index + 2);
    if (record.event === 'start') summary.interrupted = record.step;
    else if (record.event === 'done') {
      summary.done.add(record.step);
      summary.interrupted = undefined;
    } else if (record.event === 'failed') {
      summary.failure = record;
      summary.interrupted = undefined;
    } else summary.outcome = record.outcome;
  });
  return summary;
}

export function readJournal(file: string): RunSummary | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return summarize(text, file);
}

export class Journal {
  private constructor(
    readonly file: string,
    private fd: number,
  ) {}

  /**
   * Starts a journal at `file`, replacing whatever is there, in one rename: a kill before it
   * leaves the old file (or none), a kill after it a journal whose begin record is durable.
   */
  static create(file: string, begin: Event<Begin>): Journal {
    const temp = `${file}.new`;
    const { event, ...rest } = begin;
    // The begin line carries every config file (8 MB at 20,000): written in slices, and not read back (it is whole: it was just flushed).
    const line = `${JSON.stringify({ event, at: new Date().toISOString(), ...rest })}\n`;
    onFileSync(temp, () => {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeTextSync(fd, line);
      } finally {
        closeSync(fd);
      }
    });
    fsyncPathSync(temp);
    renameSync(temp, file);
    fsyncPathSync(dirname(file));
    crashPoint('begin');
    return new Journal(file, onFileSync(file, () => openSync(file, 'a', 0o600)));
  }

  /** Opens a journal to continue it, first cutting off a line torn by a kill. */
  static open(file: string): Journal {
    const fd = onFileSync(file, () => openSync(file, 'a+', 0o600));
    const text = readFileSync(fd);
    const complete = text.lastIndexOf(0x0a) + 1;
    if (complete < text.length) {
      ftruncateSync(fd, complete);
      fsyncSync(fd);
    }
    return new Journal(file, fd);
  }

  append(record: Event<Progress>): void {
    const { event, ...rest } = record;
    // Whole or not at all (a full disk): a record cut short would hide every later one.
    const line = Buffer.from(`${JSON.stringify({ event, at: new Date().toISOString(), ...rest })}\n`);
    onFileSync(this.file, () => appendRecordSync(this.fd, line));
    crashPoint(record.event === 'end' ? `end:${record.outcome}` : `${record.event}:${record.step}`);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
