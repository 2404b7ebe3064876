/**
 * The bench's results as a Markdown table, and BENCHMARKS.md's part that
 * holds it: between two markers, so a rerun replaces the table and keeps the
 * prose around it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const TABLE_START = '<!-- bench:start (written by npm run bench; edits here are lost) -->';
export const TABLE_END = '<!-- bench:end -->';

/** `pass`/`fail` against a target; `–` when the figure has no target at this N; `not measured` when today's code cannot show it. */
export type Verdict = 'pass' | 'fail' | '–' | 'not measured';

export interface Row {
  readonly figure: string;
  /** The number of installations, or '' for figures that have none. */
  readonly n: number | undefined;
  readonly measured: string;
  /** The figure ÷ the floor's, or '' when it is not a time or a memory size. */
  readonly ratio: string;
  readonly target: string;
  readonly verdict: Verdict;
}

export interface MachineInfo {
  readonly startedAt: string;
  readonly node: string;
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGb: number;
  readonly redis: string;
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  readonly loadAtStart: readonly number[];
  readonly loadAtEnd: readonly number[];
  readonly durationS: number;
  readonly reps: string;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

export const formatMs = (ms: number): string => (ms >= 100 ? `${Math.round(ms).toLocaleString('en-US')} ms` : `${ms.toFixed(1)} ms`);
export const formatMb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1)} MB`;
export const formatBytes = (bytes: number): string => (bytes >= 1e5 ? formatMb(bytes) : `${Math.round(bytes).toLocaleString('en-US')} B`);
export const formatRatio = (ratio: number): string => (Number.isFinite(ratio) ? ratio.toFixed(2) : '');

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderTable(machine: MachineInfo, rows: readonly Row[]): string {
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const lines = [
    `Run of ${machine.startedAt}: Node ${machine.node}, ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB RAM, ${machine.redis}; ` +
      `load average (1 / 5 / 15 min) ${load(machine.loadAtStart)} at the start and ${load(machine.loadAtEnd)} at the end; ` +
      `the whole run took ${machine.durationS} s; medians of ${machine.reps}.`,
    '',
    '| figure | N | measured | ÷ floor | target | result |',
    '|---|---:|---|---:|---|---|',
    ...rows.map(
      (r) => `| ${[r.figure, r.n === undefined ? '' : r.n.toLocaleString('en-US'), r.measured, r.ratio, r.target, r.verdict].map(cell).join(' | ')} |`,
    ),
  ];
  return lines.join('\n');
}

const SKELETON = `# Benchmarks

\`npm run bench\` writes the table below (issue 9); the prose around it is kept when it runs again.

${TABLE_START}
${TABLE_END}
`;

/** Puts `table` between the markers of `file` (created with a heading if missing; markers appended if it has none). */
export function writeTable(file: string, table: string): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : SKELETON;
  if (!text.includes(TABLE_START) || !text.includes(TABLE_END)) text = `${text.trimEnd()}\n\n${TABLE_START}\n${TABLE_END}\n`;
  const start = text.indexOf(TABLE_START) + TABLE_START.length;
  const end = text.indexOf(TABLE_END, start);
  if (end < 0) throw new Error(`${file}: ${TABLE_END} comes before ${TABLE_START}`);
  writeFileSync(file, `${text.slice(0, start)}\n${table}\n${text.slice(end)}`);
}
