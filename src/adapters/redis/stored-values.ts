/** How the Redis adapters read the numbers they store as strings. */

/**
 * A stored version or revision: only a plain non-negative integer. NaN, '', '1e3' or garbage
 * would never match again on a compare-and-set and freeze what it guards.
 */
export const isStoredVersion = (value: string): boolean => /^\d{1,15}$/.test(value);

/** A stored epoch-ms field; absent or garbage reads as unknown. */
export function epochMs(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
