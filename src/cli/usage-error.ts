/**
 * The command line was wrong: an unknown command or option, a missing or
 * extra argument. Its message is the one line printed before exit 2, naming
 * what was wrong and pointing at --help.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
