/**
 * `silences`: the silences and maintenance windows of the monitor
 * configuration file (MONITOR_CONFIG) and what each does at a time: a silence
 * active until its end, or expired; a window in force until its end, or when
 * it next starts, in its own time zone and in UTC. The file is read and
 * checked by the service's own loader before this runs, so a file the service
 * would refuse makes this exit 2 with the same lines: the command doubles as a
 * check of the file. It writes nothing: the file is the source of truth (kept
 * in git, like Alertmanager's configuration), and a silence is added or ended
 * by editing it and restarting the service.
 */
import type { SubjectMatch } from '../core/alert-subject.js';
import { SUBJECT_FIELDS } from '../core/alert-subject.js';
import type { MonitorConfig } from '../core/monitor-config.js';
import { compileWindows, windowStateAt, type WindowState } from '../core/silences.js';
import { programName, type CliIo, type CommandDefinition, type OptionValues } from './command-definition.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { renderTable, type Column } from './table.js';
import { cell } from './terminal-text.js';
import { formatDuration, formatTime } from './time-text.js';
import { jsonText } from './state-view.js';
import { UsageError } from './usage-error.js';

export const silencesDefinition: CommandDefinition<'silences'> = {
  name: 'silences',
  summary: 'the silences and maintenance windows of MONITOR_CONFIG, and which are in force',
  help: `Usage: ${programName} silences [--at TIME] [--json]

Lists the silences and maintenance windows of the monitor configuration file that
MONITOR_CONFIG names, each with what it does now (or at --at): a silence is active until its
end, or expired; a maintenance window is active until the end of the current occurrence, or
says when it next starts, in its own time zone and in UTC. The file is checked as the service
checks it at start, so a file the service would refuse exits 2 with the same lines.

Nothing is written: the file is the source of truth. Add, change or end a silence by editing
the file (in git, reviewed like any configuration) and restarting the service.

Options:
  --at TIME   the time to judge at, ISO 8601 with an offset (2026-12-24T18:00:00Z);
              default: now
  --json      machine output: { at, file, silences: [...], maintenance: [...] }
  -h, --help  this help

Exit codes: 0 listed (also when MONITOR_CONFIG is unset: nothing is muted);
2 bad usage or configuration (the file's problems, one per line).
`,
  options: { at: { type: 'string' }, json: { type: 'boolean' } },
  positionals: false,
};

