/**
 * How many connections airlock opens to one registry at once, and so how many exchanges with it
 * are in flight: enough to hide round trips when images are many and small, few enough not to
 * swamp a small registry or the proxy in front of it. AIRLOCK_REGISTRY_CONNECTIONS changes it for
 * a run (docs/IMAGES.md#connections).
 */
import { AirlockError } from '../../base/errors.js';

export const DEFAULT_CONNECTIONS = 8;
export const CONNECTIONS_VARIABLE = 'AIRLOCK_REGISTRY_CONNECTIONS';
const MAX_CONNECTIONS = 64;

export function registryConnections(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[CONNECTIONS_VARIABLE]?.trim();
  if (text === undefined || text === '') return DEFAULT_CONNECTIONS;
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > MAX_CONNECTIONS) {
    throw new AirlockError('USAGE', `${CONNECTIONS_VARIABLE}: ${JSON.stringify(text)} is not a whole number from 1 to ${MAX_CONNECTIONS}`);
  }
  return count;
}
