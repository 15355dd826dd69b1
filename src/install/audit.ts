/**
 * The audit log: `<stateDir>/audit.jsonl`, one JSON line per finished or refused run,
 * only ever appended to (O_APPEND, fsync). It records who, when, which bundle (digest of
 * SHA256SUMS), who signed it, what came of it and which safety checks were overridden;
 * never a site variable. `airlock history` reads it.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { AirlockError } from '../base/errors.js';
import { onFileSync } from '../fs/file-fault.js';
import { appendRecordSync } from '../fs/write-all.js';
import { gateSummarySchema } from '../telemetry/gate-result.js';
import { ensureStateDir, signerRecordSchema, statePaths } from './state.js';
import { currentUser } from './who.js';

/** How a run can end, as the audit log records it. */
export const AUDIT_OUTCOMES = ['succeeded', 'failed', 'rolled-back', 'unhealthy', 'refused', 'aborted'] as const;

const auditEntrySchema = z.object({
  at: z.string(),
  action: z.enum(['install', 'rollback']),
  outcome: z.enum(AUDIT_OUTCOMES),
  site: z.string(),
  environment: z.string(),
  user: z.string(),
  host: z.string(),
  installId: z.string().optional(),
  release: z.object({ name: z.string(), version: z.string() }).optional(),
  from: z.object({ name: z.string(), version: z.string() }).nullable().optional(),
  bundleFile: z.string().optional(),
  bundleDigest: z.string().optional(),
  signers: z.array(signerRecordSchema).default([]),
  overrides: z.array(z.string()).default([]),
  /** Set when the run did not succeed: the error code and its message (messages never hold secrets). */
  code: z.string().optional(),
  message: z.string().optional(),
  resumed: z.boolean().optional(),
  /** When the run began (a resumed run: when it first began): with `at`, its duration. */
  startedAt: z.string().optional(),
  /** An install's health gates: query, condition, what was observed, verdict (the receipt has every sample). */
  gates: z.array(gateSummarySchema).optional(),
  /** What went wrong publishing this entry's deployment markers (textfile, Pushgateway): never a reason to fail the run. */
  telemetry: z.array(z.string()).optional(),
});

export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type AuditInput = Omit<AuditEntry, 'at' | 'user' | 'host' | 'signers' | 'overrides'> &
  Partial<Pick<AuditEntry, 'signers' | 'overrides'>>;

/**
 * Sees each new entry before it is written (the deployment markers, install/deployment-markers.ts);
 * what it returns is recorded with the entry. It never fails the append: it reports its own trouble that way.
 */
export type AuditObserver = (entry: AuditEntry) => Promise<Pick<AuditEntry, 'telemetry'>>;

/** The audit log as read once at the start of a run; entries this run appends are added to it. */
export class AuditLog {
  private observer?: AuditObserver;

  private constructor(
    private readonly stateDir: string,
    readonly entries: AuditEntry[],
  ) {}

  observe(observer: AuditObserver | undefined): this {
    this.observer = observer;
    return this;
  }

  static read(stateDir: string): AuditLog {
    return new AuditLog(stateDir, readEntries(statePaths(stateDir).audit));
  }

  /**
   * Appends one entry. A run resumed after a kill may reach the same conclusion twice: an entry
   * for the same run, action and outcome is written once only.
   */
  async append(input: AuditInput): Promise<AuditEntry> {
    await ensureStateDir(this.stateDir);
    const parsed = auditEntrySchema.parse({ at: new Date().toISOString(), user: currentUser(), host: hostname(), ...input });
    if (parsed.installId !== undefined) {
      const earlier = this.entries.find((e) => e.installId === parsed.installId && e.action === parsed.action && e.outcome === parsed.outcome);
      if (earlier) return earlier;
    }
    const entry = this.observer === undefined ? parsed : { ...parsed, ...(await this.observer(parsed)) };
    const file = statePaths(this.stateDir).audit;
    onFileSync(file, () => {
      const fd = openSync(file, 'a', 0o600);
      try {
        // A line torn by an earlier kill would swallow this entry: start on a fresh line.
        const text = readFileSync(file);
        const prefix = text.length > 0 && text[text.length - 1] !== 0x0a ? '\n' : '';
        appendRecordSync(fd, Buffer.from(`${prefix}${JSON.stringify(entry)}\n`));
      } finally {
        closeSync(fd);
      }
    });
    this.entries.push(entry);
    return entry;
  }
}

function readEntries(file: string): AuditEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  lines.pop(); // a line torn by a kill, or the empty string after the last '\n'
  const entries: AuditEntry[] = [];
  lines.forEach((line, index) => {
    const data = safeJson(line);
    // A line that is not JSON was torn by a kill mid-write; append() starts a new line after it.
    if (data === undefined) return;
    const parsed = auditEntrySchema.safeParse(data);
    if (!parsed.success) throw new AirlockError('JOURNAL_INVALID', `${file}: line ${index + 1} is not an audit entry`);
    entries.push(parsed.data);
  });
  return entries;
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
