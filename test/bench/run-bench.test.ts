/**
 * The bench harness end to end at a tiny size (not timed: the figures are not
 * checked, only that every phase ran and the table is well-formed): the fake
 * Ampersand, the floor, poll and monitor children, the private redis-server,
 * the raised-cap run after a body_too_large, and BENCHMARKS.md's markers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TABLE_END, TABLE_START, renderTable, writeTable, type MachineInfo, type Row } from '../../scripts/bench/report.js';
import { DEFAULT_BENCH_OPTIONS, runBench } from '../../scripts/bench/run-bench.js';

const dir = mkdtempSync(join(tmpdir(), 'ahm-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The cells of a table row, split on the pipes that are not escaped. */
const cells = (line: string): string[] =>
  line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());

/** The lines of the table between the markers of `text`. */
function tableLines(text: string): string[] {
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return text
    .slice(start + TABLE_START.length, end)
    .split('\n')
    .filter((l) => l.startsWith('|'));
}

describe('the bench', () => {
  it('runs every phase at a tiny size, records a body_too_large as a result, and writes a well-formed table', { timeout: 300_000 }, async () => {
    // 600 installations of about 2 KB are over a 1 MB cap: the default-settings poll fails, the raised one runs.
    const { machine, rows } = await runBench({
      ...DEFAULT_BENCH_OPTIONS,
      sizes: [600],
      reps: 1,
      repsLarge: 1,
      alertAt: 600,
      alertSamples: 1,
      maxBodyMb: 1,
      raisedMaxBodyMb: 2,
      cycleIntegrations: 3,
      log: () => undefined,
    });
    const figure = (start: string): Row[] => rows.filter((r) => r.figure.startsWith(start));
    expect(figure('full poll, nothing changed').map((r) => r.measured)).toEqual([
      expect.stringMatching(/^fails: body_too_large \(after /),
      expect.stringMatching(/ ms$/),
    ]);
    expect(figure('first poll (baseline')).toHaveLength(1);
    expect(figure('poll with one installation changed')[0]?.measured).toMatch(/round trips; .* sent to Redis, .* to its AOF$/);
    expect(figure('peak RSS')[0]?.measured).toMatch(/^\d+(\.\d)? MB vs \d+(\.\d)? MB$/);
    expect(figure('Redis per poll, nothing changed')[0]?.measured).toMatch(/^\d+ round trips; \d+ commands: .*evalsha \d+/);
    for (const mode of ['all', 'unhealthy', 'none']) {
      expect(figure(`/metrics scrape, METRICS_INSTALLATION_SERIES=${mode}:`)[0]?.measured, mode).toMatch(
        / series; event loop blocked up to .*; Redis sent .*; peak RSS /,
      );
    }
    expect(figure('10 concurrent scrapes')).toHaveLength(1);
    expect(figure('scrape cost with 3 replicas')[0]?.measured).toMatch(/ in all \(.* per replica\)/);
    expect(figure('alert latency')[0]?.measured).toMatch(/^\d.* ms \(1 changes/);
    expect(figure('Redis round trips of a cycle')[0]?.measured).toMatch(/^\d+ vs \d+ \(/);
    expect(machine.cores).toBeGreaterThan(0);

    const file = join(dir, 'BENCHMARKS.md');
    writeFileSync(file, `# Benchmarks\n\nprose before\n\n${TABLE_START}\nold table\n${TABLE_END}\n\nprose after\n`);
    writeTable(file, renderTable(machine, rows));
    writeTable(file, renderTable(machine, rows));
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# Benchmarks\n\nprose before\n\n/);
    expect(text).toMatch(/\n\nprose after\n$/);
    expect(text).not.toContain('old table');
    expect(text.split(TABLE_START)).toHaveLength(2);
    const lines = tableLines(text);
    expect(lines.slice(0, 2)).toEqual(['| figure | N | measured | ÷ floor | target | result |', '|---|---:|---|---:|---|---|']);
    expect(lines).toHaveLength(rows.length + 2);
    for (const line of lines) expect(cells(line)).toHaveLength(6);
    for (const line of lines.slice(2)) expect(['pass', 'fail', '–', 'not measured']).toContain(cells(line)[5]);
  });
});

describe('writeTable', () => {
  const machine: MachineInfo = {
    startedAt: '2026-01-01T00:00:00Z',
    node: 'v20.0.0',
    cores: 2,
    cpu: 'cpu',
    memoryGb: 1,
    redis: 'redis-server 7',
    loadAtStart: [1, 2, 3],
    loadAtEnd: [1, 2, 3],
    durationS: 1,
    reps: '1 repetition',
  };
  const row: Row = { figure: 'a | b', n: 1000, measured: '1 ms', ratio: '1.00', target: '≤ 1.3', verdict: 'pass' };

  it('creates the file with a heading and the markers when it is missing, and escapes pipes in cells', () => {
    const file = join(dir, 'new.md');
    writeTable(file, renderTable(machine, [row]));
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# Benchmarks\n/);
    expect(tableLines(text).at(-1)).toBe('| a \\| b | 1,000 | 1 ms | 1.00 | ≤ 1.3 | pass |');
  });

  it('appends the markers to a file that has none, keeping what it holds', () => {
    const file = join(dir, 'plain.md');
    writeFileSync(file, '# Notes\n\nkept\n');
    writeTable(file, renderTable(machine, [row]));
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# Notes\n\nkept\n\n')).toBe(true);
    expect(tableLines(text)).toHaveLength(3);
  });
});
