/**
 * `dead-letters list` and `dead-letters replay`, run as the built CLI: dead
 * letters made by the real service (Slack refused the message) or by the
 * Redis stores, and a replayed one delivered by a running service to the fake Slack.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores, type RedisStores } from '../../src/adapters/redis/stores.js';
import type { OutboxEntry } from '../../src/ports.js';
import { installationSpec } from '../helpers/builders.js';
import { linesOf, runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { snap } from '../helpers/store-builders.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
let stores: RedisStores;
let cliEnv: Record<string, string | undefined>;

beforeEach(async () => {
  h = await createHarness();
  stores = createRedisStores({ redis: h.redis, prefix: h.prefix });
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy' })]);
  cliEnv = { ...h.env(), LOG_LEVEL: 'info' };
});

afterEach(async () => {
  await h.stop();
});

/** An outbox entry about one installation, detected at `detectedAt`. */
const letter = (id: string, installationId: string, detectedAt = '2026-05-01T10:00:00.000Z'): OutboxEntry => ({
  id,
  destination: 'slack',
  enqueuedAt: Date.parse(detectedAt) || Date.UTC(2026, 4, 1),
  notification: {
    kind: 'transitions',
    projectId: 'proj-1',
    integrationId: 'int-1',
    detectedAt,
    part: 1,
    parts: 1,
    items: [
      {
        severity: 'problem',
        change: 'changed',
        installationId,
        groupRef: 'org',
        groupName: 'Org',
        provider: 'salesforce',
        field: 'health_status',
        from: 'healthy',
        to: 'unhealthy',
      },
    ],
  },
});

/** Dead-letters `entries` through the outbox (each in the lane of its route), as delivery does when Slack refuses them. */
async function deadLetter(entries: OutboxEntry[]): Promise<void> {
  await stores.snapshots.commit({
    integrationId: 'int-9',
    expectedVersion: undefined,
    version: 1,
    lineage: 'L',
    projectId: 'proj-1',
    snapshot: snap('a'),
    nowMs: 1,
    outbox: entries,
  });
  // Each from the lane of its route, as delivery dead-letters it.
  for (const e of entries) await (e.destination === 'slack' ? stores.outbox : stores.lane(e.destination)).pop(e.id, true);
}

