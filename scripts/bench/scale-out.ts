/**
 * `npm run bench:scale-out`: many integrations on several replicas (issue 9,
 * "Scale-out / Many integrations"). It starts a private redis-server, the fake
 * Ampersand serving 200 integrations × 500 spec-shaped installations
 * (buildDetailedInstallation, about 2 KB each), the fake Slack, and 3 replicas
 * of the real service (`node dist/src/main.js`, the production build) with the
 * 200 ids in AMPERSAND_INTEGRATION_IDS. Once every integration has its
 * baseline it measures N cycles:
 *
 * - a cycle is the window from one tick of the job scheduler to the next (the
 *   tick is the time BullMQ scheduled the cycle job for: the score of the
 *   scheduler in `{prefix}:poll:repeat`, sampled);
 * - an integration is polled in a cycle when its snapshot's `t` (last success,
 *   ms) takes a value inside that window; `t` is sampled often enough that no
 *   value is missed (at most 500 ms apart, 20 samples per interval);
 * - the lag of a cycle is the time from its tick to the last integration's
 *   first success in the window (no value when one was not polled in it);
 * - Redis commands per cycle are INFO commandstats over the measured cycles,
 *   less the bench's own (its samples and INFO), divided by the cycles: the
 *   replicas' idle BullMQ polling is included;
 * - each replica's peak RSS (VmHWM) and CPU time (utime + stime) are read from
 *   /proc at the end, the CPU time also at the start of the measured cycles.
 *
 *   npm run bench:scale-out -- [--cycles 20] [--interval 30] [--write]
 *
 * Every child and the redis-server are killed when the bench ends, however it
 * ends short of SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startFakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
import { startFakeSlack } from '../../src/simulator/fake-slack-server.js';
import { buildDetailedInstallation, type InstallationSpec } from '../../src/simulator/fixtures.js';
import { freePort, startPrivateRedisServer } from '../../src/simulator/private-redis-server.js';
import { BENCH_API_KEY, BENCH_PROJECT } from './load.js';
import { readCounters } from './redis-counters.js';
import { median } from './report.js';

const { values } = parseArgs({
  options: {
    integrations: { type: 'string', default: '200' },
    installations: { type: 'string', default: '500' },
    replicas: { type: 'string', default: '3' },
    cycles: { type: 'string', default: '20' },
    interval: { type: 'string', default: '30' },
    write: { type: 'boolean', default: false },
  },
});
const positive = (name: string, raw: string | undefined): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${String(raw)}`);
  return n;
};
const integrationCount = positive('integrations', values.integrations);
const perIntegration = positive('installations', values.installations);
const replicaCount = positive('replicas', values.replicas);
const cycles = positive('cycles', values.cycles);
const intervalSeconds = positive('interval', values.interval);
const intervalMs = intervalSeconds * 1000;
const sampleMs = Math.min(500, intervalMs / 20);

// The production build, as an operator runs it (`npm run build` first; the npm script does).
const MAIN = fileURLToPath(new URL('../../../dist/src/main.js', import.meta.url));
const BENCHMARKS = fileURLToPath(new URL('../../../BENCHMARKS.md', import.meta.url));
const PREFIX = 'bench-scale-out';
const SCHEDULER_ID = 'ampersand-poll-cycle';
const SECTION = 'Many integrations: 200 × 500, 3 replicas';
const START = '<!-- scale-out:start -->';
const END = '<!-- scale-out:end -->';

const uuid = (kind: string, n: number): string => `${kind}-d9cb-469f-a165-${n.toString(16).padStart(12, '0')}`;

/** The load: the statuses of the bench's (load.ts), ids unique across the integrations. */
function integrationsOfLoad(): { id: string; specs: InstallationSpec[] }[] {
  return Array.from({ length: integrationCount }, (_, k) => {
    const id = uuid('3c4d5e6f', k);
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
        healthStatus: i % 100 === 7 ? 'unhealthy' : 'healthy',
        lastOperationStatus: i % 100 < 3 ? 'failure' : i % 100 < 5 ? 'in_progress' : 'success',
        connectionStatus: i % 200 === 11 ? 'bad_credentials' : 'working',
      };
    });
    return { id, specs };
  });
}

// ---- children, and their end whatever happens -------------------------------------------------

const children: ChildProcess[] = [];
const killChildren = (): void => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
// A synchronous last resort (the private redis-server registers its own); signals are turned into an exit so it runs.
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** utime + stime of a live process, in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The peak resident set size of a live process (VmHWM), in bytes. */
function peakRssBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN) * 1024;
}

// ---- the run ---------------------------------------------------------------------------------

