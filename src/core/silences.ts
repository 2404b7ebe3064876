/**
 * Silences and maintenance windows: is an installation muted at a time, and
 * until when. Pure: the time is passed in, and the cron schedules are worked
 * out by croner, which only computes dates here (no job is scheduled, so it
 * starts no timer).
 *
 * - A silence mutes the subjects it matches from the moment it is in the
 *   configuration until `until` (exclusive).
 * - A maintenance window mutes the subjects it matches for `durationMinutes`
 *   from each time its 5-field `cron` expression matches, read in `timezone`.
 *   The duration is elapsed time, not wall-clock time: a window from 01:00 for
 *   120 minutes in Europe/Berlin ends at 04:00 on the night the clocks go
 *   forward. A start the clocks skip (02:30 on that night) is taken at the
 *   first time after the gap (03:00), and a start the clocks repeat (02:30 on
 *   the night they go back) is taken once, at its first occurrence: croner's
 *   rule for fixed-time expressions, which with `fixedTimeRule: 'no-wildcard'`
 *   (Vixie cron's rule) are all those without a wildcard or a step in the
 *   minute and hour fields. One with such a field is an interval: it skips
 *   the times the clocks skip and starts at both of the times they repeat.
 *
 * The caller works out the mutes in force once per poll (mutesAt) and asks for
 * each installation (findMute); the result's `muted` goes into the observation
 * of nextAlertState.
 */
import { Cron } from 'croner';
import { matchesSubject, type AlertSubject, type SubjectMatch } from './alert-subject.js';

export interface Silence {
  readonly match: SubjectMatch;
  /** The silence ends here (exclusive). */
  readonly until: Date;
  readonly reason: string | undefined;
}

export interface MaintenanceWindow {
  readonly match: SubjectMatch;
  /** A 5-field cron expression (minute hour day-of-month month day-of-week), read in `timezone`. */
  readonly cron: string;
  readonly durationMinutes: number;
  /** An IANA time zone, such as Europe/Berlin or UTC. */
  readonly timezone: string;
  readonly reason: string | undefined;
}

/** Where a mute comes from: the kind and the position of its rule in the configuration (silences[i], maintenance[i]). */
export interface MuteSource {
  readonly kind: 'silence' | 'maintenance';
  readonly index: number;
  readonly reason: string | undefined;
}

/** A mute in force. */
export interface Mute {
  /**
   * When the longest of the matching rules in force ends: a maintenance window
   * whose next start comes before its end (back-to-back or overlapping
   * occurrences) counts as one. A rule that is not in force yet is not
   * counted, even if it starts before this.
   */
  readonly until: Date;
  /** Every matching rule in force, silences first, each in configuration order. */
  readonly sources: readonly MuteSource[];
}

/** The schedule of a maintenance window, compiled once. */
export interface CompiledWindow {
  readonly window: MaintenanceWindow;
  readonly schedule: Cron;
}

/**
 * The cron options every window is read with: 5 fields only, so a 6-field
 * (seconds) expression is refused, not misread; a list or a range of hours
 * (`0 2,14 * * *`) is a fixed time, so its start is moved past a DST gap
 * rather than skipped. Day of month and day of week are ORed, as in cron.
 */
export const CRON_OPTIONS = { mode: '5-part', fixedTimeRule: 'no-wildcard' } as const;

/** A date from which croner finds the next start of any 5-field expression that ever matches (29 February included). */
const REFERENCE = new Date(Date.UTC(2000, 0, 1));

/**
 * Why croner refuses a window's expression ("is refused: …"), or says it
 * never starts (30 February), or undefined when it is fine. The problem text
 * follows the expression in a message.
 */
export function cronProblem(cron: string): string | undefined {
  let schedule: Cron;
  try {
    schedule = new Cron(cron, { ...CRON_OPTIONS, timezone: 'UTC' });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `is refused: ${message.replace(/^CronPattern: /, '')}`;
  }
  return schedule.nextRun(REFERENCE) === null ? 'never matches a date' : undefined;
}

/** Undefined when croner can read times in `timezone` (an IANA name, such as Europe/Berlin), else why not. */
export function timezoneProblem(timezone: string): string | undefined {
  if (timezone.trim() === '') return 'is empty';
  try {
    // croner checks the zone only when it works out a date in it.
    new Cron('0 0 * * *', { ...CRON_OPTIONS, timezone }).nextRun(REFERENCE);
    return undefined;
  } catch {
    return 'is not a time zone croner knows';
  }
}

/** How many consecutive starts shortestStartGapMinutes compares: more than a year of a weekly window. */
const GAP_SAMPLE = 60;

/**
 * The shortest time between two consecutive starts of a window's expression in
 * its zone, in whole minutes, over its next starts from a fixed date; undefined
 * when it starts fewer than twice. A window at least this long never ends.
 */
export function shortestStartGapMinutes(cron: string, timezone: string): number | undefined {
  const starts = new Cron(cron, { ...CRON_OPTIONS, timezone }).nextRuns(GAP_SAMPLE, REFERENCE).map((d) => d.getTime());
  let shortest: number | undefined;
  for (let i = 1; i < starts.length; i += 1) {
    const gap = ((starts[i] ?? 0) - (starts[i - 1] ?? 0)) / 60_000;
    shortest = shortest === undefined ? gap : Math.min(shortest, gap);
  }
  return shortest === undefined ? undefined : Math.floor(shortest);
}

