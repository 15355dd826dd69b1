/** Checks that must refuse: the AirlockError they threw, for further assertions. */
import { expect } from 'vitest';
import { AirlockError, isAirlockError, type ErrorCode } from '../../src/base/errors.js';

export function thrown(run: () => unknown): AirlockError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AirlockError);
    return error as AirlockError;
  }
  throw new Error('expected an AirlockError');
}

/** Refuses with `code`; returns the message. */
export function fails(code: ErrorCode, run: () => unknown): string {
  const error = thrown(run);
  expect(isAirlockError(error, code), String(error)).toBe(true);
  return error.message;
}

/** The AirlockError a promise rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<AirlockError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AirlockError);
  return error as AirlockError;
}