interface CycleFigures {
  readonly tick: number;
  readonly polled: number;
  /** Tick → the last integration's first success in the window; undefined when one was not polled in it. */
  readonly lagMs: number | undefined;
  readonly requests: number;
}

interface ReplicaFigures {
  readonly pid: number;
  readonly peakRssBytes: number;
  readonly cpuTotalS: number;
  readonly cpuMeasuredS: number;
}

interface Results {
  readonly startedAt: string;
  readonly durationS: number;
  readonly loadAtStart: readonly number[];
  readonly loadAtEnd: readonly number[];
  readonly redisVersion: string;
  readonly bodyBytes: number;
  readonly baselineS: number;
  readonly cycles: readonly CycleFigures[];
  readonly replicas: readonly ReplicaFigures[];
  readonly totalRequests: number;
  readonly redisCommandsPerCycle: number;
  readonly slackMessages: number;
}

async function run(logDir: string): Promise<Results> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  // The append-only file on, as readCounters reads its size too.
  const redisServer = await startPrivateRedisServer(undefined, { appendOnly: true });
  const ampersand = await startFakeAmpersand({ apiKey: BENCH_API_KEY, projectId: BENCH_PROJECT, buildInstallation: buildDetailedInstallation });
  const slack = await startFakeSlack();
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  try {
    const load = integrationsOfLoad();
    for (const { id, specs } of load) ampersand.setIntegration(id, 'salesforce', specs);
    const ids = load.map((l) => l.id);
    const headers = { 'X-Api-Key': BENCH_API_KEY };
    const bodyBytes = (await (await fetch(`${ampersand.url}/projects/${BENCH_PROJECT}/integrations/${ids[0]}/installations`, { headers })).arrayBuffer())
      .byteLength;
    ampersand.requests.length = 0;
    const redisVersion = /^redis_version:(\S+)/m.exec(String(await redis.call('INFO', 'server')))?.[1] ?? 'unknown';

    const replicas: ChildProcess[] = [];
    for (let r = 0; r < replicaCount; r += 1) {
      const env = {
        PATH: process.env['PATH'] ?? '',
        AMPERSAND_API_KEY: BENCH_API_KEY,
        AMPERSAND_API_URL: ampersand.url,
        AMPERSAND_PROJECT_ID: BENCH_PROJECT,
        AMPERSAND_INTEGRATION_IDS: ids.join(','),
        POLL_INTERVAL_SECONDS: String(intervalSeconds),
        REDIS_URL: redisServer.url,
        QUEUE_PREFIX: PREFIX,
        SLACK_WEBHOOK_URL: slack.webhookUrl,
        METRICS_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
      };
      const out = createWriteStream(join(logDir, `replica-${r}.log`));
      const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      children.push(child);
      replicas.push(child);
    }
    const spawnedAt = Date.now();
    const assertAlive = (): void => {
      const dead = replicas.findIndex((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead >= 0) throw new Error(`replica ${dead} exited (code ${replicas[dead]?.exitCode}); its log: ${join(logDir, `replica-${dead}.log`)}`);
    };

    // The sampler: every integration's `t` and the scheduler's next tick, in one round trip; its commands are counted to be left out.
    const snapKeys = ids.map((id) => `${PREFIX}:state:snap:${id}`);
    const successes = new Map<string, Set<number>>(ids.map((id) => [id, new Set<number>()]));
    const ticks = new Set<number>();
    let ownCommands = 0;
    const sample = async (): Promise<void> => {
      assertAlive();
      const pipeline = redis.pipeline();
      for (const key of snapKeys) pipeline.hget(key, 't');
      pipeline.zscore(`${PREFIX}:poll:repeat`, SCHEDULER_ID);
      const replies = (await pipeline.exec()) ?? [];
      ownCommands += snapKeys.length + 1;
      ids.forEach((id, i) => {
        const t = Number(replies[i]?.[1] ?? 0);
        if (t > 0) successes.get(id)?.add(t);
      });
      const next = Number(replies[ids.length]?.[1] ?? 0);
      if (next > 0) ticks.add(next);
    };
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

    // The baselines: every integration committed once (generous: 200 baselines on a busy machine).
    const baselineDeadline = Date.now() + Math.max(600_000, 20 * intervalMs);
    for (;;) {
      await sample();
      if ([...successes.values()].every((s) => s.size > 0)) break;
      if (Date.now() > baselineDeadline)
        throw new Error(`not every integration had its baseline within ${Math.round((baselineDeadline - spawnedAt) / 1000)} s`);
      await sleep(sampleMs);
    }
    const baselineS = (Date.now() - spawnedAt) / 1000;
    process.stderr.write(`baselines of ${integrationCount} integrations done in ${baselineS.toFixed(1)} s\n`);

    // The measured cycles start at the first tick after the baselines.
    const baselinesDone = Date.now();
    const firstTick = async (): Promise<number> => {
      for (;;) {
        await sample();
        const tick = [...ticks].filter((t) => t >= baselinesDone).sort((a, b) => a - b)[0];
        if (tick !== undefined && Date.now() >= tick) return tick;
        if (Date.now() > baselinesDone + 3 * intervalMs + 60_000) throw new Error('no cycle started after the baselines');
        await sleep(sampleMs);
      }
    };
    const start = await firstTick();
    const countersBefore = await readCounters(redis);
    const cpuBefore = replicas.map((c) => cpuSeconds(c.pid ?? 0));
    const ownBefore = ownCommands;
    // The window of the last cycle closes at the tick after it; a sample past it, so that its last values are seen.
    const end = (): number | undefined => [...ticks].filter((t) => t > start).sort((a, b) => a - b)[cycles - 1];
    const runDeadline = start + (cycles + 2) * intervalMs + 120_000;
    let shown = -1;
    for (;;) {
      await sleep(sampleMs);
      await sample();
      const last = end();
      if (last !== undefined && Date.now() >= last + sampleMs) break;
      if (Date.now() > runDeadline) throw new Error(`the ${cycles} cycles did not end by ${new Date(runDeadline).toISOString()}`);
      const done = [...ticks].filter((t) => t > start && t <= Date.now()).length;
      if (done !== shown) process.stderr.write(`${(shown = done)}/${cycles} cycles done\n`);
    }
    const countersAfter = await readCounters(redis);
    const ownDuring = ownCommands - ownBefore;
    const redisCommands =
      [...countersAfter.commands].reduce((sum, [name, calls]) => sum + (name === 'info' ? 0 : calls - (countersBefore.commands.get(name) ?? 0)), 0) - ownDuring;
    const replicaFigures = replicas.map((c, r): ReplicaFigures => ({
      pid: c.pid ?? 0,
      peakRssBytes: peakRssBytes(c.pid ?? 0),
      cpuTotalS: cpuSeconds(c.pid ?? 0),
      cpuMeasuredS: cpuSeconds(c.pid ?? 0) - (cpuBefore[r] ?? 0),
    }));

    const windows = [start, ...[...ticks].filter((t) => t > start).sort((a, b) => a - b)].slice(0, cycles + 1);
    const cycleFigures = windows.slice(0, cycles).map((tick, k): CycleFigures => {
      const next = windows[k + 1] ?? Number.POSITIVE_INFINITY;
      const firsts = ids.map((id) => Math.min(...[...(successes.get(id) ?? [])].filter((t) => t >= tick && t < next)));
      const polled = firsts.filter(Number.isFinite).length;
      return {
        tick,
        polled,
        lagMs: polled === ids.length ? Math.max(...firsts) - tick : undefined,
        requests: ampersand.requests.filter((r) => r.at >= tick && r.at < next).length,
      };
    });
    await Promise.all(replicas.map(stopChild));
    return {
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      loadAtStart,
      loadAtEnd: loadavg(),
      redisVersion,
      bodyBytes,
      baselineS,
      cycles: cycleFigures,
      replicas: replicaFigures,
      totalRequests: ampersand.requests.length,
      redisCommandsPerCycle: Math.round(redisCommands / cycles),
      slackMessages: slack.messages.length,
    };
  } finally {
    killChildren();
    redis.disconnect();
    await slack.close();
    await ampersand.close();
    await redisServer.stop();
  }
}

