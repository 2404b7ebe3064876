/**
 * Times as the CLI prints them: an absolute UTC time to the second, and how
 * long ago, for the "since when" of an installation and the age of a poll.
 * Pure: `nowMs` is passed in.
 */
import { formatDuration } from '../core/duration.js';
import type { StateSince } from '../core/snapshot.js';

export { formatDuration };

/** `2026-05-01T10:00:00Z`: ISO 8601 in UTC, to the second. */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'an unreadable time' : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2026-05-01T10:00:00Z (3 h 5 min ago)`. */
export function formatAgo(ms: number, nowMs: number): string {
  return `${formatTime(ms)} (${formatDuration(nowMs - ms)} ago)`;
}

/**
 * Since when an installation is in its state: the time the change was seen;
 * `≥ … (first seen …)` when that is only when this monitor first saw it so (a
 * baseline: it began then or earlier); `unknown` when nobody knows.
 */
export function formatSince(since: StateSince | undefined, nowMs: number): string {
  if (since === undefined) return 'unknown';
  if (since.exact) return formatAgo(since.ms, nowMs);
  return `≥ ${formatTime(since.ms)} (first seen ${formatDuration(nowMs - since.ms)} ago)`;
}

/** An epoch-ms time for `--json`: ISO 8601, or null when unknown (0 or not a time). */
export function jsonTime(ms: number | undefined): string | null {
  if (ms === undefined || ms <= 0) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