describe('ampersand-health-monitor dead-letters', () => {
  it('lists a message Slack refused, and replays it: a running service then delivers it under its new id', async () => {
    // The baseline summary (b is already unhealthy) is refused in both forms: a dead letter.
    h.slack.inject({ kind: 'status', status: 400, body: 'invalid_payload' }, { kind: 'status', status: 400, body: 'invalid_payload' });
    await h.start();
    await waitFor('a dead letter', async () => (await stores.outbox.deadLetters()).length === 1);
    const [dead] = await stores.outbox.deadLetters();
    const id = dead?.id ?? '';

    const list = await runCli(['dead-letters', 'list'], cliEnv);
    expect({ code: list.code, stderr: list.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = linesOf(list.stdout);
    expect(lines[0]).toMatch(/^ID\s+DETECTED\s+DESTINATION\s+KIND\s+SUMMARY$/);
    expect(lines[1]?.split(/\s{2,}/)).toEqual([
      id,
      expect.stringMatching(/^\S+Z \(\d+ s ago\)$/),
      'default',
      'baseline',
      'int-1: first look, 1 installation(s) need attention: b health_status unhealthy',
    ]);
    expect(lines.slice(2)).toEqual(['', '1 dead letter(s), oldest first.', 'Replay: ampersand-health-monitor dead-letters replay ID... (or --all)']);
    const json = JSON.parse((await runCli(['dead-letters', 'list', '--json'], cliEnv)).stdout) as unknown;
    expect(json).toEqual({
      deadLetters: [
        {
          id,
          destination: 'default',
          kind: 'baseline',
          detectedAt: dead?.notification.detectedAt,
          enqueuedAt: new Date(dead?.enqueuedAt ?? 0).toISOString(),
          summary: 'int-1: first look, 1 installation(s) need attention: b health_status unhealthy',
          notification: dead?.notification,
        },
      ],
      unreadable: 0,
    });

    const replay = await runCli(['dead-letters', 'replay', id], cliEnv);
    expect({ code: replay.code, stderr: replay.stderr }).toEqual({ code: 0, stderr: '' });
    const newId = /→ (\S+)$/m.exec(replay.stdout)?.[1] ?? '';
    expect(newId).toMatch(new RegExp(`^${id.replace(/\./g, '\\.')}\\.replay-[0-9a-f]{8}$`));
    expect(linesOf(replay.stdout)).toEqual([
      'Replayed 1 dead letter(s) into the outbox, under new ids:',
      `  ${id} → ${newId}`,
      expect.stringMatching(
        /^The outbox holds [01] message\(s\), these last\. A running service sends them in order: .*\(every 1 s, POLL_INTERVAL_SECONDS\)\.$/,
      ),
    ]);
    await waitFor('the replayed message in Slack', () => h.slack.messages.some((m) => m.raw.includes(newId)), 15_000);
    expect(h.slack.messages.find((m) => m.raw.includes(newId))?.raw).toContain('BASELINE');
    expect(await stores.outbox.deadLetters()).toEqual([]);
    expect((await runCli(['dead-letters', 'list'], cliEnv)).stdout).toBe('No dead letters.\n');
  }, 40_000);

  it('replays nothing when an ID is not a dead letter, naming it; --all replays every readable one, in order', async () => {
    await deadLetter([letter('int-1.L.2.1', 'a'), letter('int-1.L.3.1', 'b')]);
    await h.redis.rpush(`${h.prefix}:state:dead:ids`, 'garbled');
    await h.redis.hset(`${h.prefix}:state:dead:entries`, 'garbled', '{"not":"an entry"');

    const unknown = await runCli(['dead-letters', 'replay', 'int-1.L.2.1', 'no-such-id', 'garbled'], cliEnv);
    expect({ code: unknown.code, stdout: unknown.stdout }).toEqual({ code: 1, stdout: '' });
    expect(linesOf(unknown.stderr)).toEqual([
      'ampersand-health-monitor dead-letters replay: not a dead letter: "no-such-id"; cannot be read: "garbled"; nothing was replayed (see ampersand-health-monitor dead-letters list)',
    ]);
    expect(await stores.outbox.size()).toBe(0);

    const list = await runCli(['dead-letters', 'list'], cliEnv);
    expect(linesOf(list.stdout).at(-1)).toBe('1 more cannot be read (not shown; they cannot be replayed).');

    const all = await runCli(['dead-letters', 'replay', '--all'], cliEnv);
    expect(all.code).toBe(0);
    expect(linesOf(all.stdout).slice(1, 3)).toEqual([
      expect.stringMatching(/^ {2}int-1\.L\.2\.1 → int-1\.L\.2\.1\.replay-\w{8}$/),
      expect.stringMatching(/^ {2}int-1\.L\.3\.1 → /),
    ]);
    expect((await stores.outbox.head())?.entry?.notification).toEqual(letter('x', 'a').notification);
    expect(await stores.outbox.size()).toBe(2);
    expect((await stores.outbox.channelStatus()).deadLetters).toBe(1);

    const again = await runCli(['dead-letters', 'replay', '--all'], cliEnv);
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: 'No dead letters to replay.\n' });
  });

  it('replays the letter of a route no longer in the monitor configuration into the default lane, which a worker serves', async () => {
    const routed = { ...letter('int-1.L.4.1', 'a'), destination: 'sales' };
    await deadLetter([routed]);
    expect((await stores.outbox.channelStatus()).deadLetters).toBe(1);
    // No MONITOR_CONFIG: no route is configured, so none of "sales" has a worker.
    const { code } = await runCli(['dead-letters', 'replay', '--all'], cliEnv);
    expect(code).toBe(0);
    expect(await stores.lane('sales').size()).toBe(0);
    expect((await stores.outbox.head())?.entry).toMatchObject({ destination: 'sales', notification: routed.notification });
  });

  it('says delivery is paused when the Slack webhook is down', async () => {
    await deadLetter([letter('int-1.L.2.1', 'a')]);
    await stores.outbox.markChannelDown('HTTP 404 no_service', Date.UTC(2026, 4, 1, 9));
    const { stdout } = await runCli(['dead-letters', 'replay', 'int-1.L.2.1'], cliEnv);
    expect(linesOf(stdout).at(-1)).toBe(
      'Delivery is paused: the Slack webhook does not work since 2026-05-01T09:00:00Z (HTTP 404 no_service); they are sent once it works again.',
    );
  });

  it('keeps a hostile installation id on its row in the list', async () => {
    await deadLetter([letter('int-1.L.2.1', 'evil\n\u001b[2J\u001b]0;x\u0007id', 'not a time\u001b[31m')]);
    const { stdout } = await runCli(['dead-letters', 'list'], cliEnv);
    // eslint-disable-next-line no-control-regex -- control characters are what must not be there
    expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(linesOf(stdout)[1]?.split(/\s{2,}/)).toEqual([
      'int-1.L.2.1',
      'not a time',
      'slack',
      'transitions',
      'int-1: 1 problem(s), 0 recovery(ies): evil id health_status healthy → unhealthy',
    ]);
  });

  it('refuses replay with both --all and IDs, or with neither, with exit 2, before it opens Redis', async () => {
    const noRedis = { ...cliEnv, REDIS_URL: 'redis://127.0.0.1:1' };
    const both = await runCli(['dead-letters', 'replay', '--all', 'x'], noRedis);
    const neither = await runCli(['dead-letters', 'replay'], noRedis);
    expect([both.code, neither.code]).toEqual([2, 2]);
    expect(linesOf(both.stderr)).toEqual([
      'ampersand-health-monitor dead-letters replay: --all and IDs do not go together; see ampersand-health-monitor dead-letters replay --help',
    ]);
    expect(linesOf(neither.stderr)).toEqual([
      'ampersand-health-monitor dead-letters replay: name the dead letters to replay (IDs) or --all; see ampersand-health-monitor dead-letters replay --help',
    ]);
  });
});

