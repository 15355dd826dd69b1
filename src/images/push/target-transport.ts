/** The one way to talk to a site's registry target: its credentials (else Docker's config.json), retries and waits told to the operator. */
import type { Output } from '../../ui/output.js';
import { CredentialStore } from '../registry/credentials.js';
import { parseRegistryHost } from '../../oci/reference.js';
import { RegistryTransport } from '../registry/transport.js';
import type { ImageTarget } from './types.js';

export async function targetTransport(target: Extract<ImageTarget, { kind: 'registry' }>, output: Output): Promise<RegistryTransport> {
  const registry = parseRegistryHost(target.registry);
  const credentials = target.credentials ?? (await new CredentialStore().get(registry));
  return new RegistryTransport(registry, {
    insecure: target.insecure === true,
    ...(credentials ? { credentials } : {}),
    onRetry: (message) => output.debug(message),
    onWait: (line) => output.warn(line),
  });
}
