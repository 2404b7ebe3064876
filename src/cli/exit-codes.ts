/**
 * The exit codes of the CLI, one meaning each across commands, so that cron,
 * CI and scripts can tell "something needs attention" from "the check could
 * not look" from "the command was called wrongly".
 */
export const exitCodes = {
  /** Done; for `check`, nothing needs attention. */
  ok: 0,
  /** `check`: an installation needs attention. `status`, `dead-letters replay`: what was asked for does not exist. */
  attention: 1,
  /** A bad argument, an unknown command, or a bad configuration (the service's own exit 2). */
  usage: 2,
  /** What the command must read could not be read: the Ampersand API (`check`), Redis (`status`, `dead-letters`). */
  unreadable: 3,
  /** An error nobody expected (a bug): one scrubbed `fatal:` line says what. */
  internal: 4,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
