/**
 * The write-ahead journal of the install or rollback in progress: JSON lines, each written
 * and fsynced before the process moves on. A step is recorded as started before it runs and
 * done after, so a run killed at any instant leaves a journal that says exactly which step
 * was interrupted. A torn last line (killed mid-write) is ignored: what it announced never
 * began. The journal holds no secrets: steps name files and digests, never rendered content.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { crashPoint } from '../base/crash.js';
import { onFileSync } from '../fs/file-fault.js';
import { fsyncPathSync } from '../fs/fsync-path.js';
import { appendRecordSync } from '../fs/write-all.js';
import { stepSchema, stepId, type Step } from './steps.js';

const releaseRef = z.object({ installId: z.string(), name: z.string(), version: z.string() });

export const beginSchema = z.object({
  event: z.literal('begin'),
  at: z.string(),
  kind: z.enum(['install', 'rollback']),
  /** This run's id: names its directory under installs/. */
  installId: z.string(),
  release: z.object({ name: z.string(), version: z.string() }),
  /** sha256 of the bundle's SHA256SUMS (install only). */
  bundleDigest: z.string().optional(),
  bundleFile: z.string().optional(),
  signers: z.array(z.object({ keyId: z.string(), name: z.string().optional(), roles: z.array(z.string()) })).default([]),
  /** The release installed when this run began (what a rollback returns to). */
  from: releaseRef.nullable(),
  /** Rollback: the install being undone. */
  target: releaseRef.optional(),
  user: z.string(),
  host: z.string(),
  pid: z.number(),
  overrides: z.array(z.string()),
  onHealthCheckFailure: z.enum(['rollback', 'stop']).optional(),
  /** Every config file of the release (changed or not): what the state records once it is installed. */
  configs: z.array(z.object({ dest: z.string(), path: z.string(), sha256: z.string(), mode: z.number(), template: z.boolean() })).default([]),
  steps: z.array(stepSchema),
});

export const outcomes = ['succeeded', 'failed', 'rolled-back', 'unhealthy'] as const;
export type Outcome = (typeof outcomes)[number];

const recordSchema = z.discriminatedUnion('event', [
  beginSchema,
  z.object({ event: z.literal('start'), at: z.string(), step: z.string() }),
  z.object({ event: z.literal('done'), at: z.string(), step: z.string() }),
  z.object({ event: z.literal('failed'), at: z.string(), step: z.string(), code: z.string(), message: z.string() }),
  z.object({ event: z.literal('end'), at: z.string(), outcome: z.enum(outcomes) }),
]);

export type Begin = z.infer<typeof beginSchema>;
export type JournalRecord = z.infer<typeof recordSchema>;
export type Failure = Extract<JournalRecord, { event: 'failed' }>;

/** Records without their time stamp: what callers hand to append(). */
type Event<R> = R extends unknown ? Omit<R, 'at'> : never;

export interface JournalSummary {
  begin: Begin;
  done: ReadonlySet<string>;
  /** A step that was started and neither finished nor failed: the one interrupted. */
  interrupted?: string;
  failure?: Failure;
  outcome?: Outcome;
}

export function parseJournal(text: string, file: string): JournalRecord[] {
  const lines = text.split('\n');
  // Every complete record ends with '\n'; whatever follows the last one was torn by a kill.
  lines.pop();
  return lines.map((line, index) => {
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      throw new AirlockError('JOURNAL_INVALID', `${file}: line ${index + 1} is not JSON`);
    }
    const parsed = recordSchema.safeParse(data);
    if (!parsed.success) throw new AirlockError('JOURNAL_INVALID', `${file}: line ${index + 1} is not a journal record`);
    return parsed.data;
  });
}

export function summarize(records: readonly JournalRecord[], file: string): JournalSummary | undefined {
  const [first, ...rest] = records;
  if (first === undefined) return undefined;
  if (first.event !== 'begin') throw new AirlockError('JOURNAL_INVALID', `${file}: does not start with a begin record`);
  const done = new Set<string>();
  let interrupted: string | undefined;
  let failure: Failure | undefined;
  let outcome: Outcome | undefined;
  for (const record of rest) {
    if (record.event === 'start') interrupted = record.step;
    else if (record.event === 'done') {
      done.add(record.step);
      interrupted = undefined;
    } else if (record.event === 'failed') {
      failure = record;
      interrupted = undefined;
    } else if (record.event === 'end') outcome = record.outcome;
    else throw new AirlockError('JOURNAL_INVALID', `${file}: a second begin record`);
  }
  return { begin: first, done, interrupted, failure, outcome };
}

export function readJournal(file: string): JournalSummary | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return summarize(parseJournal(text, file), file);
}

/** Steps of a journal not yet done, in order. */
export function remainingSteps(summary: JournalSummary): Step[] {
  return summary.begin.steps.filter((step) => !summary.done.has(stepId(step)));
}

export class Journal {
  private constructor(
    readonly file: string,
    private fd: number,
  ) {}

  /** Starts a new journal; its begin record is durable before this returns. */
  static create(file: string, begin: Event<Begin>): Journal {
    const journal = Journal.open(file);
    journal.append(begin);
    fsyncPathSync(dirname(file));
    return journal;
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

  append(record: Event<JournalRecord>): void {
    const { event, ...rest } = record;
    const full = { event, at: new Date().toISOString(), ...rest };
    // Whole or not at all (a full disk): a record cut short would hide every later one.
    onFileSync(this.file, () => appendRecordSync(this.fd, Buffer.from(`${JSON.stringify(full)}\n`)));
    crashPoint(journalPoint(record));
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

function journalPoint(record: Event<JournalRecord>): string {
  switch (record.event) {
    case 'begin':
      return 'begin';
    case 'end':
      return `end:${record.outcome}`;
    default:
      return `${record.event}:${record.step}`;
  }
}
