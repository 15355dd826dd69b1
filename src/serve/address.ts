/**
 * `--listen host:port` (IPv6 as `[addr]:port`), and the address the runtimes are told to use:
 * the listen host itself, or, for a wildcard (0.0.0.0, ::), a name the TLS certificate holds or
 * else this machine's host name, since "0.0.0.0" is no address to connect to.
 */
import { hostname } from 'node:os';
import { AirlockError } from '../base/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:5000';

export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new AirlockError('USAGE', `--listen ${text}: expected host:port (e.g. ${DEFAULT_LISTEN}, 0.0.0.0:5000, [::1]:5000)`);
  return { host: match[1] ?? match[2]!, port };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** host:port for clients. */
export function advertisedAddress(listen: ListenAddress, tlsNames: readonly string[] | undefined): string {
  const host = WILDCARDS.has(listen.host) ? (tlsNames?.[0] ?? hostname()) : listen.host;
  return `${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}
