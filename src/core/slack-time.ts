/**
 * Times and durations as Slack messages show them. Pure: every time is passed in.
 *
 * A point in time is Slack's date token, `<!date^EPOCH^{date_short_pretty} {time}|FALLBACK>`:
 * each reader sees it in their own time zone ("today at 2:02 PM"), and a
 * client that cannot format it (a notification preview, the plain-text
 * fallback, Mattermost) shows the fallback, the same time in UTC. A duration
 * is short and coarse ("2 h 13 m"): on-call needs its order, not its seconds.
 *
 * Shared by every renderer that says "since when" and "for how long": the
 * upstream messages, the mass events, and the alert digests.
 */

import { formatDuration } from './duration.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2026-12-01 14:02 UTC`: the time in UTC to the minute, as the fallback of a date token says it. */
export function formatUtc(epochMs: number): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return 'an unknown time';
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/**
 * Slack's date token for `epochMs`, shown as the reader's local date and time
 * ("Dec 1st at 2:02 PM", "today at 2:02 PM"), with `formatUtc` as the fallback
 * text. A time that is not a finite number (never expected) is the fallback
 * text alone, since a token with a bad epoch shows nothing useful.
 */
export function slackDateToken(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return formatUtc(epochMs);
  return `<!date^${Math.floor(epochMs / 1000)}^{date_short_pretty} {time}|${formatUtc(epochMs)}>`;
}

/** Durations are formatted by core/duration.ts, shared with the CLI and the status page. */
export { formatDuration };

/**
 * "since <token>", with the duration so far when `nowMs` is given and later:
 * `for 2 h 13 m, since <!date^…>`. The fallback of the token keeps it readable as plain text.
 */
export function sinceText(sinceMs: number, nowMs?: number): string {
  const token = slackDateToken(sinceMs);
  return nowMs === undefined || nowMs < sinceMs ? `since ${token}` : `for ${formatDuration(nowMs - sinceMs)}, since ${token}`;
}
