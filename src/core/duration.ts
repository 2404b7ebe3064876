/**
 * A length of time as a person reads it in a table, a page or a message:
 * its two largest units, rounded down (`45 s`, `13 m`, `2 h 13 m`, `2 h`,
 * `3 d 4 h`): on-call needs its order, not its seconds. One function for the
 * CLI, the status page and the Slack messages, so that they agree.
 */

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/** `ms` in its two largest units; `0 s` for a negative length (clocks of two replicas apart) or one that is not a number. */
export function formatDuration(ms: number): string {
  const t = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (t < minute) return `${Math.floor(t / 1000)} s`;
  if (t < hour) return `${Math.floor(t / minute)} m`;
  const [big, unit, rest, restUnit] = t < day ? [hour, 'h', minute, 'm'] : [day, 'd', hour, 'h'];
  const whole = Math.floor(t / big);
  const part = Math.floor((t - whole * big) / rest);
  return part === 0 ? `${whole} ${unit}` : `${whole} ${unit} ${part} ${restUnit}`;
}
