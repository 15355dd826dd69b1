/**
 * Release media end to end through the real CLI: a bundle with images cut at awkward places
 * (inside a tar header, inside a blob, exactly at an entry), checked volume by volume with
 * every fault named, verified and installed straight from the volumes, and the installer on
 * the media run with no network and no node_modules, giving the same site as the CLI.
 */
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import { TAR_BLOCK } from '../../src/bundle/format.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { makeTestImages } from '../support/images.js';

const REPO = new URL('../..', import.meta.url).pathname;
const env = { AIRLOCK_PASSPHRASE: 'media test passphrase', SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000) - 3600) };
let dir: string;
let trust: string;
let key: string;
/** shop 1.0.0 with two images, one with a 300 KiB layer. */
let bundle: string;
/** The plain demo release (no images, ~25 KiB): small enough for 700-byte volumes. */
let small: string;

const SITE = `site: media-site
environment: prod
stateDir: state
trust: TRUST
variables: { db_host: db.internal, api_token: tok-media-4711, smtp_host: mail.internal }
targets:
  configRoot: etc
  databases:
    shop: { sqlite: { file: data/shop.db } }
  images: { ociLayout: images }
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-media-'));
  trust = join(dir, 'trust');
  await mkdir(trust);
  const made = await runCli(['keys', 'generate', '--name', 'build', '--out', join(dir, 'keys')], { env });
  expect(made.code, made.stderr).toBe(0);
  key = join(dir, 'keys', 'build.key.pem');
  await copyFile(join(dir, 'keys', 'build.pub.pem'), join(trust, 'build.pub.pem'));

  const src = join(dir, 'src');
  await cp(join(REPO, 'manifests'), src, { recursive: true });
  await makeTestImages(join(src, 'layout'), { bigLayerSize: 300 * 1024 });
  const shop = await readFile(join(src, 'shop.yaml'), 'utf8');
  await writeFile(
    join(src, 'shop-images.yaml'),
    `${shop}\nimages:\n  - ref: registry.example.internal/shop/big:1.0.0\n    ociLayout: layout\n    tag: big\n  - ref: registry.example.internal/shop/app1:1.0.0\n    ociLayout: layout\n    tag: app1\n`,
  );
  await mkdir(join(dir, 'images-out'));
  const built = await runCli(['build', join(src, 'shop-images.yaml'), '--key', key, '--out', join(dir, 'images-out')], { env });
  expect(built.code, built.stderr).toBe(0);
  bundle = join(dir, 'images-out', 'shop-1.0.0.airlock');
  const plain = await runCli(['build', join(src, 'shop.yaml'), '--key', key, '--out', dir], { env });
  expect(plain.code, plain.stderr).toBe(0);
  small = join(dir, 'shop-1.0.0.airlock');
}, 120_000);

let counter = 0;
async function writeMedia(file: string, volumeSize: number | string, extra: string[] = []): Promise<string> {
  const media = join(dir, `media-${counter++}`);
  const result = await runCli(['media', 'write', file, '--to', media, '--volume-size', String(volumeSize), '--key', key, ...extra], { env });
  expect(result.code, result.stderr).toBe(0);
  return media;
}

async function volumesOf(media: string): Promise<string[]> {
  return (await readdir(media)).filter((name) => /\.airlock\.\d+$/.test(name)).sort();
}

async function verifyJson(target: string): Promise<{ ok: boolean; checksumsDigest?: string }> {
  const result = await runCli(['verify', target, '--trust', trust, '--json']);
  return JSON.parse(result.stdout) as { ok: boolean; checksumsDigest?: string };
}

describe('cutting volumes', () => {
  it('splits inside a tar header, inside a blob and exactly at an entry, and each layout verifies like the file', async () => {
    const reader = await BundleReader.open(bundle);
    const blob = [...reader.entries].filter((entry) => entry.path.startsWith('blobs/')).sort((a, b) => b.size - a.size)[0]!;
    const config = reader.entries.find((entry) => entry.path.startsWith('configs/prod/'))!;
    await reader.close();
    const headerOf = (entry: { dataOffset: number }) => entry.dataOffset - TAR_BLOCK;
    const cases = {
      'inside a tar header': headerOf(config) + 100,
      'inside a blob': blob.dataOffset + 1000,
      'exactly at an entry': headerOf(blob),
      '512 * 300': 512 * 300,
    };
    const expected = await verifyJson(bundle);
    expect(expected.ok).toBe(true);
    for (const [name, size] of Object.entries(cases)) {
      const media = await writeMedia(bundle, size);
      const volumes = await volumesOf(media);
      expect(volumes.length, name).toBeGreaterThan(1);
      expect((await stat(join(media, volumes[0]!))).size, name).toBe(size);
      const joined = Buffer.concat(await Promise.all(volumes.map((volume) => readFile(join(media, volume)))));
      expect(joined.equals(await readFile(bundle)), name).toBe(true);
      const check = await runCli(['media', 'verify', media, '--trust', trust]);
      expect(check.code, `${name}: ${check.stderr}`).toBe(0);
      expect(check.stdout).toContain('result    VERIFIED');
      // From the directory and from the first volume: the same digest as the file.
      expect(await verifyJson(media), name).toEqual({ ...expected, bundle: media });
      expect((await verifyJson(join(media, volumes[0]!))).checksumsDigest).toBe(expected.checksumsDigest);
    }
  }, 120_000);

  it('cuts a small release into 700-byte volumes that stock tools check and join', async () => {
    const media = await writeMedia(small, 700);
    const volumes = await volumesOf(media);
    expect(volumes).toHaveLength(Math.ceil((await stat(small)).size / 700));
    const sums = await execa('sha256sum', ['-c', 'SHA256SUMS.media'], { cwd: media, reject: false });
    expect(sums.exitCode, sums.stderr).toBe(0);
    // The signature file is found by the trusted key's own id, computed with openssl.
    const der = await execa('openssl', ['pkey', '-pubin', '-in', join(trust, 'build.pub.pem'), '-outform', 'DER'], { encoding: 'buffer' });
    const keyId = createHash('sha256').update(der.stdout).digest('hex');
    const signature = await execa('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(trust, 'build.pub.pem'), '-rawin', '-in', 'SHA256SUMS.media', '-sigfile', `signatures/${keyId}.sig`], { cwd: media, reject: false });
    expect(signature.stdout).toContain('Signature Verified Successfully');
    const joined = await execa('bash', ['-c', `cat ${volumes.join(' ')} | cmp - ${JSON.stringify(small)}`], { cwd: media, reject: false });
    expect(joined.exitCode, joined.stdout).toBe(0);
    const index = JSON.parse(await readFile(join(media, 'MEDIA.json'), 'utf8')) as { installer: { sha256: string } };
    expect((await execa('sha256sum', [join(media, 'airlock-installer.mjs')])).stdout.split(' ')[0]).toBe(index.installer.sha256);
    expect(await readFile(join(media, 'INSTALL.txt'), 'utf8')).toContain('sha256sum -c SHA256SUMS.media');
  });

  it('fills several media in order and says which volume goes where', async () => {
    const single = await writeMedia(bundle, 128 * 1024);
    const kitFiles = (await readdir(single, { recursive: true, withFileTypes: true })).filter(
      (entry) => entry.isFile() && (entry.name === 'airlock-installer.mjs' || relative(single, entry.parentPath).startsWith('node_modules')),
    );
    let kit = 0;
    for (const entry of kitFiles) kit += (await stat(join(entry.parentPath, entry.name))).size;
    const volume = 128 * 1024;
    const count = (await volumesOf(single)).length;
    // Medium 1 has room for the installer kit, the 1 MiB index reserve and 2 volumes; later media for many more.
    const mediaSize = kit + 1024 * 1024 + 2 * volume + 1000;
    const base = join(dir, `multi-${counter++}`);
    const usb = (n: number) => join(base, `usb${n}`);
    const write = (size: number) => runCli(['media', 'write', bundle, '--to', usb(1), usb(2), usb(3), '--volume-size', String(volume), '--media-size', String(size), '--key', key], { env });

    const tooSmall = await write(kit + volume);
    expect(tooSmall.code).toBe(exitCodeFor('USAGE'));
    expect(tooSmall.stderr).toContain(`medium 1 (${usb(1)}) cannot hold one 128.0 KiB volume plus the index and installer`);

    const result = await write(mediaSize);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`medium 1: ${usb(1)}   volumes 1-2 of ${count}, installer`);
    expect(result.stdout).toContain(`medium 2: ${usb(2)}   volumes 3-${count} of ${count},`);
    expect(result.stderr).toContain(`${usb(3)} is not needed`);
    expect(await volumesOf(usb(1))).toEqual(['shop-1.0.0.airlock.001', 'shop-1.0.0.airlock.002']);
    expect((await readdir(usb(2))).includes('airlock-installer.mjs')).toBe(false);
    expect(await readFile(join(usb(2), 'INSTALL.txt'), 'utf8')).toContain('medium 2 of 2');
    const check = await runCli(['media', 'verify', usb(1), usb(2), '--trust', trust]);
    expect(check.code, check.stderr).toBe(0);
    const alone = await runCli(['media', 'verify', usb(2), '--trust', trust]);
    expect(alone.stderr).toContain(`VOLUME_MISSING: volume 1 of ${count}: missing`);
    // Mounted side by side, the other media are found from the first one.
    expect((await verifyJson(usb(1))).ok).toBe(true);
  });
});

describe('faults, each named', () => {
  async function faulty(change: (media: string, volumes: string[]) => Promise<void>): Promise<{ code: number; stderr: string; stdout: string; total: number }> {
    const media = await writeMedia(bundle, 128 * 1024);
    const volumes = await volumesOf(media);
    await change(media, volumes);
    return { ...(await runCli(['media', 'verify', media, '--trust', trust])), total: volumes.length };
  }

  it('a missing volume', async () => {
    const result = await faulty((media, volumes) => rm(join(media, volumes[1]!)));
    expect(result.code).toBe(exitCodeFor('VOLUME_MISSING'));
    expect(result.stderr).toContain(`VOLUME_MISSING: volume 2 of ${result.total}: missing`);
  });

  it('two volumes swapped', async () => {
    const result = await faulty(async (media, volumes) => {
      await rename(join(media, volumes[1]!), join(media, 'x'));
      await rename(join(media, volumes[2]!), join(media, volumes[1]!));
      await rename(join(media, 'x'), join(media, volumes[2]!));
    });
    expect(result.code).toBe(exitCodeFor('VOLUME_CORRUPT'));
    expect(result.stderr).toContain(`volume 2 of ${result.total}: sha256 mismatch`);
    expect(result.stderr).toContain("it holds volume 3's bytes (volumes swapped or renamed)");
    expect(result.stdout).toContain(`volume 3 of ${result.total}: sha256 mismatch`);
  });

  it('one corrupted byte', async () => {
    const result = await faulty(async (media, volumes) => {
      const handle = await open(join(media, volumes[2]!), 'r+');
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, 4321);
      await handle.write(Buffer.from([byte[0]! ^ 0x20]), 0, 1, 4321);
      await handle.close();
    });
    expect(result.code).toBe(exitCodeFor('VOLUME_CORRUPT'));
    expect(result.stderr).toContain(`VOLUME_CORRUPT: volume 3 of ${result.total}: sha256 mismatch`);
    expect(result.stdout.match(/sha256 mismatch/g)).toHaveLength(2); // the list line and the FAIL line, for volume 3 only
  });

  it('a truncated volume, and an installer altered on the medium', async () => {
    const result = await faulty(async (media, volumes) => {
      await writeFile(join(media, volumes[0]!), (await readFile(join(media, volumes[0]!))).subarray(0, 1000));
      await writeFile(join(media, 'airlock-installer.mjs'), '// not the installer\n');
    });
    expect(result.stdout).toContain(`volume 1 of ${result.total}: size mismatch`);
    expect(result.stdout).toMatch(/DIGEST_MISMATCH: .*airlock-installer\.mjs: sha256 mismatch/);
  });

  it('reading without the index check still fails closed on a corrupt volume', async () => {
    const media = await writeMedia(bundle, 128 * 1024);
    const volumes = await volumesOf(media);
    const target = join(media, volumes[volumes.length - 2]!);
    const data = await readFile(target);
    data[5000] = data[5000]! ^ 0xff;
    await writeFile(target, data);
    const result = await runCli(['verify', media, '--trust', trust]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/FAIL +(DIGEST_MISMATCH|BUNDLE_FORMAT)/);
  });
});

/** What a site consists of, independent of where the bundle was read from. */
async function siteSnapshot(site: string): Promise<unknown> {
  const files: Record<string, string> = {};
  const walk = async (root: string, at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(root, path);
      else files[relative(root, path)] = `${((await stat(path)).mode & 0o777).toString(8)} ${createHash('sha256').update(await readFile(path)).digest('hex')}`;
    }
  };
  await walk(join(site, 'etc'), join(site, 'etc'));
  await walk(site, join(site, 'images'));
  const db = new Database(join(site, 'data', 'shop.db'), { readonly: true });
  const history = db.prepare('SELECT version, description, checksum, success, bundle_version FROM airlock_schema_history ORDER BY installed_rank').all();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  db.close();
  const state = JSON.parse(await readFile(join(site, 'state', 'state.json'), 'utf8')) as { releases: Array<Record<string, unknown>> };
  return { files, history, tables, releases: state.releases.map((release) => JSON.stringify(release).match(/"digest":"[0-9a-f]+"/)?.[0]) };
}

async function makeSite(name: string): Promise<string> {
  const site = join(dir, name);
  await mkdir(site, { recursive: true });
  await writeFile(join(site, 'site.yaml'), SITE.replace('TRUST', join(site, 'trust')));
  await cp(trust, join(site, 'trust'), { recursive: true });
  return site;
}

describe('installing from the volumes', () => {
  it('gives the same site as installing from the file, and the air-gapped installer on the media does too', async () => {
    const fromFile = await makeSite('site-file');
    const direct = await runCli(['install', bundle, '--site', join(fromFile, 'site.yaml'), '--yes']);
    expect(direct.code, direct.stderr).toBe(0);

    const media = await writeMedia(bundle, 100_000);
    const fromMedia = await makeSite('site-media');
    const split = await runCli(['install', media, '--site', join(fromMedia, 'site.yaml'), '--yes']);
    expect(split.code, split.stderr).toBe(0);
    expect(await siteSnapshot(fromMedia)).toEqual(await siteSnapshot(fromFile));

    // The isolated side: a copy of the media, no network, no node_modules anywhere above it, cwd elsewhere.
    const isolated = await mkdtemp(join(tmpdir(), 'airlock-airgap-'));
    await cp(media, join(isolated, 'media'), { recursive: true });
    const site = join(isolated, 'site');
    await mkdir(site);
    await writeFile(join(site, 'site.yaml'), SITE.replace('TRUST', join(site, 'trust')));
    await cp(trust, join(site, 'trust'), { recursive: true });
    const installer = join(isolated, 'media', 'airlock-installer.mjs');
    const run = (args: string[]) =>
      execa('unshare', ['-n', process.execPath, installer, ...args], { cwd: '/', env: { PATH: '/usr/bin:/bin', NODE_PATH: '' }, extendEnv: false, reject: false });
    const noNetwork = await execa('unshare', ['-n', process.execPath, '-e', "require('net').connect(80, '127.0.0.1').on('error', (e) => console.log(e.code))"], { reject: false });
    expect(noNetwork.stdout).toBe('ENETUNREACH');
    const checked = await run(['media', 'verify', join(isolated, 'media'), '--trust', join(site, 'trust')]);
    expect(checked.exitCode, checked.stderr).toBe(0);
    const installed = await run(['install', join(isolated, 'media'), '--site', join(site, 'site.yaml'), '--yes']);
    expect(installed.exitCode, `${installed.stdout}\n${installed.stderr}`).toBe(0);
    expect(await siteSnapshot(site)).toEqual(await siteSnapshot(fromFile));
    const status = await run(['status', '--site', join(site, 'site.yaml')]);
    expect(status.stdout).toContain('shop 1.0.0');
  }, 120_000);
});
