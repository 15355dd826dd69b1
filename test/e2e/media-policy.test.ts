/**
 * Release media are held to the trust store's policy, like the bundle they carry: one
 * signed-list verifier, one set of rules (threshold, required roles, certificates,
 * revocation). `media write` signs with every --key given, so a 2-of-N policy can be met,
 * and each signature checks with stock openssl as INSTALL.txt says.
 */
import { execa } from 'execa';
import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliIn } from '../support/cli.js';

const REPO = new URL('../..', import.meta.url).pathname;
const env = { AIRLOCK_PASSPHRASE: 'media policy passphrase', SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000) - 3600) };
let dir: string;
const ids: Record<string, string> = {};
/** trust.yaml: build (role build) and officer (role security), 2 of them, security required. */
let trust: string;
/** Signed by build and officer. */
let bundle: string;

const { cli, ok, fails } = cliIn(() => ({ cwd: dir, env }));

async function store(name: string, yaml: string, files: string[], revoked?: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path);
  await writeFile(join(path, 'trust.yaml'), yaml);
  for (const file of files) await copyFile(join(dir, 'keys', file), join(path, file));
  if (revoked !== undefined) await writeFile(join(path, 'revoked.txt'), `${revoked}\n`);
  return path;
}

let counter = 0;
async function media(keys: string[], extra: string[] = []): Promise<string> {
  const to = join(dir, `media-${counter++}`);
  await ok(['media', 'write', bundle, '--to', to, '--volume-size', '16K', ...keys.flatMap((key) => ['--key', join(dir, 'keys', `${key}.key.pem`)]), ...extra]);
  return to;
}

const TWO_OF_TWO = 'version: 1\nthreshold: 2\nrequiredRoles: [security]\nkeys:\n  - { file: build.pub.pem, name: build, roles: [build] }\n  - { file: officer.pub.pem, name: officer, roles: [security] }\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-media-policy-'));
  for (const name of ['build', 'officer', 'alice', 'ca']) {
    const made = await cli(['keys', 'generate', '--name', name, '--out', join(dir, 'keys'), '--json']);
    expect(made.code, made.stderr).toBe(0);
    ids[name] = (JSON.parse(made.stdout) as { keyId: string }).keyId;
  }
  trust = await store('trust', TWO_OF_TWO, ['build.pub.pem', 'officer.pub.pem']);
  await ok(['build', join(REPO, 'manifests', 'shop.yaml'), '--key', 'keys/build.key.pem', '--key', 'keys/officer.key.pem', '--out', 'out']);
  bundle = join(dir, 'out', 'shop-1.0.0.airlock');
}, 120_000);

