/**
 * `npm run bench [-- --sizes 1000,10000,100000 --reps 5 --out BENCHMARKS.md]`:
 * runs the bench harness (run-bench.ts), prints the table and writes it into
 * BENCHMARKS.md between its markers. Progress goes to stderr.
 */
import { parseArgs } from 'node:util';
import { renderTable, writeTable } from './report.js';
import { DEFAULT_BENCH_OPTIONS, runBench, type BenchOptions } from './run-bench.js';

const USAGE = `usage: npm run bench -- [--sizes 1000,10000,100000] [--reps 5] [--reps-large 3] [--alert-at 10000] [--alert-samples 5]
                         [--max-body-mb N] [--raised-max-body-mb 256] [--cycle-integrations 200] [--cpu-prof DIR]
                         [--out BENCHMARKS.md | --no-write]`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(value)}\n${USAGE}`);
  return n;
}

function parseBenchArgs(argv: readonly string[]): { options: BenchOptions; out: string | undefined } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sizes: { type: 'string' },
      reps: { type: 'string' },
      'reps-large': { type: 'string' },
      'alert-at': { type: 'string' },
      'alert-samples': { type: 'string' },
      'max-body-mb': { type: 'string' },
      'raised-max-body-mb': { type: 'string' },
      'cycle-integrations': { type: 'string' },
      'cpu-prof': { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean' },
    },
    strict: true,
  });
  const sizes = values.sizes === undefined ? DEFAULT_BENCH_OPTIONS.sizes : values.sizes.split(',').map((s) => positive('sizes', s.trim(), 0));
  const reps = positive('reps', values.reps, DEFAULT_BENCH_OPTIONS.reps);
  // The alert latency is measured at 10,000 when that size runs, else at the first size.
  const alertAt = positive('alert-at', values['alert-at'], sizes.includes(10_000) ? 10_000 : (sizes[0] ?? 0));
  const options: BenchOptions = {
    ...DEFAULT_BENCH_OPTIONS,
    sizes,
    reps,
    repsLarge: positive('reps-large', values['reps-large'], Math.min(reps, DEFAULT_BENCH_OPTIONS.repsLarge)),
    alertAt: sizes.includes(alertAt) ? alertAt : undefined,
    alertSamples: positive('alert-samples', values['alert-samples'], DEFAULT_BENCH_OPTIONS.alertSamples),
    maxBodyMb: values['max-body-mb'] === undefined ? undefined : positive('max-body-mb', values['max-body-mb'], 0),
    raisedMaxBodyMb: positive('raised-max-body-mb', values['raised-max-body-mb'], DEFAULT_BENCH_OPTIONS.raisedMaxBodyMb),
    cycleIntegrations: positive('cycle-integrations', values['cycle-integrations'], DEFAULT_BENCH_OPTIONS.cycleIntegrations),
    cpuProfileDir: values['cpu-prof'],
  };
  return { options, out: values['no-write'] === true ? undefined : (values.out ?? 'BENCHMARKS.md') };
}

async function main(): Promise<void> {
  const { options, out } = parseBenchArgs(process.argv.slice(2));
  const { machine, rows } = await runBench(options);
  const table = renderTable(machine, rows);
  process.stdout.write(`${table}\n`);
  if (out !== undefined) {
    writeTable(out, table);
    process.stderr.write(`bench: table written to ${out}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
