/** Reads a YAML file a user wrote (release manifest, site file, trust policy) and validates it with zod. */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { AirlockError, type ErrorCode } from './errors.js';
import { validate } from './validate.js';

export async function loadYamlFile<S extends z.ZodType>(file: string, schema: S, code: ErrorCode): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new AirlockError('INPUT_NOT_FOUND', `${file}: cannot read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const lines = document.errors.map((e) => `${file}: line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`);
    throw new AirlockError(code, lines.join('\n'));
  }
  return validate(schema, document.toJS(), file, code);
}
