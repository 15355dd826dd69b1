/**
 * The config root on the site: reading what is there, writing and removing files durably,
 * and the backup that makes every install undoable. Before the first config file of an
 * install is touched, every file it will touch is copied to `installs/<id>/previous/`, and
 * `previous.json` lists which existed (and their modes); restoring puts exactly those back
 * and deletes the files the install added.
 */
import { closeSync, createReadStream, lstatSync, openSync, readSync, rmSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../../base/errors.js';
import { sha256Hex, sha256Stream, verifiedStream } from '../../hash/digest.js';
import { DIFF_LIMIT_BYTES } from '../plan-config-changes.js';
import { chmodDurable, removeDurable, tempPathFor, writeFileDurable } from '../../fs/durable.js';
import { DurableBatch } from '../../fs/durable-batch.js';

export interface FileOnDisk {
  sha256: string;
  mode: number;
  /** The content of a file small enough to diff; larger files are only hashed, streaming. */
  small?: Buffer;
}

/** The regular file at `dest`, or undefined; anything else there is refused. */
function configFileInfo(path: string): Stats | undefined {
  let info;
  try {
    // No exception for the common missing file (a first install asks about every one).
    info = lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
  if (info !== undefined && !info.isFile()) throw new AirlockError('UNSAFE_ENTRY', `${path}: exists and is not a regular file; airlock will not replace it`);
  return info;
}

/** A config file's digest and mode; with a small file's bytes too, kept for diffs. */
export async function readConfigFile(configRoot: string, dest: string): Promise<FileOnDisk | undefined> {
  const file = await scanConfigFile(configRoot, dest);
  return file && { sha256: file.sha256, mode: file.mode, ...(file.bytes === undefined ? {} : { small: Buffer.from(file.bytes) }) };
}

/** readConfigFile for what only needs the digest: `small` says whether it was small enough to diff, its bytes are not kept. */
export async function digestConfigFile(configRoot: string, dest: string): Promise<{ sha256: string; mode: number; small: boolean } | undefined> {
  const file = await scanConfigFile(configRoot, dest);
  return file && { sha256: file.sha256, mode: file.mode, small: file.bytes !== undefined };
}

/** One buffer for reading small files one after another: 20,000 buffers of their own would wait for a full GC to be freed. */
let scratch = Buffer.alloc(64 * 1024);

/**
 * The file's digest and mode, and a small one's bytes as a view of the shared buffer (valid until
 * the next call). Sync calls for the common small file: thousands of them cost less than as many
 * promise round trips; a large one streams.
 */
async function scanConfigFile(configRoot: string, dest: string): Promise<{ sha256: string; mode: number; bytes?: Buffer } | undefined> {
  const path = join(configRoot, dest);
  const info = configFileInfo(path);
  if (info === undefined) return undefined;
  const mode = info.mode & 0o777;
  if (info.size > DIFF_LIMIT_BYTES) return { sha256: await sha256Stream(createReadStream(path)), mode };
  const fd = openSync(path, 'r');
  try {
    // The size lstat saw is a hint: read to the end, growing the buffer if the file grew.
    let length = 0;
    for (;;) {
      if (length === scratch.length) scratch = Buffer.concat([scratch, Buffer.alloc(scratch.length)]);
      const got = readSync(fd, scratch, length, scratch.length - length, length);
      if (got === 0) break;
      length += got;
    }
    const bytes = scratch.subarray(0, length);
    return { sha256: sha256Hex(bytes), mode, ...(length <= DIFF_LIMIT_BYTES ? { bytes } : {}) };
  } finally {
    closeSync(fd);
  }
}

export async function writeConfigFile(configRoot: string, dest: string, content: Buffer | AsyncIterable<Buffer>, mode: number): Promise<void> {
  await writeFileDurable(join(configRoot, dest), content, mode, dest);
}

/** Drops a temp file a killed write left next to `dest` (the next write would reuse it; a skipped one would not). */
export async function discardTempFile(configRoot: string, dest: string): Promise<void> {
  rmSync(tempPathFor(join(configRoot, dest)), { force: true });
}

export async function chmodConfigFile(configRoot: string, dest: string, mode: number): Promise<void> {
  await chmodDurable(join(configRoot, dest), mode);
}

export async function removeConfigFile(configRoot: string, dest: string): Promise<void> {
  await removeDurable(join(configRoot, dest));
}

const backupSchema = z.array(
  z.object({ dest: z.string(), existed: z.boolean(), mode: z.number().optional(), sha256: z.string().optional() }),
);
export type Backup = z.infer<typeof backupSchema>;

const BACKUP_LIST = 'previous.json';
const BACKUP_DIR = 'previous';

/** Copies every listed file that exists, in durable batches; the list is written last, so its presence means the backup is whole. */
export async function backupConfigs(configRoot: string, dests: readonly string[], installDir: string): Promise<Backup> {
  const backup: Backup = [];
  const copies = new DurableBatch();
  for (const dest of dests) {
    const file = await readConfigFile(configRoot, dest);
    if (file === undefined) {
      backup.push({ dest, existed: false });
      continue;
    }
    const from = join(configRoot, dest);
    // A small file was read whole and hashed once; a large one is hashed again as it is copied.
    const data =
      file.small ??
      (() => verifiedStream(createReadStream(from), file.sha256, () => new AirlockError('INPUT_CHANGED', `${from}: changed while airlock was backing it up`)));
    await copies.add({ path: join(installDir, BACKUP_DIR, dest), data, mode: 0o600 });
    backup.push({ dest, existed: true, mode: file.mode, sha256: file.sha256 });
  }
  await copies.flush();
  await writeFileDurable(join(installDir, BACKUP_LIST), `${JSON.stringify(backup, null, 2)}\n`, 0o600);
  return backup;
}

export async function readBackup(installDir: string): Promise<Backup | undefined> {
  let text: string;
  try {
    text = await readFile(join(installDir, BACKUP_LIST), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = backupSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new AirlockError('JOURNAL_INVALID', `${join(installDir, BACKUP_LIST)}: not a backup list`);
  return parsed.data;
}

/**
 * Puts the config root back as it was before the install: idempotent, so a restore killed
 * half-way is finished by running it again. Returns the files it changed.
 */
export async function restoreConfigs(configRoot: string, installDir: string, backup: Backup, onEntry: () => void = () => undefined): Promise<string[]> {
  const changed: string[] = [];
  for (const entry of backup) {
    await restoreEntry(configRoot, installDir, entry, changed);
    onEntry();
  }
  return changed;
}

async function restoreEntry(configRoot: string, installDir: string, entry: Backup[number], changed: string[]): Promise<void> {
  await discardTempFile(configRoot, entry.dest);
  const current = await digestConfigFile(configRoot, entry.dest);
  if (!entry.existed) {
    if (current !== undefined) {
      await removeConfigFile(configRoot, entry.dest);
      changed.push(entry.dest);
    }
    return;
  }
  if (current !== undefined && current.sha256 === entry.sha256 && current.mode === entry.mode) return;
  const saved = join(installDir, BACKUP_DIR, entry.dest);
  // Checked as it streams: a changed backup fails before the rename, leaving the config as it is.
  const content = verifiedStream(createReadStream(saved), entry.sha256 ?? '', () => new AirlockError('DIGEST_MISMATCH', `${saved}: the backup of ${entry.dest} was changed; not restoring it`));
  await writeConfigFile(configRoot, entry.dest, content, entry.mode ?? 0o644);
  changed.push(entry.dest);
}