// ---- the report ------------------------------------------------------------------------------

const seconds = (ms: number | undefined): string => (ms === undefined ? 'not all polled' : `${(ms / 1000).toFixed(2)} s`);
const mb = (bytes: number): string => `${Math.round(bytes / 1e6)} MB`;

/** The median of the lags of some cycles; a cycle that missed an integration counts as the longest (its lag is over the interval). */
function medianLag(cycles: readonly CycleFigures[]): string {
  if (cycles.length === 0) return '–';
  const m = median(cycles.map((c) => c.lagMs ?? Number.POSITIVE_INFINITY));
  return Number.isFinite(m) ? seconds(m) : `over ${intervalSeconds} s (not all polled)`;
}

function render(r: Results): string {
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const head = Math.min(5, Math.floor(r.cycles.length / 2)) || r.cycles.length;
  const everyPolled = r.cycles.filter((c) => c.polled === integrationCount).length;
  const lines = [
    `Run of ${r.startedAt}: Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), redis-server ${r.redisVersion}; ` +
      `load average (1 / 5 / 15 min) ${load(r.loadAtStart)} at the start and ${load(r.loadAtEnd)} at the end; the run took ${r.durationS} s. ` +
      `${integrationCount} integrations × ${perIntegration} installations (${(r.bodyBytes / 1e6).toFixed(2)} MB per listing), ${replicaCount} replicas, ` +
      `POLL_INTERVAL_SECONDS=${intervalSeconds}, POLL_CONCURRENCY=4 (the default), ids in AMPERSAND_INTEGRATION_IDS; baselines done ${r.baselineS.toFixed(0)} s after the start; ${r.cycles.length} cycles measured.`,
    '',
    '| cycle | integrations polled | lag (tick → last integration committed) | Ampersand requests |',
    '|---:|---:|---:|---:|',
    ...r.cycles.map((c, k) => `| ${k + 1} | ${c.polled} / ${integrationCount} | ${seconds(c.lagMs)} | ${c.requests} |`),
    '',
    '| figure | measured |',
    '|---|---|',
    `| cycles in which every integration was polled | ${everyPolled} / ${r.cycles.length} |`,
    `| median lag, first ${head} cycles → last ${head} | ${medianLag(r.cycles.slice(0, head))} → ${medianLag(r.cycles.slice(-head))} |`,
    `| peak RSS per replica (VmHWM) | ${r.replicas.map((p) => mb(p.peakRssBytes)).join(', ')} |`,
    `| CPU time per replica, whole run (of which the measured cycles) | ${r.replicas.map((p) => `${p.cpuTotalS.toFixed(1)} s (${p.cpuMeasuredS.toFixed(1)} s)`).join(', ')} |`,
    `| CPU time per cycle, all replicas together | ${(r.replicas.reduce((s, p) => s + p.cpuMeasuredS, 0) / r.cycles.length).toFixed(2)} s |`,
    `| Ampersand requests, whole run (baselines included) | ${r.totalRequests.toLocaleString('en-US')} |`,
    `| Redis commands per cycle (the replicas' idle BullMQ polling included) | ${r.redisCommandsPerCycle.toLocaleString('en-US')} |`,
    `| Slack messages delivered (the baselines' summaries) | ${r.slackMessages} |`,
  ];
  return lines.join('\n');
}

