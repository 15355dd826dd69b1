#!/usr/bin/env node
// `node scripts/demo-images.mjs <dir>`: the demo's container images, made here without a registry,
// Docker or network: an OCI image layout (oci-layout, index.json, blobs/sha256/) holding
//   web:1.0.0, api:1.0.0, worker:1.0.0   three images sharing one base layer
//   web:1.1.0                            web with its application layer changed
// Layers are deterministic tars (sorted names, uid/gid 0, mtime 0) of incompressible but
// reproducible bytes, gzipped: the same run always gives the same digests. Prints one line per tag.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/demo-images.mjs <layout dir>');
  process.exit(2);
}
const KiB = 1024;
const blobs = new Map();

const sha256 = (data) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Bytes from a SHA-256 counter stream: they do not compress, so sizes stay what they say. */
function noise(seed, size) {
  const out = Buffer.alloc(size);
  for (let offset = 0, block = 0; offset < size; block++) offset += createHash('sha256').update(`${seed}:${block}`).digest().copy(out, offset);
  return out;
}

function tarOf(files) {
  const parts = [];
  for (const path of Object.keys(files).sort()) {
    const data = Buffer.from(files[path]);
    const header = Buffer.alloc(512);
    new Header({ path, type: 'File', size: data.length, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), uname: '', gname: '' }).encode(header, 0);
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function blob(data, mediaType) {
  const digest = sha256(data);
  blobs.set(digest, data);
  return { mediaType, digest, size: data.length };
}

function layer(files) {
  const tar = tarOf(files);
  return { diffId: sha256(tar), descriptor: blob(gzipSync(tar, { level: 6 }), 'application/vnd.oci.image.layer.v1.tar+gzip') };
}

function image(name, layers) {
  const config = blob(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: [`/srv/${name}/run`] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } })),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: layers.map((l) => l.descriptor) };
  return blob(Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
}

const base = layer({ 'etc/os-release': 'NAME="airlock demo base"\n', 'usr/lib/libdemo.so': noise('demo-base', 2048 * KiB) });
const app = (name, version, size) => layer({ [`srv/${name}/VERSION`]: `${version}\n`, [`srv/${name}/run`]: noise(`demo-${name}-${version}`, size) });
const tags = {
  'web:1.0.0': image('web', [base, app('web', '1.0.0', 256 * KiB)]),
  'api:1.0.0': image('api', [base, app('api', '1.0.0', 384 * KiB)]),
  'worker:1.0.0': image('worker', [base, app('worker', '1.0.0', 192 * KiB)]),
  'web:1.1.0': image('web', [base, app('web', '1.1.0', 256 * KiB)]),
};

mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
for (const [digest, data] of blobs) writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
const manifests = Object.entries(tags).map(([tag, descriptor]) => ({ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } }));
writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
for (const [tag, descriptor] of Object.entries(tags)) {
  const { layers } = JSON.parse(blobs.get(descriptor.digest).toString());
  const bytes = layers.reduce((sum, l) => sum + l.size, 0);
  console.log(`  ${tag.padEnd(13)} ${descriptor.digest.slice(0, 19)}…  ${layers.length} layers, ${(bytes / KiB).toFixed(0)} KiB`);
}
