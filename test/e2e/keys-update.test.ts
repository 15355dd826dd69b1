/**
 * Trust-store rotation through the real CLI: an update N -> N+1 must be signed by a
 * threshold of the current root keys and of the new ones, and versions only go up.
 */
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliIn } from '../support/cli.js';

const env = { AIRLOCK_PASSPHRASE: 'rotation-test' };
let dir: string;
const ids: Record<string, string> = {};

const { cli, ok, fails } = cliIn(() => ({ cwd: dir, env }));

function trustYaml(version: number, roots: string[], releaseKeys: string[]): string {
  return [
    `version: ${version}`,
    'threshold: 1',
    'keys:',
    ...releaseKeys.map((name) => `  - { file: ${name}.pub.pem, name: ${name}, roles: [build] }`),
    'root:',
    '  threshold: 2',
    '  keys:',
    ...roots.map((name) => `    - { file: ${name}.pub.pem, name: ${name} }`),
  ].join('\n');
}

/** A store directory holding trust.yaml and the public keys it names. */
async function storeDir(path: string, version: number, roots: string[], releaseKeys: string[]): Promise<string> {
  await mkdir(join(dir, path), { recursive: true });
  for (const name of [...roots, ...releaseKeys]) await cp(join(dir, 'keys', `${name}.pub.pem`), join(dir, path, `${name}.pub.pem`));
  await writeFile(join(dir, path, 'trust.yaml'), trustYaml(version, roots, releaseKeys));
  return path;
}

async function signedUpdate(path: string, version: number, signers: string[]): Promise<string> {
  await storeDir(path, version, ['root-a', 'root-c'], ['build', 'officer']);
  for (const signer of signers) await ok(['keys', 'sign-update', path, '--key', `keys/${signer}.key.pem`]);
  return path;
}

async function freshStore(name: string, revoked = ''): Promise<string> {
  const path = await storeDir(name, 1, ['root-a', 'root-b'], ['build']);
  if (revoked !== '') await writeFile(join(dir, path, 'revoked.txt'), revoked);
  return path;
}

async function versionOf(store: string): Promise<number> {
  const listed = await ok(['keys', 'list', '--trust', store, '--json']);
  return (JSON.parse(listed.stdout) as { version: number }).version;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-rotate-'));
  for (const name of ['root-a', 'root-b', 'root-c', 'build', 'officer']) {
    const made = await ok(['keys', 'generate', '-n', name, '-o', 'keys', '--json']);
    ids[name] = (JSON.parse(made.stdout) as { keyId: string }).keyId;
  }
});

