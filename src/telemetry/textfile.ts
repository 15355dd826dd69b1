/**
 * `<dir>/airlock.prom` for node_exporter's textfile collector, replaced in one rename: the
 * collector reads either the old file or the new one, never half of one. The temp file is
 * named per process and does not end in `.prom`, so the collector never reads it, and a run
 * refused because another holds the site lock cannot write into the other's temp file.
 */
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileFault, onFile } from '../fs/file-fault.js';
import { writeAll } from '../fs/write-all.js';

export const TEXTFILE_NAME = 'airlock.prom';

/** Writes the file; returns its path. Throws the filesystem's error (the caller turns it into a warning). */
export async function writeTextfile(dir: string, text: string): Promise<string> {
  const file = join(dir, TEXTFILE_NAME);
  const temp = join(dir, `.${TEXTFILE_NAME}.${process.pid}.tmp`);
  const handle = await onFile(file, () => open(temp, 'w', 0o644)).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${dir}: no such directory (it is node_exporter's --collector.textfile.directory)`);
    throw error;
  });
  try {
    await writeAll(handle, Buffer.from(text));
    // Readable by node_exporter's user whatever the umask.
    await handle.chmod(0o644);
    await handle.sync();
    await handle.close();
    await rename(temp, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw fileFault(error, file);
  }
  return file;
}