describe('dead-letters replay with routes', () => {
  it('puts each dead letter back in the lane of its route, and lists each with its route', async () => {
    await deadLetter([letter('int-1.L.2.1', 'a'), { ...letter('int-1.L.2.2', 'b'), destination: 'sales' }]);
    // The second went to the lane of "sales", and was dead-lettered there.
    const sales = stores.lane('sales');
    const list = linesOf((await runCli(['dead-letters', 'list'], cliEnv)).stdout);
    expect(list.slice(1, 3).map((l) => l.split(/\s{2,}/)[2])).toEqual(['slack', 'sales']);

    // The route is in the monitor configuration: its letters go back to its lane.
    const dir = mkdtempSync(join(tmpdir(), 'ahm-replay-'));
    const file = join(dir, 'monitor.yaml');
    writeFileSync(file, `routes:\n  - name: sales\n    match: { provider: hubspot }\n    webhookUrl: ${String(cliEnv['SLACK_WEBHOOK_URL'])}\n`);
    const replay = await runCli(['dead-letters', 'replay', '--all'], { ...cliEnv, MONITOR_CONFIG: file }).finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    );
    expect(replay.code).toBe(0);
    expect(await stores.outbox.headId()).toMatch(/^int-1\.L\.2\.1\.replay-/);
    expect(await sales.headId()).toMatch(/^int-1\.L\.2\.2\.replay-/);
    expect(await stores.outbox.size()).toBe(1);
    expect(await sales.size()).toBe(1);
  });
});
