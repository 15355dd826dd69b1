/** One transport per registry (and scheme) for a run, so tokens and keep-alive connections are shared. */
import type { Output } from '../../ui/output.js';
import type { CredentialStore } from './credentials.js';
import { RegistryTransport } from './transport.js';

export class RegistryConnections {
  private readonly open = new Map<string, Promise<RegistryTransport>>();

  constructor(
    private readonly credentials: CredentialStore,
    private readonly output: Output,
  ) {}

  get(registry: string, insecure: boolean): Promise<RegistryTransport> {
    const key = `${insecure ? 'http' : 'https'}://${registry}`;
    let transport = this.open.get(key);
    if (!transport) {
      transport = this.credentials.get(registry).then(
        (credentials) =>
          new RegistryTransport(registry, {
            insecure,
            ...(credentials ? { credentials } : {}),
            onRetry: (message) => this.output.debug(message),
            onWait: (line) => this.output.warn(line),
          }),
      );
      this.open.set(key, transport);
    }
    return transport;
  }

  async close(): Promise<void> {
    for (const transport of this.open.values()) (await transport.catch(() => undefined))?.close();
    this.open.clear();
  }
}
