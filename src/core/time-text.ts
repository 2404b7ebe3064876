/**
 * Times and durations as the alert digests write them. The date token and the
 * UTC text are slack-time.ts's and the durations duration.ts's, shared with the
 * upstream and mass-event messages, the CLI and the status page; here only the
 * ordinal of "3rd time this week".
 */
export { formatDuration } from './duration.js';
export { formatUtc as utcText, slackDateToken } from './slack-time.js';

/** 1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st, 22nd. */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}
