import { describe, expect, it } from 'vitest';
import { mapReference } from '../../src/images/push/repository-map.js';
import { apiHost, formatReference, parseReference, parseRegistryHost } from '../../src/oci/reference.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['library/nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['docker.io/nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['index.docker.io/bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['ghcr.io/acme/api:2.1.0', 'ghcr.io/acme/api:2.1.0'],
    ['localhost/app:1', 'localhost/app:1'],
    ['127.0.0.1:5000/shop/app:1.0', '127.0.0.1:5000/shop/app:1.0'],
    ['registry.example.com:443/a/b/c', 'registry.example.com:443/a/b/c:latest'],
    [`nginx@${DIGEST}`, `docker.io/library/nginx@${DIGEST}`],
    [`nginx:1.25@${DIGEST}`, `docker.io/library/nginx:1.25@${DIGEST}`],
  ])('reads %s as %s', (input, canonical) => {
    expect(formatReference(parseReference(input))).toBe(canonical);
  });

  it('tells a registry host from a first path component', () => {
    expect(parseReference('acme/api:1')).toMatchObject({ registry: 'docker.io', repository: 'acme/api' });
    expect(parseReference('acme.io/api:1')).toMatchObject({ registry: 'acme.io', repository: 'api' });
    expect(parseReference('host:5000/api')).toMatchObject({ registry: 'host:5000', repository: 'api', tag: 'latest' });
  });

  it.each([
    ['Nginx:1', 'lowercase'],
    ['nginx:bad tag', 'tag'],
    ['nginx@sha256:abc', 'digest'],
    ['nginx@md5:0123', 'digest'],
    ['a//b', 'repository component'],
    ['ex_ample.com/app', 'registry'],
  ])('refuses %s, naming the problem (%s)', (input, word) => {
    expect(() => parseReference(input)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID', message: expect.stringContaining(word) }));
  });

  it('talks to registry-1.docker.io for Docker Hub', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('accepts a bare host:port as a target registry only', () => {
    expect(parseRegistryHost('10.0.0.5:5000')).toBe('10.0.0.5:5000');
    expect(() => parseRegistryHost('https://10.0.0.5:5000')).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => parseRegistryHost('host/path')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('repository mapping into the isolated registry', () => {
  it('keeps the repository path and tag under the new host', () => {
    expect(formatReference(mapReference('docker.io/library/nginx:1.25', 'reg.local:5000'))).toBe('reg.local:5000/library/nginx:1.25');
    expect(formatReference(mapReference('nginx:1.25', 'reg.local:5000'))).toBe('reg.local:5000/library/nginx:1.25');
    expect(formatReference(mapReference('ghcr.io/acme/api:2', 'reg.local'))).toBe('reg.local/acme/api:2');
  });

  it('puts repositories under a prefix when asked', () => {
    expect(formatReference(mapReference('ghcr.io/acme/api:2', 'reg.local', { prefix: 'mirror/ghcr' }))).toBe('reg.local/mirror/ghcr/acme/api:2');
    expect(() => mapReference('nginx', 'reg.local', { prefix: 'Bad/' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('pushes a digest-only reference untagged, and a tag+digest one with its tag', () => {
    expect(mapReference(`nginx@${DIGEST}`, 'reg.local').tag).toBeUndefined();
    expect(mapReference(`nginx:1.25@${DIGEST}`, 'reg.local')).toMatchObject({ tag: '1.25' });
    expect(mapReference(`nginx:1.25@${DIGEST}`, 'reg.local').digest).toBeUndefined();
  });
});
