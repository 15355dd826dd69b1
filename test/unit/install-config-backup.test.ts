/** The config root's backup and restore (src/install/targets/files.ts) on real files, small and over the diff limit. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIFF_LIMIT_BYTES } from '../../src/install/plan-config-changes.js';
import { backupConfigs, readConfigFile, restoreConfigs, writeConfigFile } from '../../src/install/targets/files.js';
import { sha256Hex } from '../../src/hash/digest.js';

async function site() {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-backup-'));
  const root = join(dir, 'etc');
  const installDir = join(dir, 'install');
  await mkdir(root, { recursive: true });
  const big = randomBytes(DIFF_LIMIT_BYTES + 4096);
  await writeFile(join(root, 'big.bin'), big, { mode: 0o600 });
  await writeFile(join(root, 'app.conf'), 'port: 80\n');
  return { root, installDir, big };
}

describe('config backup and restore', () => {
  it('hashes a large file without keeping it, and keeps a small one for diffs', async () => {
    const { root, big } = await site();
    const large = await readConfigFile(root, 'big.bin');
    expect(large).toEqual({ sha256: sha256Hex(big), mode: 0o600 });
    expect((await readConfigFile(root, 'app.conf'))?.small?.toString()).toBe('port: 80\n');
  });

  it('puts back what an install replaced, added or removed', async () => {
    const { root, installDir, big } = await site();
    const backup = await backupConfigs(root, ['big.bin', 'app.conf', 'new.conf'], installDir);
    await writeConfigFile(root, 'big.bin', Buffer.from('replaced'), 0o644);
    await writeConfigFile(root, 'new.conf', Buffer.from('added'), 0o644);
    expect(await restoreConfigs(root, installDir, backup)).toEqual(['big.bin', 'new.conf']);
    expect((await readFile(join(root, 'big.bin'))).equals(big)).toBe(true);
    expect((await readConfigFile(root, 'big.bin'))?.mode).toBe(0o600);
    expect(await readConfigFile(root, 'new.conf')).toBeUndefined();
  });

  it('refuses a changed backup and leaves the config as it is', async () => {
    const { root, installDir } = await site();
    const backup = await backupConfigs(root, ['big.bin'], installDir);
    await writeConfigFile(root, 'big.bin', Buffer.from('replaced'), 0o644);
    await writeFile(join(installDir, 'previous', 'big.bin'), 'tampered');
    await expect(restoreConfigs(root, installDir, backup)).rejects.toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH', message: expect.stringContaining('the backup of big.bin was changed') }));
    expect(await readFile(join(root, 'big.bin'), 'utf8')).toBe('replaced');
  });
});
