/**
 * `airlock serve <bundle | media> --trust <dir>` or `airlock serve --site site.yaml`: a read-only
 * OCI registry for the runtimes of an isolated network, straight from a verified bundle, the
 * release media or the site's OCI layout store. Runs until SIGTERM or SIGINT; requests in flight
 * finish first. `--print-config <runtime>` prints that runtime's mirror configuration and exits.
 */
import { AirlockError } from '../base/errors.js';
import { advertisedAddress, parseListen, type ListenAddress } from '../serve/address.js';
import { serveLog, type ServeLog } from '../serve/access-log.js';
import { buildCatalog, type Catalog, type ServedImage } from '../serve/catalog.js';
import { openSiteStore, openVerifiedBundle, type ServedSource } from '../serve/open-source.js';
import { RUNTIMES, runtimeConfig, type HandOff, type Runtime, type RuntimeConfig } from '../serve/runtime-config.js';
import { startServer } from '../serve/server.js';
import { loadTlsIdentity, type TlsIdentity } from '../serve/tls.js';
import type { Output } from '../ui/output.js';

export interface ServeOptions {
  trust?: string;
  site?: string;
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  passphraseFile?: string;
  printConfig?: string;
  json?: boolean;
}

function checkOptions(source: string | undefined, options: ServeOptions): Runtime | undefined {
  if ((source === undefined) === (options.site === undefined)) throw new AirlockError('USAGE', 'serve a bundle or release media (airlock serve <bundle> --trust <dir>), or a site\'s image store (--site site.yaml): one of the two');
  if (source !== undefined && options.trust === undefined) throw new AirlockError('USAGE', `${source}: --trust <dir> is needed to verify it before it is served`);
  if (options.site !== undefined && options.trust !== undefined) throw new AirlockError('USAGE', '--trust is for a bundle; a site\'s image store is trusted as the site\'s own (its trust store verified every install)');
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new AirlockError('USAGE', '--tls-cert and --tls-key go together');
  if (options.printConfig !== undefined && !(RUNTIMES as readonly string[]).includes(options.printConfig)) {
    throw new AirlockError('USAGE', `--print-config ${options.printConfig}: expected ${RUNTIMES.join(', ')}`);
  }
  return options.printConfig as Runtime | undefined;
}

export async function serveCommand(output: Output, source: string | undefined, options: ServeOptions): Promise<void> {
  const runtime = checkOptions(source, options);
  const listen = parseListen(options.listen);
  const now = new Date();
  const tls = options.tlsCert === undefined ? undefined : await loadTlsIdentity({ cert: options.tlsCert, key: options.tlsKey!, ...(options.passphraseFile === undefined ? {} : { passphraseFile: options.passphraseFile }) }, now);
  const opened = source === undefined ? await openSiteStore(options.site!) : await openVerifiedBundle(source, options.trust!, now);
  const log = serveLog(options.json === true, process.stdout, process.stderr);
  try {
    const catalog = await buildCatalog(opened.content, advertisedAddress(listen, tls?.names));
    for (const reason of catalog.skipped) log.warn(`not served: ${reason}`);
    if (catalog.images.length === 0) throw new AirlockError('IMAGE_NOT_FOUND', `${opened.content.name}: holds no image that can be served`);
    if (runtime !== undefined) {
      printConfig(output, runtimeConfig(runtime, handOff(listen, tls, catalog.images)));
      return;
    }
    await run(catalog, opened, listen, tls, log);
  } finally {
    await opened.content.close();
  }
}

function handOff(listen: ListenAddress, tls: TlsIdentity | undefined, images: readonly ServedImage[]): HandOff {
  return { address: advertisedAddress(listen, tls?.names), tls: tls !== undefined, images };
}

function printConfig(output: Output, config: RuntimeConfig): void {
  output.result(config);
  output.say(renderConfig(config));
}

function renderConfig(config: RuntimeConfig): string {
  const files = config.files.map((file) => `# ${file.path}\n${file.content}`);
  return [`## ${config.title}`, ...files, ...config.notes.map((note) => `# ${note}`)].join('\n');
}

function servedName(address: string, image: ServedImage): string {
  return `${address}/${image.repository}${image.tag === undefined ? `@${image.digest}` : `:${image.tag}`}`;
}

async function run(catalog: Catalog, opened: ServedSource, listen: ListenAddress, tls: TlsIdentity | undefined, log: ServeLog): Promise<void> {
  const server = await startServer(catalog, opened.content, { host: listen.host, port: listen.port, ...(tls ? { tls } : {}) }, log);
  const bound = { host: listen.host, port: server.port };
  const address = advertisedAddress(bound, tls?.names);
  const url = `${tls ? 'https' : 'http'}://${address}`;
  const configs = RUNTIMES.map((runtime) => runtimeConfig(runtime, handOff(bound, tls, catalog.images)));
  const width = Math.max(...catalog.images.map((image) => image.ref.length));
  log.event(
    'listening',
    [
      `airlock serve: ${opened.summary}`,
      `Serving ${catalog.images.length} image(s) read-only at ${url}:`,
      ...catalog.images.map((image) => `  ${image.ref.padEnd(width)}  ->  ${servedName(address, image)}  ${image.digest}`),
      '',
      'Hand-off to the runtimes (airlock serve ... --print-config containerd|crio|docker prints one):',
      ...configs.map(renderConfig),
      '',
      'Access log: time client method path status bytes ms',
    ].join('\n'),
    { url, listen: `${server.host}:${server.port}`, ...opened.fields, images: catalog.images.map((image) => ({ ...image, served: servedName(address, image) })), runtimes: configs },
  );
  const onSignal = (signal: NodeJS.Signals): void => {
    log.event('stopping', `${signal}: stopping; ${server.inFlight()} request(s) in flight finish first (${signal} again stops at once)`, { signal, inFlight: server.inFlight() });
    server.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await server.closed;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  log.event('stopped', 'airlock serve: stopped', {});
}