export interface SilencesOptions {
  /** Epoch ms of --at, or undefined for now. */
  readonly atMs: number | undefined;
  readonly json: boolean;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

export function readSilencesOptions(values: OptionValues): SilencesOptions {
  const at = values['at'];
  if (typeof at !== 'string') return { atMs: undefined, json: values['json'] === true };
  const ms = INSTANT.test(at) ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${programName} silences: --at ${JSON.stringify(cell(at, 60))} is not a time; give ISO 8601 with an offset, such as 2026-12-24T18:00:00Z`,
    );
  }
  return { atMs: ms, json: values['json'] === true };
}

export interface SilencesDeps {
  /** The checked file, or undefined without MONITOR_CONFIG. */
  readonly monitor: MonitorConfig | undefined;
  /** MONITOR_CONFIG, as given. */
  readonly path: string | undefined;
  readonly now: () => Date;
  readonly io: CliIo;
}

/** `installationId=a groupRef=org-1`, in the order the docs list the fields; `everything` for `{}`. */
export function matchText(match: SubjectMatch): string {
  const parts = SUBJECT_FIELDS.flatMap((field) => (match[field] === undefined ? [] : [`${field}=${match[field]}`]));
  return parts.length === 0 ? 'everything' : parts.join(' ');
}

/** `2026-12-06 02:00 UTC+1`: a time as the wall clock of `timezone` shows it, with its offset. */
export function localTime(ms: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  // The offset, not an abbreviation: no locale abbreviates every zone (en-US says GMT+1 for CET).
  const raw = part('timeZoneName');
  const offset = raw === '' || raw === 'GMT' || raw === 'GMT+0' ? 'UTC' : raw.replace(/^GMT/, 'UTC');
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${offset}`;
}

interface RuleRow {
  readonly rule: string;
  readonly match: string;
  readonly state: string;
  readonly reason: string;
}

function windowText(state: WindowState, timezone: string, nowMs: number): string {
  switch (state.state) {
    case 'active':
      return `active until ${localTime(state.until.getTime(), timezone)} (${formatTime(state.until.getTime())}, ${formatDuration(state.until.getTime() - nowMs)} left)`;
    case 'scheduled':
      return `next at ${localTime(state.nextStart.getTime(), timezone)} (${formatTime(state.nextStart.getTime())}, in ${formatDuration(state.nextStart.getTime() - nowMs)})`;
    case 'never':
      return 'never starts again';
  }
}

const windowJson = (state: WindowState): Record<string, unknown> => {
  switch (state.state) {
    case 'active':
      return { state: 'active', activeUntil: state.until.toISOString() };
    case 'scheduled':
      return { state: 'scheduled', nextStart: state.nextStart.toISOString(), nextEnd: state.nextEnd.toISOString() };
    case 'never':
      return { state: 'never' };
  }
};

export function runSilences(options: SilencesOptions, deps: SilencesDeps): ExitCode {
  const { io, monitor, path } = deps;
  const at = options.atMs === undefined ? deps.now() : new Date(options.atMs);
  const nowMs = at.getTime();
  const silences = monitor?.silences ?? [];
  const windows = compileWindows(monitor?.maintenance ?? []);
  if (options.json) {
    io.out(
      jsonText({
        at: at.toISOString(),
        file: path ?? null,
        silences: silences.map((s, i) => ({
          rule: `silences[${i}]`,
          match: s.match,
          until: s.until.toISOString(),
          reason: s.reason ?? null,
          state: nowMs < s.until.getTime() ? 'active' : 'expired',
        })),
        maintenance: windows.map((w, i) => ({
          rule: `maintenance[${i}]`,
          match: w.window.match,
          cron: w.window.cron,
          durationMinutes: w.window.durationMinutes,
          timezone: w.window.timezone,
          reason: w.window.reason ?? null,
          ...windowJson(windowStateAt(w, at)),
        })),
      }),
    );
    return exitCodes.ok;
  }
  if (path === undefined) {
    io.out('MONITOR_CONFIG is not set: there are no silences or maintenance windows, and nothing is muted.\n');
    return exitCodes.ok;
  }
  const head = `Silences and maintenance windows of ${cell(path, 200)} at ${formatTime(nowMs)}`;
  if (silences.length === 0 && windows.length === 0) {
    io.out(`${head}\n\nNone: nothing is muted.\n`);
    return exitCodes.ok;
  }
  const rows: RuleRow[] = [
    ...silences.map((s, i) => {
      const until = s.until.getTime();
      const state = nowMs < until ? `active until ${formatTime(until)} (${formatDuration(until - nowMs)} left)` : `expired at ${formatTime(until)}`;
      return { rule: `silences[${i}]`, match: matchText(s.match), state, reason: s.reason ?? '' };
    }),
    ...windows.map((w, i) => {
      const { cron, durationMinutes, timezone } = w.window;
      const state = `${windowText(windowStateAt(w, at), timezone, nowMs)}; "${cron}" ${timezone}, ${durationMinutes} min`;
      return { rule: `maintenance[${i}]`, match: matchText(w.window.match), state, reason: w.window.reason ?? '' };
    }),
  ];
  const columns: Column<RuleRow>[] = [
    { header: 'RULE', value: (r) => r.rule, max: 20 },
    { header: 'MATCH', value: (r) => r.match, max: 80 },
    { header: 'STATE', value: (r) => r.state, max: 140 },
    { header: 'REASON', value: (r) => r.reason || '-', max: 80 },
  ];
  const active = rows.filter((r) => r.state.startsWith('active')).length;
  io.out(`${[head, '', ...renderTable(columns, rows), '', `${active} of ${rows.length} in force.`].join('\n')}\n`);
  return exitCodes.ok;
}
