/**
 * The hand-off to the container runtimes (pure): the mirror configuration that points each one
 * at this server for the registries the served images come from, so that nodes pull the images
 * by their usual names (`registry.example/shop/app:1.0`) and the requests land here.
 *   containerd: one hosts.toml per registry under /etc/containerd/certs.d (config_path), with this
 *     server as the `server` and its only host, so the unreachable upstream is never tried;
 *   CRI-O and podman: a registries.conf.d drop-in with this server as each registry's mirror;
 *   Docker: daemon.json `registry-mirrors`, which Docker applies to Docker Hub images only.
 */
import type { ServedImage } from './catalog.js';
import { parseReference } from '../oci/reference.js';

export const RUNTIMES = ['containerd', 'crio', 'docker'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export interface HandOff {
  /** host:port clients connect to. */
  address: string;
  tls: boolean;
  images: readonly ServedImage[];
}

export interface RuntimeConfig {
  runtime: Runtime;
  title: string;
  files: Array<{ path: string; content: string }>;
  /** What the operator must do besides writing the files. */
  notes: string[];
}

const DOCKER_HUB = 'docker.io';

/** Registries the served images were named after, sorted. */
export function sourceRegistries(images: readonly ServedImage[]): string[] {
  return [...new Set(images.map((image) => parseReference(image.ref).registry))].sort();
}

function urlOf(handOff: HandOff): string {
  return `${handOff.tls ? 'https' : 'http'}://${handOff.address}`;
}

const quote = (text: string) => JSON.stringify(text);

function containerd(handOff: HandOff): RuntimeConfig {
  const url = urlOf(handOff);
  const files = sourceRegistries(handOff.images).map((registry) => ({
    path: `/etc/containerd/certs.d/${registry}/hosts.toml`,
    content: [
      `# airlock serve: pull ${registry} images from the read-only registry at ${url}`,
      // As the server too, so the unreachable upstream is never tried; containerd 1.6 also needs the [host] table.
      `server = ${quote(url)}`,
      '',
      `[host.${quote(url)}]`,
      '  capabilities = ["pull", "resolve"]',
      ...(handOff.tls ? ['  ca = "airlock-ca.crt"'] : []),
      '',
    ].join('\n'),
  }));
  return {
    runtime: 'containerd',
    title: 'containerd (hosts.toml per registry)',
    files,
    notes: [
      'containerd reads these when config.toml points its registry config_path at /etc/containerd/certs.d (CRI plugin); ctr takes --hosts-dir /etc/containerd/certs.d. No restart is needed.',
      ...(handOff.tls ? ['Copy the CA certificate that issued the server certificate beside each hosts.toml as airlock-ca.crt.'] : []),
    ],
  };
}

function crio(handOff: HandOff): RuntimeConfig {
  const registries = sourceRegistries(handOff.images);
  const lines = [`# airlock serve: pull these registries' images from the read-only registry at ${urlOf(handOff)}`];
  for (const registry of registries) {
    lines.push('', '[[registry]]', `prefix = ${quote(registry)}`, `location = ${quote(registry)}`, '', '[[registry.mirror]]', `location = ${quote(handOff.address)}`);
    if (!handOff.tls) lines.push('insecure = true');
  }
  return {
    runtime: 'crio',
    title: 'CRI-O and podman (registries.conf drop-in)',
    files: [{ path: '/etc/containers/registries.conf.d/50-airlock.conf', content: `${lines.join('\n')}\n` }],
    notes: [
      'CRI-O reads it on restart (or SIGHUP); podman and skopeo on their next run.',
      ...(handOff.tls ? [`Put the CA certificate that issued the server certificate at /etc/containers/certs.d/${handOff.address}/ca.crt.`] : []),
    ],
  };
}

function docker(handOff: HandOff): RuntimeConfig {
  const hub = handOff.images.filter((image) => parseReference(image.ref).registry === DOCKER_HUB);
  const others = handOff.images.filter((image) => parseReference(image.ref).registry !== DOCKER_HUB && image.tag !== undefined && !image.attached);
  const config: Record<string, string[]> = {};
  if (hub.length > 0) config['registry-mirrors'] = [urlOf(handOff)];
  if (!handOff.tls) config['insecure-registries'] = [handOff.address];
  return {
    runtime: 'docker',
    title: 'Docker (daemon.json)',
    files: [{ path: '/etc/docker/daemon.json', content: `${JSON.stringify(config, null, 2)}\n` }],
    notes: [
      'Merge these keys into an existing daemon.json, then restart dockerd.',
      ...(handOff.tls ? [`Put the CA certificate that issued the server certificate at /etc/docker/certs.d/${handOff.address}/ca.crt.`] : []),
      ...(others.length > 0
        ? [
            'Docker mirrors Docker Hub only: pull the other images by their name here, and tag them if the workload expects the original name:',
            ...others.map((image) => {
              const served = `${handOff.address}/${image.repository}:${image.tag}`;
              return `  docker pull ${served} && docker tag ${served} ${parseReference(image.ref).registry}/${image.repository}:${image.tag}`;
            }),
          ]
        : []),
    ],
  };
}

export function runtimeConfig(runtime: Runtime, handOff: HandOff): RuntimeConfig {
  return { containerd, crio, docker }[runtime](handOff);
}
