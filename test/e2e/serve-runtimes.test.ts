/**
 * The hand-offs `airlock serve --print-config` writes, used by the real clients that read them:
 * containerd (a real daemon, `ctr content fetch --hosts-dir`) with the hosts.toml files, and the
 * containers/image library (skopeo, the same code CRI-O and podman use) with the registries.conf
 * drop-in. Both pull the images by their original names (registry.example.internal/...,
 * docker.io/...), whose hosts do not resolve here: only the mirror can have answered.
 * Docker's daemon.json is checked for its keys, and the pull commands it lists are run with skopeo.
 */
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startContainerd, type TestContainerd } from '../support/containerd.js';
import { registryDigest } from '../support/images.js';
import { makeServeFixture, SHOP, type ServeFixture } from '../support/serve-fixture.js';
import { startServe, type ServeProcess } from '../support/serve.js';

interface PrintedConfig {
  runtime: string;
  files: Array<{ path: string; content: string }>;
  notes: string[];
}

let fixture: ServeFixture;
let server: ServeProcess;

beforeAll(async () => {
  fixture = await makeServeFixture();
  server = await startServe([fixture.bundle, '--trust', fixture.fixture.trust]);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function printConfig(runtime: string): Promise<PrintedConfig> {
  const result = await runCli(['serve', fixture.bundle, '--trust', fixture.fixture.trust, '--listen', server.host, '--print-config', runtime, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PrintedConfig;
}

/** Writes the printed files under `root` instead of / (so /etc/containerd/... becomes root/etc/containerd/...). */
async function writeUnder(root: string, config: PrintedConfig): Promise<void> {
  for (const file of config.files) {
    await mkdir(dirname(join(root, file.path)), { recursive: true });
    await writeFile(join(root, file.path), file.content);
  }
}

describe('containerd: hosts.toml per registry', () => {
  let containerd: TestContainerd;
  beforeAll(async () => {
    containerd = await startContainerd();
  });
  afterAll(async () => {
    await containerd?.stop();
  });

  it('lets containerd pull every image by its original name through the server', async () => {
    const config = await printConfig('containerd');
    expect(config.files.map((file) => file.path)).toEqual(['/etc/containerd/certs.d/docker.io/hosts.toml', '/etc/containerd/certs.d/registry.example.internal/hosts.toml']);
    const root = join(fixture.fixture.dir, 'containerd-config');
    await writeUnder(root, config);
    const hostsDir = join(root, 'etc/containerd/certs.d');
    const before = server.requests().length;
    for (const ref of [`${SHOP}/app1:1.0`, `${SHOP}/multi:1.0`, 'docker.io/library/big:2']) {
      const fetched = await containerd.ctr(['content', 'fetch', '--hosts-dir', hostsDir, '--all-platforms', ref]);
      expect(fetched.code, `${ref}: ${fetched.stderr}`).toBe(0);
    }
    const images = await containerd.ctr(['images', 'ls']);
    for (const ref of [`${SHOP}/app1:1.0`, `${SHOP}/multi:1.0`, 'docker.io/library/big:2']) {
      const line = images.stdout.split('\n').find((row) => row.startsWith(`${ref} `));
      expect(line, images.stdout).toContain(fixture.refs[ref]);
    }
    // containerd names the source registry in ?ns=, as the spec's proxying section describes.
    const paths = server.requests().slice(before).map((line) => String(line.path));
    expect(paths).toContain('/v2/library/big/manifests/2?ns=docker.io');
    expect(paths.some((path) => path.startsWith('/v2/shop/multi/blobs/') && path.endsWith('?ns=registry.example.internal'))).toBe(true);
  });
});

describe('CRI-O and podman: a registries.conf drop-in', () => {
  it('makes containers/image (skopeo) copy the images by their original names from the mirror', async () => {
    const config = await printConfig('crio');
    expect(config.files.map((file) => file.path)).toEqual(['/etc/containers/registries.conf.d/50-airlock.conf']);
    const conf = join(fixture.fixture.dir, 'registries.conf');
    await writeFile(conf, config.files[0]!.content);
    for (const ref of [`${SHOP}/app2:1.0`, 'docker.io/library/big:2']) {
      const out = join(fixture.fixture.dir, `crio-${ref.split('/').at(-1)!.replace(':', '-')}`);
      const copy = await execa('skopeo', ['--registries-conf', conf, 'copy', `docker://${ref}`, `oci:${out}:x`], { reject: false });
      expect(copy.exitCode, copy.stderr).toBe(0);
      const raw = await execa('skopeo', ['--registries-conf', conf, 'inspect', '--raw', `docker://${ref.replace(/:[^:/]+$/, '')}@${fixture.refs[ref]}`], { reject: false });
      expect(raw.exitCode, raw.stderr).toBe(0);
    }
    // Without the drop-in the same names go nowhere: the mirror is what answered.
    const without = await execa('skopeo', ['inspect', '--raw', `docker://${SHOP}/app2:1.0`], { reject: false });
    expect(without.exitCode).not.toBe(0);
  });
});

describe('Docker: daemon.json', () => {
  it('mirrors Docker Hub through the server, marks it insecure for plain HTTP, and lists pulls by served name for the rest', async () => {
    const config = await printConfig('docker');
    expect(config.files.map((file) => file.path)).toEqual(['/etc/docker/daemon.json']);
    expect(JSON.parse(config.files[0]!.content)).toEqual({ 'registry-mirrors': [server.url], 'insecure-registries': [server.host] });
    const pulls = config.notes.flatMap((note) => [...note.matchAll(/docker pull (\S+)/g)].map((match) => match[1]!));
    expect(pulls.sort()).toEqual([`${server.host}/shop/app1:1.0`, `${server.host}/shop/app1:latest`, `${server.host}/shop/app1:stable`, `${server.host}/shop/app2:1.0`, `${server.host}/shop/multi:1.0`].sort());
    for (const name of pulls) expect(await registryDigest(name)).toBe(fixture.refs[`${SHOP}/${name.slice(server.host.length + 1).replace(/^shop\//, '')}`]);
  });
});

it('prints the hand-offs in the start-up banner too (text)', async () => {
  const result = await runCli(['serve', fixture.bundle, '--trust', fixture.fixture.trust, '--listen', server.host, '--print-config', 'crio']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('# /etc/containers/registries.conf.d/50-airlock.conf');
  expect(result.stdout).toContain(`location = "${server.host}"`);
  expect((server.listening.runtimes as PrintedConfig[]).map((config) => config.runtime)).toEqual(['containerd', 'crio', 'docker']);
});
