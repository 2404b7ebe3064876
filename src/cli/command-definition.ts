/**
 * What each command declares for the command line (its name, options and
 * help) and what it gets to print with. The parser (command-line.ts) reads
 * the declarations; main.ts wires the commands.
 */
import type { ParseArgsConfig } from 'node:util';

/** The name of the `bin` entry, as the help and every usage line say it. */
export const programName = 'ampersand-health-monitor';

export interface CommandDefinition<Name extends string = string> {
  /** As typed: `status`, `dead-letters replay`. */
  readonly name: Name;
  /** One line for the list of commands in the main help. */
  readonly summary: string;
  /** The whole `--help` text of the command. */
  readonly help: string;
  /** node:util parseArgs options (parsed strictly); `help` is handled before them. */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Whether the command takes arguments after its options (ids). */
  readonly positionals: boolean;
}

/** Where a command prints: stdout for what it reports, stderr for why it could not. Each call is one or more whole lines. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The values of a command's options as parsed, by option name. */
export type OptionValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
