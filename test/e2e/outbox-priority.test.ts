/**
 * The outbox end to end, with the real service, Redis, BullMQ and the strict
 * fake Slack: the monitor's own "cannot read Ampersand" message does not wait
 * behind a backlog of another integration's alerts; a mass event of 500
 * installations is one message Slack takes; digests of one integration that
 * wait are merged into one. The backlogs are committed with the Redis store
 * itself, as the poll job does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores } from '../../src/adapters/redis/stores.js';
import type { AlertItem } from '../../src/core/alert-policy.js';
import { buildAlertDigests, type AlertEventItem } from '../../src/core/alert-notification.js';
import { MESSAGE_LIMITS, blockTextLength } from '../../src/core/slack-message.js';
import type { OutboxEntry } from '../../src/ports.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { alertsEntry, snap } from '../helpers/store-builders.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.stop();
});

const outboxIds = (): Promise<string[]> => h.redis.lrange(`${h.prefix}:state:outbox:ids`, 0, -1);

/** Commits `entries` to the outbox as one poll of `integrationId` would. */
async function commitEntries(integrationId: string, entries: OutboxEntry[], version = 1): Promise<void> {
  const { snapshots } = createRedisStores({ redis: h.redis, prefix: h.prefix });
  const result = await snapshots.commit({
    integrationId,
    expectedVersion: version === 1 ? undefined : version - 1,
    version,
    lineage: 'L',
    projectId: 'proj-1',
    snapshot: snap('z'),
    nowMs: Date.now(),
    outbox: entries,
  });
  expect(result.committed).toBe(true);
}

/** One firing of the release's transitions kind per installation: low priority, one message each. */
const firing = (integrationId: string, i: number): OutboxEntry => {
  const item: AlertItem = {
    severity: 'problem',
    change: 'changed',
    installationId: `inst-${i}`,
    groupRef: `org-${i}`,
    groupName: `Customer ${i}`,
    provider: 'hubspot',
    field: 'health_status',
    from: 'healthy',
    to: 'unhealthy',
  };
  return {
    id: `${integrationId}.L.1.${i + 1}`,
    destination: 'slack',
    enqueuedAt: Date.now(),
    notification: { kind: 'transitions', projectId: 'proj-1', integrationId, detectedAt: new Date().toISOString(), items: [item], part: i + 1, parts: 100 },
  };
};

describe('the outbox', () => {
  it("delivers the monitor's own 'cannot read Ampersand' message before a backlog of another integration's 100 queued alerts", async () => {
    await commitEntries(
      'int-2',
      Array.from({ length: 100 }, (_, i) => firing('int-2', i)),
    );
    // Slack fails for now: the head waits, and the backlog with it.
    h.slack.setStickyFault({ kind: 'status', status: 503, body: 'unavailable' });
    await h.start({ AMPERSAND_API_KEY: 'a-key-ampersand-rejects', SLACK_MESSAGES_PER_SECOND: '20' });
    // The rejected key opens the upstream alert at the first poll; it goes behind the head, not behind the 99.
    await waitFor('the upstream alert in the outbox', async () => (await outboxIds()).some((id) => id.startsWith('upstream.')), 15_000);
    const ids = await outboxIds();
    expect(ids).toHaveLength(101);
    expect(ids[1]).toMatch(/^upstream\./);

    h.slack.setStickyFault(undefined);
    await waitFor('two messages', () => h.slack.messages.length >= 2, 20_000);
    const [first, second] = h.texts();
    expect(first).toMatch(/^\[FIRING:1\] Ampersand integration int-2/);
    expect(second).toMatch(/^\[FIRING\] the monitor cannot read Ampersand project proj-1: unauthorized/);
    await waitFor('the whole backlog', () => h.slack.messages.length === 101, 30_000);
    expect(h.texts().filter((t) => t.startsWith('[FIRING:1] Ampersand integration int-2'))).toHaveLength(100);
  }, 60_000);

  it('sends a mass event of 500 installations as one message, which Slack takes', async () => {
    const events: AlertEventItem[] = Array.from({ length: 500 }, (_, i) => ({
      installationId: `${(0x1000_0000 + i * 7919).toString(16)}-8c1e-4d2b-9f3a-${String(i).padStart(12, '0')}`,
      groupRef: `org_${String(i).padStart(4, '0')}_eu-west-1_prod_tenant`,
      groupName: `Customer ${i} Holdings International Limited`,
      provider: 'salesforce',
      condition: 'unhealthy',
      event: 'fire',
      since: Date.now() - 120_000,
      firedAt: Date.now(),
    }));
    const digests = buildAlertDigests(
      {
        projectId: 'proj-1',
        integrationId: 'int-2',
        integrationName: 'Salesforce sync',
        detectedAt: new Date().toISOString(),
        installations: 800,
        firing: { unhealthy: 500, operation_failing: 0, bad_credentials: 0 },
      },
      events,
    );
    expect(digests).toHaveLength(1);
    await commitEntries(
      'int-2',
      digests.map((notification) => ({ id: 'int-2.L.2.1', destination: 'slack', enqueuedAt: Date.now(), notification })),
    );
    await h.start();
    await waitFor('the message', () => h.slack.messages.length === 1, 15_000);
    await waitFor('an empty outbox', async () => (await outboxIds()).length === 0);
    expect(h.slack.attempts.filter((a) => a.status !== 200)).toEqual([]);
    const [message] = h.slack.messages;
    expect(blockTextLength(message?.body.blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
    expect(String(message?.body.text)).toMatch(
      /^\[MASS FIRING:500\] Ampersand integration Salesforce sync \(int-2\): 500 of 800 installations started failing/,
    );
  }, 30_000);

  it('merges the digests of one integration that wait, and sends them as one message', async () => {
    // The head (another integration) waits for Slack; int-1's three digests behind it become one.
    h.slack.setStickyFault({ kind: 'status', status: 503, body: 'unavailable' });
    await commitEntries('int-9', [alertsEntry('int-9.L.1.1', 'int-9', ['head'])]);
    for (const [version, installation] of [['x'], ['y'], ['z']].entries()) {
      await commitEntries('int-3', [alertsEntry(`int-3.L.${version + 1}.1`, 'int-3', installation)], version + 1);
    }
    expect(await outboxIds()).toEqual(['int-9.L.1.1', 'int-3.L.1.1']);
    await h.start({ SLACK_MESSAGES_PER_SECOND: '20' });
    h.slack.setStickyFault(undefined);
    await waitFor('two messages', () => h.slack.messages.length === 2, 20_000);
    const merged = JSON.stringify(h.slack.messages[1]?.body.blocks);
    for (const id of ['x', 'y', 'z']) expect(merged).toContain(`\`${id}\``);
    expect(merged).toContain('merged from 3 polls');
  }, 30_000);
});
