/** Durations as a release manifest writes them: a whole number and one unit, `60s`, `5m`, `12h`, `90d`, `2w`. */
import { z } from 'zod';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

const DURATION_PATTERN = /^([1-9]\d{0,6})([smhdw])$/;

export function durationSeconds(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

/** A duration field, parsed to seconds; `defaultText` is what an absent field means. */
export function durationSchema(defaultText: string) {
  return z
    .string()
    .default(defaultText)
    .transform((value, ctx) => {
      const seconds = durationSeconds(value);
      if (seconds !== undefined) return seconds;
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 60s, 5m or 1h: ${value}` });
      return z.NEVER;
    });
}
