/**
 * Image references as Docker and the distribution project read them: `[domain/]path[:tag][@digest]`.
 * The first component is a registry only if it looks like a host (has a '.' or ':', or is
 * `localhost`); otherwise the image lives on Docker Hub, where one-component names get `library/`.
 */
import { AirlockError } from '../base/errors.js';
import { isDigest } from './digest.js';

export interface ImageReference {
  /** Registry host as users write it (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path inside the registry (`library/nginx`). */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

const DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME = 255;

function invalid(input: string, why: string): AirlockError {
  return new AirlockError('MANIFEST_INVALID', `image reference ${JSON.stringify(input)}: ${why}`);
}

export function normalizeRegistry(host: string): string {
  return DOCKER_HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host;
}

function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

export function parseReference(input: string): ImageReference {
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(input, 'digest must be sha256:<64 lowercase hex>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `tag ${JSON.stringify(tag)} is not valid`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && looksLikeHost(parts[0]!)) {
    registry = normalizeRegistry(parts.shift()!);
    if (!DOMAIN.test(registry)) throw invalid(input, `registry ${JSON.stringify(registry)} is not a host[:port]`);
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      throw invalid(input, `repository component ${JSON.stringify(part)} must be lowercase letters, digits and . _ - separators`);
    }
  }
  const repository = parts.join('/');
  if (repository.length > MAX_NAME) throw invalid(input, `repository name is longer than ${MAX_NAME} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** Docker Hub's API is served from another host than the name people use. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/** Checks a registry given on its own (e.g. `--registry host:port`). */
export function parseRegistryHost(input: string): string {
  if (!DOMAIN.test(input)) throw new AirlockError('USAGE', `registry ${JSON.stringify(input)}: expected host[:port] without scheme or path`);
  return normalizeRegistry(input);
}
