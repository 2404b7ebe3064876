/**
 * What the parsers of API bodies report about data they could still use: one
 * warning per kind of oddity, counted over the whole body, with the first few
 * item ids as examples, so that a body of 10,000 odd items gives one warning
 * of that kind, not 10,000.
 */
import { truncateCodePoints } from './display-text.js';

/**
 * One kind of oddity in a usable body (a value the spec does not know, a
 * duplicate id, a truncated name…), counted over the whole body, with the
 * first few item ids as examples.
 */
export interface ParseWarning {
  readonly message: string;
  readonly count: number;
  readonly examples: readonly string[];
}

/** Item ids named per warning; the count says how many there are in all. */
export const MAX_WARNING_EXAMPLES = 5;

/** An example id is cut to this many code points: it is there to be recognised, and may be hostile. */
const MAX_EXAMPLE_LENGTH = 64;

/** Collects warnings by message while a parser walks a body. */
export class WarningTally {
  private readonly byMessage = new Map<string, { count: number; examples: string[] }>();

  note(message: string, id: string): void {
    let entry = this.byMessage.get(message);
    if (entry === undefined) {
      entry = { count: 0, examples: [] };
      this.byMessage.set(message, entry);
    }
    entry.count += 1;
    if (entry.examples.length < MAX_WARNING_EXAMPLES) entry.examples.push(truncateCodePoints(id, MAX_EXAMPLE_LENGTH));
  }

  list(): ParseWarning[] {
    return [...this.byMessage].map(([message, { count, examples }]) => ({ message, count, examples }));
  }
}

/** One log line's worth of warnings: each kind with its count and first examples; `noun` names what was counted. */
export function summarizeWarnings(warnings: readonly ParseWarning[], maxKinds = MAX_WARNING_EXAMPLES, noun = 'installation'): string {
  const shown = warnings.slice(0, maxKinds).map((w) => `${w.message} on ${w.count} ${noun}(s) (e.g. ${w.examples.join(', ')})`);
  const more = warnings.length > maxKinds ? `; and ${warnings.length - maxKinds} more kind(s)` : '';
  return shown.join('; ') + more;
}
