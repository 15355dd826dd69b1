/** One thing a check found wrong, with the stable code it would fail with; checks collect these so a report can name every problem at once. */
import type { ErrorCode } from './errors.js';

export interface Problem {
  code: ErrorCode;
  message: string;
  /** The bundle file at fault, where there is one. */
  path?: string;
}
