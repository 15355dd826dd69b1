/**
 * Problems found in a release manifest after its schema passed (cross-field rules, and
 * what the files on disk say). Reported like schema problems: one line per problem,
 * `<file>: <yaml.path>: <what is wrong>`, all of them in one MANIFEST_INVALID error.
 */
import { AirlockError } from '../base/errors.js';
import { formatIssuePath } from '../base/validate.js';

export interface ManifestProblem {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

export function manifestInvalid(file: string, problems: readonly ManifestProblem[]): AirlockError {
  const lines = problems.map((problem) => `${file}: ${formatIssuePath(problem.path)}: ${problem.message}`);
  return new AirlockError('MANIFEST_INVALID', lines.join('\n'));
}
