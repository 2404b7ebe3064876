/**
 * A lockstep chaos run against real worker processes (`node dist/src/main.js`):
 * the test changes the fake Ampersand's state at random, waits until the
 * monitor has committed exactly that state, and meanwhile SIGKILLs worker
 * processes at random moments and restarts them. The alerts the core policy
 * expects for that sequence of states are compared with what the fake Slack
 * received, message by message (each carries its outbox id as `ref`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { AlertPolicy } from '../../src/core/alert-state.js';
import { parseInstallationList } from '../../src/core/installation.js';
import { planPoll, type StoredPollState } from '../../src/core/poll-plan.js';
import { renderSlackMessage } from '../../src/core/slack-message.js';
import { buildInstallation, type InstallationSpec } from '../../src/simulator/fixtures.js';
import { freePort, type Harness } from '../helpers/harness.js';
import { refOf } from '../helpers/slack.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { contentOf, storedContent } from '../helpers/snapshot-content.js';

const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ChaosOptions {
  readonly label: string;
  readonly processes: number;
  readonly steps: number;
  /** Mean time between SIGKILLs, exponentially distributed. */
  readonly killMeanMs: number;
  readonly seed: number;
  readonly env: Record<string, string>;
  /**
   * SIGKILL the (single) worker every Nth time Slack accepts a message, before
   * Slack's OK reaches it: the one window no design closes, hit on purpose.
   */
  readonly killOnSlackAcceptEvery?: number;
}

export interface ChaosFigures {
  readonly label: string;
  readonly seed: number;
  readonly processes: number;
  readonly steps: number;
  readonly polls: number;
  readonly kills: number;
  readonly killsOnSlackAccept: number;
  readonly expectedMessages: number;
  readonly receivedMessages: number;
  readonly lost: number;
  /** Received messages that match no expected one. */
  readonly falseAlerts: number;
  /** Duplicates outside the known window: must be 0. */
  readonly duplicated: number;
  /** Duplicates whose first copy was accepted by Slack just before a SIGKILL: the known window. */
  readonly windowDuplicates: number;
  readonly outOfOrder: number;
  readonly schedulers: number;
  /** Slack OK → outbox pop, as the workers logged it (ms): the size of the re-send window. */
  readonly windowMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly seconds: number;
}

const FIELDS: { key: 'healthStatus' | 'lastOperationStatus' | 'connectionStatus'; values: (string | undefined)[] }[] = [
  { key: 'healthStatus', values: ['healthy', 'unhealthy'] },
  { key: 'lastOperationStatus', values: ['success', 'failure', 'in_progress', undefined] },
  { key: 'connectionStatus', values: ['created', 'working', 'bad_credentials'] },
];

export const INTEGRATIONS = ['int-1', 'int-2'] as const;

/** Worker settings of the chaos runs: fast polls, short job locks, Slack paced only lightly. */
export const CHAOS_ENV: Record<string, string> = {
  AMPERSAND_INTEGRATION_IDS: INTEGRATIONS.join(','),
  POLL_INTERVAL_SECONDS: '0.2',
  // Takeovers within about a second keep the runs short; the config allows it only with this flag.
  MONITOR_JOB_LOCK_SECONDS: '1',
  MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS: 'true',
  // The flag above is accepted only in tests.
  NODE_ENV: 'test',
  SLACK_MESSAGES_PER_SECOND: '50',
  UPSTREAM_DEGRADED_AFTER_CYCLES: '1000',
  LOG_LEVEL: 'info',
  // Every change alerts on the poll that sees it and no reminder comes: however many times the
  // monitor polls one lockstep state, it sends what one poll of it sends, so the model can say what.
  ALERT_AFTER_POLLS: '1',
  RESOLVE_AFTER_POLLS: '1',
  // One message per committed poll, as the model predicts them: merging waiting digests (tested in
  // test/e2e/outbox-priority.test.ts and the outbox contracts) would change which message carries an event.
  SLACK_OUTBOX_COALESCE: 'false',
  REMIND_INTERVAL_SECONDS: '0',
  // The messages' text does not carry failure details; the look-ups would only add load.
  FAILURE_DETAILS_PER_CYCLE: '0',
};

/** The alert policy of CHAOS_ENV, for the model. */
const CHAOS_POLICY: AlertPolicy = { alertAfterPolls: 1, resolveAfterPolls: 1, remindIntervalMs: 0 };

