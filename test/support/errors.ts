/** Runs a synchronous check that must refuse with `code`; returns the message for further assertions. */
import { expect } from 'vitest';
import { isAirlockError, type AirlockError, type ErrorCode } from '../../src/errors.js';

export function fails(code: ErrorCode, run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(isAirlockError(error, code), String(error)).toBe(true);
    return (error as AirlockError).message;
  }
  throw new Error(`expected ${code}`);
}
