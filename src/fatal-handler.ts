/**
 * What the process does with an error nobody caught: one `fatal:` line on stderr,
 * with every secret of the environment cut out, then exit code 1. The same handler
 * serves a failed start-up, an `uncaughtException` and an `unhandledRejection`, so
 * no library message (a header value, an echoed URL) reaches stderr unscrubbed.
 */
import { scrubSecrets } from './scrub-secrets.js';

export interface FatalHandlerDeps {
  /** Writes one line; stderr in production. */
  readonly write: (line: string) => void;
  readonly exit: (code: number) => void;
  /** Read when an error arrives, so that values loaded from .env after installation count too. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Longest fatal line, before the "fatal:" prefix; a library message can be any length. */
const MAX_FATAL_CHARS = 2000;

/**
 * A handler that writes `fatal: [<origin>: ]<message>` as one scrubbed line and exits 1.
 * The message alone, not the stack: a stack repeats it, and one line is what log collectors keep together.
 */
export function createFatalHandler(deps: FatalHandlerDeps): (error: unknown, origin?: string) => void {
  return (error, origin) => {
    const message = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
    const line = scrubSecrets(`${origin === undefined ? '' : `${origin}: `}${message}`.replace(/\s*[\r\n]+\s*/g, ' '), deps.env, MAX_FATAL_CHARS);
    deps.write(`fatal: ${line}\n`);
    deps.exit(1);
  };
}

/** Routes uncaught exceptions and unhandled rejections of `proc` to `fatal` (Node 20 would crash on either anyway, unscrubbed). */
export function installFatalHandlers(proc: NodeJS.Process, fatal: (error: unknown, origin?: string) => void): void {
  proc.on('uncaughtException', (error) => fatal(error, 'uncaughtException'));
  proc.on('unhandledRejection', (reason) => fatal(reason, 'unhandledRejection'));
}
