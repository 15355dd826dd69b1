/**
 * Time limits of network waits, overridable per run by an environment variable spelled
 * `name=seconds,name=seconds` (AIRLOCK_REGISTRY_TIMEOUTS, AIRLOCK_DATABASE_TIMEOUTS): limits not
 * named keep their defaults. Tests shorten them; an operator on a slow link may lengthen them.
 */
import { AirlockError } from './errors.js';

/** Limits in milliseconds, by name. */
export type TimeLimits<K extends string> = Record<K, number>;

export function timeLimits<K extends string>(variable: string, defaults: TimeLimits<K>, env: NodeJS.ProcessEnv = process.env): TimeLimits<K> {
  const text = env[variable]?.trim();
  const limits = { ...defaults };
  if (text === undefined || text === '') return limits;
  for (const part of text.split(',')) {
    const match = /^\s*([A-Za-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    const name = match?.[1];
    if (match === null || name === undefined || !Object.hasOwn(defaults, name) || Number(match[2]) <= 0) {
      throw new AirlockError('USAGE', `${variable}: ${JSON.stringify(part.trim())} is not <limit>=<seconds> (limits: ${Object.keys(defaults).join(', ')})`);
    }
    limits[name as K] = Math.round(Number(match[2]) * 1000);
  }
  return limits;
}

/** "30 s", "1.5 s", for messages. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
