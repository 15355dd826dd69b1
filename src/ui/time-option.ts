import { AirlockError } from '../base/errors.js';

/** An ISO 8601 time given on the command line, e.g. --at 2027-01-01T00:00:00Z. */
export function parseTimeOption(value: string, flag: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new AirlockError('USAGE', `${flag}: not an ISO time: ${value}`);
  return time;
}
