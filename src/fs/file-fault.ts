/**
 * Foreseeable faults of the local filesystem, as AirlockErrors that name the file and its
 * directory: a full disk, a file or directory airlock may not write, a read-only mount, a
 * path through a file or onto a directory. Anything else is left as it is (a bug, INTERNAL).
 */
import { dirname } from 'node:path';
import { AirlockError, isAirlockError, type ErrorCode } from '../base/errors.js';

const FAULTS: Record<string, { code: ErrorCode; say: (path: string) => string }> = {
  ENOSPC: { code: 'DISK_FULL', say: (path) => `no space left on the device writing ${path}: the filesystem holding ${dirname(path)} is full` },
  EDQUOT: { code: 'DISK_FULL', say: (path) => `disk quota exceeded writing ${path}: the quota on the filesystem holding ${dirname(path)} is used up` },
  EACCES: { code: 'PERMISSION_DENIED', say: (path) => `permission denied on ${path} (directory ${dirname(path)})` },
  EPERM: { code: 'PERMISSION_DENIED', say: (path) => `operation not permitted on ${path} (directory ${dirname(path)})` },
  EROFS: { code: 'READ_ONLY_FILESYSTEM', say: (path) => `${path}: the filesystem holding ${dirname(path)} is mounted read-only` },
  ENOTDIR: { code: 'NOT_A_DIRECTORY', say: (path) => `${path}: a component of the path is a file, not a directory` },
  EISDIR: { code: 'IS_A_DIRECTORY', say: (path) => `${path}: is a directory, not a file` },
};

function errnoOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || isAirlockError(error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : undefined;
}

/** The fault `error` is, naming `path` (the file being written or read); any other error unchanged. */
export function fileFault(error: unknown, path: string): unknown {
  const fault = FAULTS[errnoOf(error) ?? ''];
  return fault === undefined ? error : new AirlockError(fault.code, fault.say(path), { cause: error });
}

/** Like fileFault, for a system error that carries its own path (Node's fs errors do); undefined otherwise. */
export function pathFault(error: unknown): AirlockError | undefined {
  const path = (error as NodeJS.ErrnoException | undefined)?.path;
  if (typeof path !== 'string') return undefined;
  const mapped = fileFault(error, path);
  return isAirlockError(mapped) ? mapped : undefined;
}

/** Runs `work`, turning a filesystem fault into its AirlockError naming `path`. */
export async function onFile<T>(path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw fileFault(error, path);
  }
}

export function onFileSync<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw fileFault(error, path);
  }
}