/** Compiles each window's expression; throws croner's error for one that monitor-config.ts would have refused. */
export function compileWindows(windows: readonly MaintenanceWindow[]): CompiledWindow[] {
  return windows.map((window) => ({ window, schedule: new Cron(window.cron, { ...CRON_OPTIONS, timezone: window.timezone }) }));
}

/** The rules in force at one time, each with its end; from mutesAt. */
export interface ActiveMutes {
  readonly at: Date;
  readonly rules: readonly { readonly match: SubjectMatch; readonly until: number; readonly source: MuteSource }[];
}

/**
 * How many back-to-back occurrences of one window are joined into one mute.
 * A window that never pauses (every minute for an hour) would otherwise be
 * followed forever; its `until` is then as far as this many occurrences reach.
 */
const MAX_JOINED_OCCURRENCES = 100;

/** The end of the occurrence of `compiled` in force at `t` (joined with the ones that follow without a gap), or undefined. */
function windowEnd(compiled: CompiledWindow, t: number): number | undefined {
  const durationMs = compiled.window.durationMinutes * 60_000;
  // previousRuns is strictly before its reference: +1 ms makes a start at exactly t count.
  const latestStartBy = (ms: number): number | undefined => compiled.schedule.previousRuns(1, new Date(ms + 1))[0]?.getTime();
  const start = latestStartBy(t);
  if (start === undefined || start + durationMs <= t) return undefined;
  let end = start + durationMs;
  for (let i = 1; i < MAX_JOINED_OCCURRENCES; i += 1) {
    const next = latestStartBy(end);
    if (next === undefined || next + durationMs <= end) break;
    end = next + durationMs;
  }
  return end;
}

/**
 * The silences and windows in force at `now`, worked out once for every
 * installation of a poll. A silence whose `until` has passed is not in force;
 * nor is a window between two occurrences.
 */
export function mutesAt(silences: readonly Silence[], windows: readonly CompiledWindow[], now: Date): ActiveMutes {
  const t = now.getTime();
  const rules: ActiveMutes['rules'][number][] = [];
  silences.forEach((silence, index) => {
    const until = silence.until.getTime();
    if (t < until) rules.push({ match: silence.match, until, source: { kind: 'silence', index, reason: silence.reason } });
  });
  windows.forEach((compiled, index) => {
    const until = windowEnd(compiled, t);
    if (until !== undefined) rules.push({ match: compiled.window.match, until, source: { kind: 'maintenance', index, reason: compiled.window.reason } });
  });
  return { at: new Date(t), rules };
}

/** The mute covering `subject` among the rules in force, or undefined when none matches it. */
export function findMute(active: ActiveMutes, subject: AlertSubject): Mute | undefined {
  const matching = active.rules.filter((rule) => matchesSubject(rule.match, subject));
  if (matching.length === 0) return undefined;
  return { until: new Date(Math.max(...matching.map((rule) => rule.until))), sources: matching.map((rule) => rule.source) };
}

/** The rule a mute source names, as the file places it and the messages, logs and episode log show it: `silences[0]`, `maintenance[2]`. */
export const muteRuleName = (source: MuteSource): string => `${source.kind === 'silence' ? 'silences' : 'maintenance'}[${source.index}]`;

/** The silences and compiled maintenance windows of the monitor configuration file, as a poll and the status views take them. */
export interface MuteRules {
  readonly silences: readonly Silence[];
  readonly windows: readonly CompiledWindow[];
}

/** No rule: nothing is muted (no monitor configuration file, or one without silences and maintenance). */
export const NO_MUTE_RULES: MuteRules = { silences: [], windows: [] };

/**
 * What a mute says about one installation, in a form that is stored (episode
 * log) and shown (status page, CLI): the first matching rule (silences before
 * windows, each in file order), its reason, its kind, and when the mute as a
 * whole ends (epoch ms).
 */
export interface MuteNote {
  /** `silences[0]`, `maintenance[1]`. */
  readonly by: string;
  readonly kind: MuteSource['kind'];
  readonly reason?: string;
  /** Epoch ms when the mute ends, all matching rules in force taken together. */
  readonly until: number;
  /** The other matching rules in force, when there are several. */
  readonly also?: readonly string[];
}

/** The note of a mute in force (findMute). */
export function muteNote(mute: Mute): MuteNote {
  const [first, ...rest] = mute.sources;
  if (first === undefined) throw new Error('a mute has at least one source');
  return {
    by: muteRuleName(first),
    kind: first.kind,
    ...(first.reason === undefined ? {} : { reason: first.reason }),
    until: mute.until.getTime(),
    ...(rest.length === 0 ? {} : { also: rest.map(muteRuleName) }),
  };
}

/** A maintenance window at one time: in force until when, or when it next starts, or that it never starts again. */
export type WindowState =
  | { readonly state: 'active'; readonly until: Date }
  | { readonly state: 'scheduled'; readonly nextStart: Date; readonly nextEnd: Date }
  | { readonly state: 'never' };

/** What a compiled window is doing at `now`, as the CLI's `silences` shows it; its next start is strictly after `now`. */
export function windowStateAt(compiled: CompiledWindow, now: Date): WindowState {
  const end = windowEnd(compiled, now.getTime());
  if (end !== undefined) return { state: 'active', until: new Date(end) };
  const next = compiled.schedule.nextRun(now);
  if (next === null) return { state: 'never' };
  return { state: 'scheduled', nextStart: next, nextEnd: new Date(next.getTime() + compiled.window.durationMinutes * 60_000) };
}