export async function runChaos(h: Harness, redis: Redis, options: ChaosOptions): Promise<ChaosFigures> {
  const random = rng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const started = Date.now();
  const logDir = mkdtempSync(join(tmpdir(), `ahm-${options.label}-`));

  // The model: the fake's state per integration, and the snapshot the monitor should hold.
  let nextId = 0;
  const newInstallation = (integrationId: string): InstallationSpec => {
    nextId += 1;
    return {
      id: `i${nextId}`,
      projectId: 'proj-1',
      integrationId,
      groupRef: `org-${nextId}`,
      groupName: `Customer ${nextId}`,
      provider: integrationId === 'int-1' ? 'salesforce' : 'hubspot',
      healthStatus: pick(['healthy', 'healthy', 'unhealthy']),
      lastOperationStatus: pick(['success', 'success', 'failure', 'in_progress', undefined]),
      connectionStatus: pick(['working', 'working', 'created', 'bad_credentials']),
    };
  };
  const expectedTexts = new Map<string, string[]>(INTEGRATIONS.map((id) => [id, []]));
  // What the monitor should have stored per integration; version and lineage do not matter to the texts.
  const stored = new Map<string, StoredPollState | undefined>(INTEGRATIONS.map((id) => [id, undefined]));
  const observe = (integrationId: string): string => {
    const parsed = parseInstallationList(h.ampersand.installations(integrationId).map(buildInstallation));
    if (!parsed.ok) throw new Error(parsed.error);
    // The same plan as the poll job's; the time only shows in detectedAt, which the texts do not carry.
    const before = stored.get(integrationId);
    const plan = planPoll(
      before,
      parsed.installations,
      new Date(0),
      { integrationId, projectId: 'proj-1', newLineage: () => 'model' },
      { policy: CHAOS_POLICY },
    );
    const alertStates = plan.alertStates ?? before?.alertStates;
    stored.set(integrationId, {
      version: plan.version,
      lineage: plan.lineage,
      projectId: plan.projectId,
      snapshot: plan.snapshot,
      ...(alertStates === undefined ? {} : { alertStates }),
    });
    for (const { notification } of plan.notifications) expectedTexts.get(integrationId)?.push(renderSlackMessage(notification).text);
    // Compared without `since`: the model plans at time 0, the service at the poll's time.
    return contentOf(plan.snapshot) ?? '';
  };

  // The model renders ids: no display name in the catalog (GET /providers), so the texts do not
  // depend on whether a killed process's provider-name cache had been filled when it polled.
  for (const provider of ['salesforce', 'hubspot']) h.ampersand.setProviderDisplayName(provider, undefined);
  for (const id of INTEGRATIONS) {
    h.ampersand.setIntegration(
      id,
      id === 'int-1' ? 'salesforce' : 'hubspot',
      Array.from({ length: id === 'int-1' ? 6 : 4 }, () => newInstallation(id)),
    );
  }

  // Worker processes; one that dies while the chaos runs is restarted in its slot.
  const live: (ChildProcess | undefined)[] = [];
  let spawned = 0;
  let chaos = true;
  // One metrics port per slot (the config refuses 0): a restarted worker reuses its dead predecessor's.
  const ports: number[] = [];
  for (let slot = 0; slot < options.processes; slot += 1) ports.push(await freePort());
  const spawnWorker = (slot: number): void => {
    spawned += 1;
    const out = createWriteStream(join(logDir, `worker-${slot}-${spawned}.log`));
    const env = { PATH: process.env['PATH'], ...h.env(options.env), METRICS_PORT: String(ports[slot]) };
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    child.once('exit', () => {
      if (chaos) spawnWorker(slot);
    });
    live[slot] = child;
  };
  for (let slot = 0; slot < options.processes; slot += 1) spawnWorker(slot);

  const kills: number[] = [];
  let killsOnSlackAccept = 0;
  const kill = (slot: number): void => {
    const child = live[slot];
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    kills.push(Date.now());
    child.kill('SIGKILL');
  };
  const every = options.killOnSlackAcceptEvery;
  if (every !== undefined) {
    let accepted = 0;
    h.slack.setOnMessage(() => {
      accepted += 1;
      if (accepted % every === 0 && chaos) {
        killsOnSlackAccept += 1;
        kill(0);
      }
    });
  }
  const killer = (async () => {
    while (chaos) {
      await sleep(-Math.log(1 - random()) * options.killMeanMs);
      if (chaos) kill(Math.floor(random() * options.processes));
    }
  })();

  const snapKey = (id: string): string => `${h.prefix}:state:snap:${id}`;
  const waitForModel = async (step: number): Promise<void> => {
    const wanted = INTEGRATIONS.map((id) => observe(id));
    await waitFor(
      `step ${step}: the monitor to commit the new state (logs in ${logDir})`,
      async () => {
        const stored = await Promise.all(INTEGRATIONS.map(async (id) => storedContent(await redis.hget(snapKey(id), 'd'))));
        return stored.every((d, i) => d === wanted[i]);
      },
      60_000,
    );
  };

  try {
    await waitForModel(0);
    for (let step = 1; step <= options.steps; step += 1) {
      for (let change = 0, n = 1 + Math.floor(random() * 2); change < n; change += 1) {
        const integrationId = pick(INTEGRATIONS);
        const list = h.ampersand.installations(integrationId);
        const roll = random();
        if (roll < 0.08) h.ampersand.add(integrationId, newInstallation(integrationId));
        else if (roll < 0.16 && list.length > 1) h.ampersand.remove(integrationId, pick(list).id);
        else {
          const target = pick(list);
          const field = pick(FIELDS);
          const value = pick(field.values.filter((v) => v !== target[field.key]));
          h.ampersand.update(integrationId, target.id, { [field.key]: value });
        }
      }
      await waitForModel(step);
    }
  } finally {
    chaos = false;
    h.slack.setOnMessage(undefined);
    await killer;
  }
  // Processes killed last are started again without chaos, to finish delivery.
  for (const [slot, child] of live.entries()) if (!child || child.exitCode !== null || child.signalCode !== null) spawnWorker(slot);

  const expected = [...expectedTexts.values()].reduce((sum, list) => sum + list.length, 0);
  await waitFor(
    `every expected message (${expected}) to arrive (logs in ${logDir})`,
    async () => (await redis.llen(`${h.prefix}:state:outbox:ids`)) === 0 && new Set(h.slack.messages.map((m) => refOf(m.body))).size >= expected,
    120_000,
  ).catch(() => undefined);
  await sleep(1500);

  // Compare, per integration and in order, the unique messages received with the expected ones.
  const byRef = new Map<string, { text: string; at: number[] }>();
  for (const m of h.slack.messages) {
    const ref = refOf(m.body);
    const entry = byRef.get(ref);
    if (entry) entry.at.push(m.at);
    else byRef.set(ref, { text: String(m.body.text), at: [m.at] });
  }
  let lost = 0;
  let outOfOrder = 0;
  for (const id of INTEGRATIONS) {
    const prefix = `${encodeURIComponent(id)}.`;
    const received = [...byRef.entries()].filter(([ref]) => ref.startsWith(prefix)).map(([, v]) => v.text);
    const wanted = expectedTexts.get(id) ?? [];
    const remaining = [...received];
    for (const text of wanted) {
      const at = remaining.indexOf(text);
      if (at === -1) lost += 1;
      else remaining.splice(at, 1);
    }
    // Order: the received texts, minus the lost, must be the expected sequence.
    const inOrder = wanted.filter((t) => received.includes(t));
    if (JSON.stringify(received.filter((t) => wanted.includes(t))) !== JSON.stringify(inOrder)) outOfOrder += 1;
  }
  const schedulers = await redis.zcard(`${h.prefix}:poll:repeat`);
  await Promise.all(
    live.map(async (child) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }),
  );

  // How many times each entry was popped as delivered, from the workers' own logs: an entry
  // sent twice but popped once was re-sent because the first sender died before its pop.
  const logLines = readdirSync(logDir).flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n'));
  const poppedAsDelivered = new Map<string, number>();
  for (const line of logLines) {
    if (!line.includes('"msg":"notification delivered"')) continue;
    const id = /"notificationId":"([^"]+)"/.exec(line)?.[1];
    if (id !== undefined) poppedAsDelivered.set(id, (poppedAsDelivered.get(id) ?? 0) + 1);
  }
  let duplicated = 0;
  let windowDuplicates = 0;
  for (const [ref, { at }] of byRef.entries()) {
    const first = at[0] ?? 0;
    for (const later of at.slice(1)) {
      // The window is Slack accepting → the outbox pop: one local Redis call, a few ms, so a kill
      // within 50 ms of the accept is in it. On a loaded machine the pop can come later: a kill
      // between the two sends also counts when the entry was popped at most once (the first
      // sender never got to its pop). Two pops of one entry are a real duplicate, whatever the kills.
      const killedRightAfter = kills.some((k) => k >= first && k <= Math.min(later, first + 50));
      const killedBeforeItsPop = kills.some((k) => k >= first && k <= later) && (poppedAsDelivered.get(ref) ?? 0) <= 1;
      if (killedRightAfter || killedBeforeItsPop) windowDuplicates += 1;
      else duplicated += 1;
    }
  }
  const allExpected = [...expectedTexts.values()].flat();
  const falseAlerts = [...byRef.values()].filter((v) => !allExpected.includes(v.text)).length;

  const windows = logLines
    .map((line) => /"windowMs":([\d.]+)/.exec(line)?.[1])
    .filter((w): w is string => w !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const quantile = (q: number): number => windows[Math.min(windows.length - 1, Math.floor(q * windows.length))] ?? 0;

  const figures: ChaosFigures = {
    label: options.label,
    seed: options.seed,
    processes: options.processes,
    steps: options.steps,
    polls: h.ampersand.requests.filter((r) => r.path.endsWith('/installations')).length,
    kills: kills.length,
    killsOnSlackAccept,
    expectedMessages: expected,
    receivedMessages: h.slack.messages.length,
    lost,
    falseAlerts,
    duplicated,
    windowDuplicates,
    outOfOrder,
    schedulers,
    windowMs: { p50: quantile(0.5), p99: quantile(0.99), max: windows[windows.length - 1] ?? 0 },
    seconds: Math.round((Date.now() - started) / 1000),
  };
  console.log(`FAULT-FIGURES ${JSON.stringify(figures)}`);
  return figures;
}