describe('airlock keys update', () => {
  it('N -> N+1 signed by two current and two new root keys is applied, the old store kept', async () => {
    const store = await freshStore('site-ok', `# lost laptop\n${'ab'.repeat(32)}\n`);
    const update = await signedUpdate('update-ok', 2, ['root-a', 'root-b', 'root-c']);
    const result = await ok(['keys', 'update', update, '--trust', store]);
    expect(result.stdout).toContain(`Trust store ${store} updated from version 1 to 2`);
    const approvals = (line: string) => /^ {2}approved by (current|new) root keys: +(.*)$/m.exec(result.stdout.split('\n').find((l) => l.includes(line)) ?? '')?.[2]?.split(', ').sort();
    expect(approvals('current root')).toEqual([`root-a (${ids['root-a']})`, `root-b (${ids['root-b']})`]);
    expect(approvals('new root')).toEqual([`root-a (${ids['root-a']})`, `root-c (${ids['root-c']})`]);
    expect(await versionOf(store)).toBe(2);
    expect(await versionOf(`${store}.previous`)).toBe(1);
    const listed = JSON.parse((await ok(['keys', 'list', '--trust', store, '--json'])).stdout) as { keys: Array<{ name: string }>; root: { keys: Array<{ name: string }> } };
    expect(listed.keys.map((k) => k.name)).toEqual(['build', 'officer']);
    expect(listed.root.keys.map((k) => k.name)).toEqual(['root-a', 'root-c']);
    // The site's own revocation survives the update, and the approving signatures travel with the store.
    expect(await readFile(join(dir, store, 'revoked.txt'), 'utf8')).toContain('ab'.repeat(32));
    expect((await stat(join(dir, store, 'signatures', `${ids['root-b']}.sig`))).isFile()).toBe(true);

    fails(await cli(['keys', 'update', update, '--trust', store]), 'DOWNGRADE', 'version 2 is not newer than the installed version 2');
  });

  it.each([
    ['only one key of either side', ['root-a'], 'current root keys: trust policy not met: 1 of 2 required trusted signature(s) (root-a)'],
    ['the current roots but only one new root', ['root-a', 'root-b'], 'new root keys: trust policy not met: 1 of 2 required trusted signature(s) (root-a)'],
    ['the new roots but only one current root', ['root-a', 'root-c'], 'current root keys: trust policy not met: 1 of 2 required trusted signature(s) (root-a)'],
  ])('is refused when signed by %s', async (label, signers, message) => {
    const store = await freshStore(`site-${label.replace(/\W+/g, '-')}`);
    const update = await signedUpdate(`update-${label.replace(/\W+/g, '-')}`, 2, signers);
    fails(await cli(['keys', 'update', update, '--trust', store]), 'POLICY_THRESHOLD', message);
    expect(await versionOf(store)).toBe(1);
  });

  it('a revoked root key does not count', async () => {
    const store = await freshStore('site-revoked', `${ids['root-b']}\n`);
    const update = await signedUpdate('update-revoked', 2, ['root-a', 'root-b', 'root-c']);
    fails(await cli(['keys', 'update', update, '--trust', store]), 'POLICY_THRESHOLD', `current root keys: trust policy not met: 1 of 2 required trusted signature(s) (root-a); revoked key ${ids['root-b']}`);
  });

  it('a lower version is refused even when properly signed', async () => {
    const store = await freshStore('site-low');
    await writeFile(join(dir, store, 'trust.yaml'), trustYaml(5, ['root-a', 'root-b'], ['build']));
    const update = await signedUpdate('update-low', 4, ['root-a', 'root-b', 'root-c']);
    fails(await cli(['keys', 'update', update, '--trust', store]), 'DOWNGRADE', 'trust store version 4 is not newer than the installed version 5');
  });

  it('an update altered after signing is refused, naming the file', async () => {
    const store = await freshStore('site-tampered');
    const update = await signedUpdate('update-tampered', 2, ['root-a', 'root-b', 'root-c']);
    await cp(join(dir, 'keys', 'root-b.pub.pem'), join(dir, update, 'officer.pub.pem'));
    fails(await cli(['keys', 'update', update, '--trust', store]), 'DIGEST_MISMATCH', `${join(update, 'officer.pub.pem')}: does not match SHA256SUMS`);
    await cp(join(dir, 'keys', 'officer.pub.pem'), join(dir, update, 'officer.pub.pem'));
    await writeFile(join(dir, update, 'extra.pub.pem'), 'x');
    fails(await cli(['keys', 'update', update, '--trust', store]), 'FILE_EXTRA', `${join(update, 'extra.pub.pem')}: not listed in SHA256SUMS`);
    // A signer arriving after the change is told so instead of signing something else.
    fails(await cli(['keys', 'sign-update', update, '--key', 'keys/root-c.key.pem']), 'INPUT_CHANGED', 'files changed since SHA256SUMS was written and signed');
    expect(await versionOf(store)).toBe(1);
  });

  it('signing twice with the same key changes nothing', async () => {
    const update = await signedUpdate('update-twice', 2, ['root-a']);
    const before = await readFile(join(dir, update, 'signatures', `${ids['root-a']}.sig`));
    const again = await ok(['keys', 'sign-update', update, '--key', 'keys/root-a.key.pem']);
    expect(again.stdout).toContain('had already signed');
    expect(await readFile(join(dir, update, 'signatures', `${ids['root-a']}.sig`))).toEqual(before);
  });

  it('a store without root keys cannot be updated', async () => {
    await mkdir(join(dir, 'site-noroot'));
    await cp(join(dir, 'keys', 'build.pub.pem'), join(dir, 'site-noroot', 'build.pub.pem'));
    const update = await signedUpdate('update-noroot', 2, ['root-a', 'root-c']);
    fails(await cli(['keys', 'update', update, '--trust', 'site-noroot']), 'TRUST_STORE_INVALID', 'has no root section');
  });

  it('puts the store back after an update interrupted between its two renames', async () => {
    const store = await freshStore('site-crash');
    await cp(join(dir, store), join(dir, `${store}.previous`), { recursive: true });
    await rm(join(dir, store), { recursive: true });
    const update = await signedUpdate('update-crash', 2, ['root-a', 'root-b', 'root-c']);
    const result = await ok(['keys', 'update', update, '--trust', store]);
    expect(result.stderr).toContain(`warning: ${store} was restored from an interrupted update`);
    expect(await versionOf(store)).toBe(2);
  });
});
