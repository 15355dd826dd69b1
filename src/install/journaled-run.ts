/**
 * What install and rollback share: a run is a list of typed steps carried out under the journal.
 * Steps the journal says are done are skipped; each other step is recorded as started before it
 * runs and done after; a failure is recorded before anyone reacts to it, so a reaction killed
 * half-way is finished by the next run; and the end record goes in before the journal is moved
 * into the run's own directory, so a run killed in between is known to have ended.
 */
import { renameSync } from 'node:fs';
import { AirlockError } from '../base/errors.js';
import { ensureDir } from '../fs/durable.js';
import { pathFault } from '../fs/file-fault.js';
import { fsyncPathSync } from '../fs/fsync-path.js';
import type { Failure, Journal, Outcome } from './journal.js';
import { statePaths } from './state.js';

/** One verb's steps: how each is named in the journal, carried out, and reported when done. */
export interface Verb<Step> {
  stepId(step: Step): string;
  execute(step: Step): Promise<void>;
  /** The progress line once a step is done. */
  describe(step: Step): string;
}

function asAirlockError(error: unknown): AirlockError {
  if (error instanceof AirlockError) return error;
  // A filesystem fault (a full disk, no permission) names its file and gets its own code.
  const fault = pathFault(error);
  if (fault !== undefined) return fault;
  return new AirlockError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/** Runs the steps not yet done, in order; returns the failure that stopped them (already journaled), if one did. */
export async function runSteps<Step>(
  journal: Journal,
  steps: readonly Step[],
  done: Set<string>,
  verb: Verb<Step>,
  say: (line: string) => void,
): Promise<Failure | undefined> {
  for (const step of steps) {
    const id = verb.stepId(step);
    if (done.has(id)) continue;
    journal.append({ event: 'start', step: id });
    try {
      await verb.execute(step);
    } catch (error) {
      const { code, message } = asAirlockError(error);
      const failure = { event: 'failed', step: id, code, message } as const;
      journal.append(failure);
      return { ...failure, at: new Date().toISOString() };
    }
    journal.append({ event: 'done', step: id });
    done.add(id);
    say(`  done  ${verb.describe(step)}`);
  }
  return undefined;
}

/** Writes the end record and moves the journal into the run's directory: the next run starts a fresh one. */
export async function endRun(stateDir: string, journal: Journal, runId: string, outcome: Outcome): Promise<void> {
  journal.append({ event: 'end', outcome });
  journal.close();
  await archiveJournal(stateDir, runId);
}

/** Moves an ended journal out of the way, into its run's directory. */
export async function archiveJournal(stateDir: string, runId: string): Promise<void> {
  const paths = statePaths(stateDir);
  await ensureDir(paths.install(runId), 0o700);
  renameSync(paths.journal, paths.runJournal(runId));
  fsyncPathSync(stateDir);
}
