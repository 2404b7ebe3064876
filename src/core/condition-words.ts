/**
 * The words messages use for the alert conditions, and counts as people read
 * them: "credentials rejected 12", not `connection_status bad_credentials`.
 * Pure; shared by the renderers of mass events and baseline summaries.
 */
import type { Condition } from './alert-state.js';
import type { Field } from './diff.js';

/** What a condition is, in words. */
export const CONDITION_WORDS: Readonly<Record<Condition, string>> = {
  unhealthy: 'unhealthy',
  operation_failing: 'last operation failing',
  bad_credentials: 'credentials rejected',
};

/** The condition a bad value of a snapshot field means. */
export const FIELD_CONDITIONS: Readonly<Record<Field, Condition>> = {
  health_status: 'unhealthy',
  last_operation_status: 'operation_failing',
  connection_status: 'bad_credentials',
};

/** Conditions worst first, the order counts are listed in: rejected credentials need a customer, then health, then operations. */
export const CONDITIONS_WORST_FIRST: readonly Condition[] = ['bad_credentials', 'unhealthy', 'operation_failing'];

/** A count with thousands separators: 2,000. */
export const formatCount = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** `credentials rejected 12 · unhealthy 300`: the conditions with a count above 0, worst first, joined by `separator`. */
export function conditionCounts(counts: Readonly<Partial<Record<Condition, number>>>, separator = ' · '): string {
  return CONDITIONS_WORST_FIRST.filter((c) => (counts[c] ?? 0) > 0)
    .map((c) => `${CONDITION_WORDS[c]} ${formatCount(counts[c] ?? 0)}`)
    .join(separator);
}
