/**
 * Where commands speak. Human text goes to stdout, diagnostics to stderr;
 * with --json a command prints exactly one JSON document on stdout.
 */
export interface Output {
  readonly json: boolean;
  readonly verbose: boolean;
  /** A line for people (suppressed under --json). */
  say(line: string): void;
  /** A diagnostic for people, on stderr (shown under --json too). */
  warn(line: string): void;
  /** Detail shown only with --verbose, on stderr. */
  debug(line: string): void;
  /** The single machine-readable result under --json. */
  result(value: unknown): void;
}

export function consoleOutput(options: { json?: boolean; verbose?: boolean }): Output {
  const json = options.json === true;
  const verbose = options.verbose === true;
  return {
    json,
    verbose,
    say: (line) => {
      if (!json) process.stdout.write(`${line}\n`);
    },
    warn: (line) => process.stderr.write(`${line}\n`),
    debug: (line) => {
      if (verbose) process.stderr.write(`${line}\n`);
    },
    result: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}
