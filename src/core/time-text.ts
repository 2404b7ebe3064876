/**
 * Times and durations as the messages write them. Pure: every time is passed
 * in as epoch ms. Slack shows a `<!date^…>` token in each reader's own time
 * zone; its fallback text, shown where the token cannot be (notifications,
 * old clients, the plain-text form), is UTC, always with "UTC" said.
 */

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2026-12-01 14:02 UTC`: a time to the minute, in UTC, saying so. */
export function utcText(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/**
 * Slack's date token for `ms`, shown to each reader as "Today at 2:02 PM" (or
 * the date) in their own time zone, with utcText as its fallback:
 * `<!date^1796133720^{date_short_pretty} {time}|2026-12-01 14:02 UTC>`.
 * The fallback has no `|` or `>`, so it cannot end the token early.
 */
export function slackDateToken(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${utcText(ms)}>`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A duration in the two largest units that matter: `45 s`, `13 m`, `2 h 13 m`,
 * `3 d 4 h`. Cut down, never rounded up: "for 2 h" is never more than it was.
 * A negative duration (clocks of two replicas) reads as `0 s`.
 */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  if (t < MINUTE) return `${Math.floor(t / 1000)} s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)} m`;
  if (t < DAY) {
    const minutes = Math.floor((t % HOUR) / MINUTE);
    return `${Math.floor(t / HOUR)} h${minutes === 0 ? '' : ` ${minutes} m`}`;
  }
  const hours = Math.floor((t % DAY) / HOUR);
  return `${Math.floor(t / DAY)} d${hours === 0 ? '' : ` ${hours} h`}`;
}

/** 1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st, 22nd. */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}