describe('airlock media verify applies the trust policy', () => {
  it('media signed by build alone fall short of 2 of 2, though the bundle inside verifies', async () => {
    const to = await media(['build']);
    const result = await cli(['media', 'verify', to, '--trust', trust]);
    fails(result, 'POLICY_THRESHOLD', `trust policy not met: 1 of 2 required trusted signature(s) (build); no signature with role security; signed by ${ids.build} (valid)`);
    expect(result.stdout).toContain(`${to}: SHA256SUMS.media signed by build (valid), trust policy NOT met`);
    expect(result.stdout).toContain('result    VERIFIED');
  });

  it('media signed by both keys pass, and each signature checks with openssl as INSTALL.txt says', async () => {
    const to = await media(['build', 'officer']);
    const result = await ok(['media', 'verify', to, '--trust', trust]);
    expect(result.stdout).toMatch(/SHA256SUMS\.media signed by (build|officer) \(valid\), (build|officer) \(valid\), trust policy met/);
    const index = JSON.parse(await readFile(join(to, 'MEDIA.json'), 'utf8')) as { format: string; signedBy: string[] };
    expect(index).toMatchObject({ format: 'airlock-media/v2', signedBy: [ids.build, ids.officer].sort() });
    const text = await readFile(join(to, 'INSTALL.txt'), 'utf8');
    for (const name of ['build', 'officer']) {
      const command = text.split('\n').find((line) => line.includes(`signatures/${ids[name]}.sig`))!.trim();
      expect(command).toBe(`openssl pkeyutl -verify -pubin -inkey TRUSTED-KEY.pub.pem -rawin -in SHA256SUMS.media -sigfile signatures/${ids[name]}.sig`);
      const checked = await execa('bash', ['-c', command.replace('TRUSTED-KEY.pub.pem', join(trust, `${name}.pub.pem`))], { cwd: to, reject: false });
      expect(checked.stdout).toContain('Signature Verified Successfully');
    }
    expect((await execa('sha256sum', ['-c', 'SHA256SUMS.media'], { cwd: to, reject: false })).exitCode).toBe(0);
  });

  it('a revoked key does not count for media either', async () => {
    const revoked = await store('trust-revoked', TWO_OF_TWO, ['build.pub.pem', 'officer.pub.pem'], ids.officer);
    fails(await cli(['media', 'verify', await media(['build', 'officer']), '--trust', revoked]), 'POLICY_THRESHOLD', `revoked key ${ids.officer}`);
  });

  it('a changed signature, a missing one and a stray file are each named', async () => {
    const to = await media(['build', 'officer']);
    const signature = join(to, 'signatures', `${ids.officer}.sig`);
    const bytes = await readFile(signature);
    bytes[5] = bytes[5]! ^ 1;
    await writeFile(signature, bytes);
    fails(await cli(['media', 'verify', to, '--trust', trust]), 'SIGNATURE_INVALID', `${signature}: does not verify over ${join(to, 'SHA256SUMS.media')} with trusted key officer (${ids.officer})`);
    await execa('rm', [signature]);
    fails(await cli(['media', 'verify', to, '--trust', trust]), 'FILE_EXTRA', `${join(to, 'signatures', `${ids.officer}.pem`)}: has no ${ids.officer}.sig beside it`);
    await execa('rm', [join(to, 'signatures', `${ids.officer}.pem`)]);
    fails(await cli(['media', 'verify', to, '--trust', trust]), 'SIGNATURE_MISSING', `${signature}: missing (MEDIA.json says key ${ids.officer} signed SHA256SUMS.media)`);
    await writeFile(join(to, 'signatures', 'notes.txt'), 'x');
    fails(await cli(['media', 'verify', to, '--trust', trust]), 'FILE_EXTRA', `${join(to, 'signatures', 'notes.txt')}: expected <key id>.sig or <key id>.pem`);
  });

  it('unsigned media are not vouched for', async () => {
    const to = join(dir, `media-${counter++}`);
    await ok(['media', 'write', bundle, '--to', to, '--unsigned']);
    expect(await readdir(to)).not.toContain('signatures');
    fails(await cli(['media', 'verify', to, '--trust', trust]), 'SIGNATURE_MISSING', `${join(to, 'SHA256SUMS.media')}: not signed (written with --unsigned)`);
  });

  it('a signer certified by a trusted authority counts, with the role its certificate grants', async () => {
    await ok(['keys', 'ca-cert', '--key', 'keys/ca.key.pem', '--name', 'Media Test CA', '--out', 'keys/ca.crt.pem']);
    await ok(['keys', 'cert-request', '--key', 'keys/alice.key.pem', '--name', 'Alice', '--role', 'security', '--out', 'alice.csr.pem']);
    await ok(['keys', 'issue', 'alice.csr.pem', '--ca-key', 'keys/ca.key.pem', '--ca-cert', 'keys/ca.crt.pem', '--days', '30', '--out', 'alice.crt.pem']);
    const certified = await store(
      'trust-ca',
      'version: 1\nthreshold: 2\nrequiredRoles: [security]\nkeys:\n  - { file: build.pub.pem, name: build, roles: [build] }\nauthorities:\n  - { file: ca.crt.pem, name: media CA, roles: [security] }\n',
      ['build.pub.pem', 'ca.crt.pem'],
    );
    // --cert goes with the --key in the same place: Alice presents her certificate.
    const signers = ['--key', 'keys/alice.key.pem', '--key', 'keys/build.key.pem', '--cert', 'alice.crt.pem'];
    await ok(['build', join(REPO, 'manifests', 'shop.yaml'), ...signers, '--out', 'out-ca']);
    const to = join(dir, `media-${counter++}`);
    await ok(['media', 'write', join(dir, 'out-ca', 'shop-1.0.0.airlock'), '--to', to, ...signers]);
    expect(await readFile(join(to, 'signatures', `${ids.alice}.pem`), 'utf8')).toBe(await readFile(join(dir, 'alice.crt.pem'), 'utf8'));
    const result = await ok(['media', 'verify', to, '--trust', certified]);
    expect(result.stdout).toMatch(/SHA256SUMS\.media signed by (Alice|build) \(valid\), (Alice|build) \(valid\), trust policy met/);
    // The store without the authority does not know Alice: the media fall short there.
    fails(await cli(['media', 'verify', to, '--trust', trust]), 'POLICY_THRESHOLD', `unknown key ${ids.alice}`);
  });
});
