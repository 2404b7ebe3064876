/**
 * `npm run bench:list-mode`: AMPERSAND_LIST_MODE=integration against
 * AMPERSAND_LIST_MODE=project at 200 integrations of 50 installations (issue 9,
 * "Project-wide listing"). The real service (startMonitor, its workers and
 * scheduler) polls the fake Ampersand (spec-shaped installations of about
 * 2 KB) over loopback with a private redis-server, once per mode; for each
 * steady cycle after the baselines it counts the Ampersand requests, the
 * largest response body, the wall time from the cycle's first request to its
 * last integration committed, and the commands Redis ran (INFO commandstats,
 * a script's own commands included, the workers' idle polling too). It
 * prints a Markdown table (medians over the cycles) to paste into
 * BENCHMARKS.md.
 *
 *   npm run bench:list-mode -- [--integrations 200] [--installations 50] [--cycles 5]
 */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startMonitor } from '../../src/main.js';
import { startFakeAmpersand, type FakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
import { buildDetailedInstallation, type InstallationSpec } from '../../src/simulator/fixtures.js';
import { startPrivateRedisServer } from '../../src/simulator/private-redis-server.js';
import { BENCH_API_KEY, BENCH_PROJECT } from './load.js';
import { readCounters } from './redis-counters.js';

const { values } = parseArgs({
  options: {
    integrations: { type: 'string', default: '200' },
    installations: { type: 'string', default: '50' },
    cycles: { type: 'string', default: '5' },
  },
});
const integrationCount = Number(values.integrations);
const perIntegration = Number(values.installations);
const cycles = Number(values.cycles);
/** Long enough that a cycle of the slower mode ends before the next starts, on 2 busy cores. */
const pollIntervalSeconds = 5;

const uuid = (kind: string, n: number): string => `${kind}-d9cb-469f-a165-${n.toString(16).padStart(12, '0')}`;

function integrationsOfLoad(): { id: string; specs: InstallationSpec[] }[] {
  return Array.from({ length: integrationCount }, (_, k) => {
    const id = uuid('2b3c4d5e', k);
    const specs = Array.from({ length: perIntegration }, (_, i): InstallationSpec => {
      const n = k * perIntegration + i;
      const ref = String(n).padStart(7, '0');
      return {
        id: uuid('0f8fad5b', n),
        projectId: BENCH_PROJECT,
        integrationId: id,
        groupRef: `org-${ref}`,
        groupName: `Customer ${ref}`,
        provider: 'salesforce',
        healthStatus: n % 100 === 7 ? 'unhealthy' : 'healthy',
        lastOperationStatus: n % 100 < 3 ? 'failure' : 'success',
        connectionStatus: 'working',
      };
    });
    return { id, specs };
  });
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** Polls committed so far, summed over the integrations: the count of ampersand_poll_duration_seconds. */
async function pollsCommitted(registry: Registry): Promise<number> {
  const metric = registry.getSingleMetric('ampersand_poll_duration_seconds');
  if (metric === undefined) return 0;
  const { values: samples } = await metric.get();
  // A histogram's values name their series (the _count one per integration); MetricValue's type leaves the name out.
  return samples.filter((s) => (s as { metricName?: string }).metricName === 'ampersand_poll_duration_seconds_count').reduce((sum, s) => sum + s.value, 0);
}

/** The largest V8 heap seen while waiting (sampled every 5 ms): the service's, as the fake's listings are Buffers, outside the heap. */
let peakHeap = 0;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
    if (await check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface CycleFigures {
  readonly requests: number;
  readonly largestBodyBytes: number;
  readonly wallMs: number;
  readonly redisCommands: number;
  readonly peakHeapBytes: number;
}

async function measure(mode: 'integration' | 'project', ampersand: FakeAmpersand, redisUrl: string, ids: readonly string[]): Promise<CycleFigures[]> {
  const registry = new Registry();
  const prefix = `bench-list-${mode}`;
  const config = parseConfig({
    AMPERSAND_API_KEY: BENCH_API_KEY,
    AMPERSAND_API_URL: ampersand.url,
    AMPERSAND_PROJECT_ID: BENCH_PROJECT,
    AMPERSAND_INTEGRATION_IDS: ids.join(','),
    AMPERSAND_LIST_MODE: mode,
    POLL_INTERVAL_SECONDS: String(pollIntervalSeconds),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'error',
  });
  const counters = new Redis(redisUrl, { lazyConnect: false });
  const monitor = await startMonitor(config, { registry, logger: createLogger('error', process.stderr), httpPort: 0 });
  const figures: CycleFigures[] = [];
  try {
    // The baselines first: every integration committed once.
    await until('the baselines', async () => (await pollsCommitted(registry)) >= ids.length, 120_000);
    for (let cycle = 2; cycle <= cycles + 1; cycle += 1) {
      const before = await readCounters(counters);
      peakHeap = 0;
      const firstRequest = ampersand.requests.length;
      const startedAt = await until('the next cycle', () => ampersand.requests.length > firstRequest, (pollIntervalSeconds + 30) * 1000);
      const start = ampersand.requests[firstRequest]?.at ?? startedAt;
      const end = await until(`cycle ${cycle}`, async () => (await pollsCommitted(registry)) >= ids.length * cycle, 120_000);
      const after = await readCounters(counters);
      const requests = ampersand.requests.slice(firstRequest);
      const commands = [...after.commands].reduce((sum, [name, calls]) => sum + (name === 'info' ? 0 : calls - (before.commands.get(name) ?? 0)), 0);
      figures.push({
        requests: requests.length,
        largestBodyBytes: mode === 'project' ? projectBodyBytes : integrationBodyBytes,
        wallMs: end - start,
        redisCommands: commands,
        peakHeapBytes: peakHeap,
      });
    }
  } finally {
    await monitor.close();
    counters.disconnect();
  }
  return figures;
}

let projectBodyBytes = 0;
let integrationBodyBytes = 0;

async function main(): Promise<void> {
  // The append-only file on, as the bench's counters read its size too.
  const redis = await startPrivateRedisServer(undefined, { appendOnly: true });
  const ampersand = await startFakeAmpersand({ apiKey: BENCH_API_KEY, projectId: BENCH_PROJECT, buildInstallation: buildDetailedInstallation });
  try {
    const load = integrationsOfLoad();
    for (const { id, specs } of load) ampersand.setIntegration(id, 'salesforce', specs);
    const headers = { 'X-Api-Key': BENCH_API_KEY };
    projectBodyBytes = (await (await fetch(`${ampersand.url}/projects/${BENCH_PROJECT}/installations`, { headers })).arrayBuffer()).byteLength;
    const first = load[0]?.id ?? '';
    integrationBodyBytes = (await (await fetch(`${ampersand.url}/projects/${BENCH_PROJECT}/integrations/${first}/installations`, { headers })).arrayBuffer())
      .byteLength;
    ampersand.requests.length = 0;
    const ids = load.map((l) => l.id);
    const rows: string[] = [];
    for (const mode of ['integration', 'project'] as const) {
      const figures = await measure(mode, ampersand, redis.url, ids);
      const m = (pick: (f: CycleFigures) => number): number => median(figures.map(pick));
      rows.push(
        `| ${mode} | ${m((f) => f.requests)} | ${(m((f) => f.largestBodyBytes) / 1e6).toFixed(2)} MB | ${Math.round(m((f) => f.wallMs))} ms | ${m((f) => f.redisCommands)} | ${Math.round(m((f) => f.peakHeapBytes) / 1e6)} MB |`,
      );
      process.stderr.write(`${mode}: ${JSON.stringify(figures)}\n`);
    }
    const lines = [
      `${integrationCount} integrations × ${perIntegration} installations (${((projectBodyBytes / (integrationCount * perIntegration)) | 0).toLocaleString('en-US')} bytes each), one project, POLL_CONCURRENCY=4, ${cycles} steady cycles after the baselines (medians); Node ${process.version}, ${availableParallelism()} cores.`,
      '',
      '| AMPERSAND_LIST_MODE | Ampersand requests per cycle | largest response body | cycle wall time (first request → last integration committed) | Redis commands per cycle | peak V8 heap in the cycle |',
      '|---|---|---|---|---|---|',
      ...rows,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await ampersand.close();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
