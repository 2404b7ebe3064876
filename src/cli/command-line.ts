/**
 * The command line: which command, with which options, or help. Pure (no
 * I/O): it returns what to do, or throws a UsageError whose message is the
 * one line to print before exit 2. Options are parsed by node:util parseArgs,
 * strictly: an unknown option, a missing value or an unexpected argument is
 * a usage error naming it.
 */
import { parseArgs } from 'node:util';
import { checkDefinition } from './check.js';
import { programName, type OptionValues } from './command-definition.js';
import { deadLettersHelp, deadLettersListDefinition, deadLettersReplayDefinition } from './dead-letters.js';
import { historyDefinition } from './history.js';
import { silencesDefinition } from './silences.js';
import { statusDefinition } from './status.js';
import { cell } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/**
 * Every command, by the name typed. `silences` lists the silences of the monitor configuration file;
 * none writes one: the file is their source of truth.
 */
export const commandDefinitions = [
  statusDefinition,
  checkDefinition,
  historyDefinition,
  silencesDefinition,
  deadLettersListDefinition,
  deadLettersReplayDefinition,
] as const;

export type CommandName = (typeof commandDefinitions)[number]['name'];

export type CommandLine =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly command: CommandName; readonly values: OptionValues; readonly positionals: readonly string[] };

export const mainHelp = `Usage: ${programName} <command> [options]

The on-call tool of ampersand-health-monitor. It reads the same configuration as the service:
the environment, a .env file in the working directory (the environment wins), and the monitor
configuration file MONITOR_CONFIG names, if any.

Commands:
${commandDefinitions.map((c) => `  ${c.name.padEnd(22)}${c.summary}`).join('\n')}

Options:
  -h, --help   this help; ${programName} <command> --help for a command's
  --version    the version

Exit codes: 0 done (check: nothing needs attention); 1 check: an installation needs attention,
or what was asked for does not exist; 2 bad usage or configuration; 3 Redis or the Ampersand API
could not be read; 4 an unexpected error. Each command's help says which it uses.
`;

const isHelp = (arg: string): boolean => arg === '--help' || arg === '-h';

/** An argument as a usage line may quote it: one line, no escape sequence, not too long. */
const shown = (arg: string): string => JSON.stringify(cell(arg, 60));

/** node:util's message, first sentence, as part of our line ("Unknown option '--x'" → "unknown option '--x'"). */
function parseArgsProblem(error: Error): string {
  const first = cell(error.message, 200).split('. ', 1)[0] ?? '';
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function parseCommand(definition: (typeof commandDefinitions)[number], args: readonly string[]): CommandLine {
  const untilSeparator = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (untilSeparator.some(isHelp)) return { kind: 'help', text: definition.help };
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: definition.options, strict: true, allowPositionals: definition.positionals });
    return { kind: 'run', command: definition.name, values, positionals };
  } catch (error) {
    if (!(error instanceof Error) || !('code' in error) || !String(error.code).startsWith('ERR_PARSE_ARGS_')) throw error;
    throw new UsageError(`${programName} ${definition.name}: ${parseArgsProblem(error)}; see ${programName} ${definition.name} --help`);
  }
}

/** What `argv` (the arguments after the program) asks for. Throws a UsageError for a bad command line. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, ...rest] = argv;
  const seeHelp = `see ${programName} --help`;
  if (first === undefined) throw new UsageError(`${programName}: no command given; ${seeHelp}`);
  if (isHelp(first)) return { kind: 'help', text: mainHelp };
  if (first === '--version') return { kind: 'version' };
  if (first.startsWith('-')) throw new UsageError(`${programName}: unknown option ${shown(first)}; ${seeHelp}`);
  if (first === 'dead-letters') {
    const [sub, ...subArgs] = rest;
    if (sub === undefined) throw new UsageError(`${programName} dead-letters: no command given (list or replay); see ${programName} dead-letters --help`);
    if (isHelp(sub)) return { kind: 'help', text: deadLettersHelp };
    const definition = commandDefinitions.find((c) => c.name === `dead-letters ${sub}`);
    if (definition === undefined)
      throw new UsageError(`${programName} dead-letters: unknown command ${shown(sub)} (list or replay); see ${programName} dead-letters --help`);
    return parseCommand(definition, subArgs);
  }
  const definition = commandDefinitions.find((c) => c.name === first);
  if (definition === undefined) throw new UsageError(`${programName}: unknown command ${shown(first)}; ${seeHelp}`);
  return parseCommand(definition, rest);
}
