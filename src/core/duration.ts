/**
 * A length of time as a person reads it in a table, a page or a message:
 * two units at most (`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`). One function
 * for the CLI, the status page and the alerts, so that they agree.
 */

/** `ms` in at most two units; `0 s` for a negative length (a time ahead of now: clock skew). */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}