const PROSE = `\`npm run bench:scale-out\` (\`scripts/bench/scale-out.ts\`; it builds the service first) starts a private
redis-server, the fake Ampersand serving 200 integrations × 500 spec-shaped installations
(\`buildDetailedInstallation\`, about 2 KB each), the fake Slack, and 3 replicas of the production build
(\`node dist/src/main.js\`) with the 200 ids in \`AMPERSAND_INTEGRATION_IDS\` and \`POLL_INTERVAL_SECONDS=30\`.
Once every integration has its baseline it measures 20 cycles. A cycle is the window from one tick of the
job scheduler (the time BullMQ scheduled the cycle job for) to the next; an integration is polled in it
when its snapshot's \`t\` (last success) falls in the window, sampled at most 500 ms apart; the lag is the
time from the tick to the last integration's success. Redis commands are INFO commandstats over the
measured cycles less the bench's own samples; peak RSS (VmHWM) and CPU time (utime + stime) are read
from \`/proc\` for each replica. \`--cycles\`, \`--interval\`, \`--write\` (writes the table below).`;

/** Puts `table` between the markers in BENCHMARKS.md, adding the section at the end if it has none; the rest is kept. */
function writeSection(table: string): void {
  let text = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, 'utf8') : '# Benchmarks\n';
  if (!text.includes(START) || !text.includes(END)) text = `${text.trimEnd()}\n\n## ${SECTION}\n\n${PROSE}\n\n${START}\n${END}\n`;
  const from = text.indexOf(START) + START.length;
  const to = text.indexOf(END, from);
  if (to < 0) throw new Error(`${BENCHMARKS}: ${END} comes before ${START}`);
  writeFileSync(BENCHMARKS, `${text.slice(0, from)}\n${table}\n${text.slice(to)}`);
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const logDir = mkdtempSync(join(tmpdir(), 'ahm-scale-out-'));
  let results: Results;
  try {
    results = await run(logDir);
  } catch (error) {
    process.stderr.write(`the replicas' logs are kept in ${logDir}\n`);
    throw error;
  }
  rmSync(logDir, { recursive: true, force: true });
  const table = render(results);
  process.stdout.write(`${table}\n`);
  if (values.write) {
    writeSection(table);
    process.stderr.write(`written to ${BENCHMARKS}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
