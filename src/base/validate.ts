/**
 * Data a user wrote, or JSON read from a bundle, media, registry or site state, checked with
 * zod. Every problem is reported on its own line as `<file>: <path>: <what is wrong>`, never
 * as a stack trace.
 */
import type { z } from 'zod';
import { AirlockError, type ErrorCode } from './errors.js';

export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // zod words a missing key as "expected string, received undefined"; "required" is what a person looks for.
  if (issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined) return 'required';
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  return issue.message;
}

export function formatIssues(file: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => `${file}: ${formatIssuePath(issue.path)}: ${describeIssue(issue)}`);
}

/** Validates already-parsed data; throws one AirlockError whose message lists each problem on its own line. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, file: string, code: ErrorCode): z.infer<S> {
  // reportInput lets describeIssue tell a missing key from a value of the wrong type.
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const lines = formatIssues(file, result.error);
  throw new AirlockError(code, lines.join('\n'));
}

/** JSON text checked against a schema: not JSON, or not the shape, is one `code` error naming `file`. */
export function parseJson<S extends z.ZodType>(schema: S, text: string | Buffer, file: string, code: ErrorCode): z.infer<S> {
  let data: unknown;
  try {
    data = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch {
    throw new AirlockError(code, `${file}: not valid JSON`);
  }
  return validate(schema, data, file, code);
}
