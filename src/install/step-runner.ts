/**
 * The journaled loop shared by install and rollback: skip what the journal says is done,
 * record `start` before and `done` after each step, and record a failure before anyone
 * reacts to it.
 */
import { AirlockError } from '../base/errors.js';
import { pathFault } from '../fs/file-fault.js';
import type { Failure, Journal } from './journal.js';
import { stepId, type Step } from './steps.js';

function asAirlockError(error: unknown): AirlockError {
  if (error instanceof AirlockError) return error;
  const fault = pathFault(error);
  if (fault !== undefined) return fault;
  return new AirlockError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/** Runs the steps not yet done, in order; returns the failure that stopped them, if one did. */
export async function runSteps(
  journal: Journal,
  steps: readonly Step[],
  done: Set<string>,
  execute: (step: Step) => Promise<void>,
  onDone: (step: Step) => void,
): Promise<Failure | undefined> {
  for (const step of steps) {
    const id = stepId(step);
    if (done.has(id)) continue;
    journal.append({ event: 'start', step: id });
    try {
      await execute(step);
    } catch (error) {
      const { code, message } = asAirlockError(error);
      journal.append({ event: 'failed', step: id, code, message });
      return { event: 'failed', at: new Date().toISOString(), step: id, code, message };
    }
    journal.append({ event: 'done', step: id });
    done.add(id);
    onDone(step);
  }
  return undefined;
}
