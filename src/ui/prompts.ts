/**
 * The installer's questions to the operator: on stderr, so they never mix into --json on
 * stdout; Ctrl-C at a question is ABORTED, like answering no. Only asked at a terminal.
 */
import { AirlockError } from '../base/errors.js';

async function asked<T>(what: string, question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new AirlockError('ABORTED', `${what}: cancelled at the prompt`);
    throw error;
  }
}

export async function askText(message: string, secret: boolean): Promise<string> {
  const { input, password } = await import('@inquirer/prompts');
  const context = { output: process.stderr };
  return asked(message, () => (secret ? password({ message, mask: '*' }, context) : input({ message }, context)));
}

export async function askConfirm(message: string): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  return asked(message, () => confirm({ message, default: false }, { output: process.stderr }));
}
