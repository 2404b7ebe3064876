/**
 * Routes across a deploy. The release before routes had one outbox lane
 * (`outbox:ids`, entries with destination "slack", the webhook health in
 * `slack`): what it left waiting is the default route's, and is delivered to
 * SLACK_WEBHOOK_URL in order once routes are configured. A route removed from
 * the configuration while messages wait in its lane: at the next start they
 * are moved to the default route and delivered there, not lost.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { Route } from '../../src/core/monitor-config.js';
import { encodeOutboxEntry, type OutboxEntry } from '../../src/core/outbox-entry.js';
import { startMonitor, type Monitor } from '../../src/main.js';
import { startFakeSlack, type FakeSlack } from '../../src/simulator/fake-slack-server.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { captureLogs, type CapturedLogs } from '../helpers/logger.js';
import { refOf } from '../helpers/slack.js';
import { sleep, waitFor } from '../helpers/wait.js';

let h: Harness;
let other: FakeSlack;
const monitors: Monitor[] = [];

beforeEach(async () => {
  h = await createHarness();
  other = await startFakeSlack();
  h.ampersand.setIntegration(
    'int-1',
    'salesforce',
    ['a'].map((id) => installationSpec(id)),
  );
  h.ampersand.setIntegration(
    'int-2',
    'hubspot',
    ['x'].map((id) => installationSpec(id, { integrationId: 'int-2', provider: 'hubspot' })),
  );
});
afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
  await other.close();
  await h.stop();
});

const key = (name: string): string => `${h.prefix}:state:${name}`;

const route = (name: string): Route => ({
  name,
  match: { provider: 'hubspot' },
  webhookUrl: other.webhookUrl,
  webhookSource: `routes.${name}`,
  mention: undefined,
});

async function start(routes: readonly Route[]): Promise<CapturedLogs> {
  const logs = captureLogs();
  const env = h.env({ AMPERSAND_INTEGRATION_IDS: 'int-1,int-2', ALERT_AFTER_POLLS: '1', RESOLVE_AFTER_POLLS: '1', SLACK_OUTBOX_COALESCE: 'false' });
  monitors.push(
    await startMonitor({ ...parseConfig(env), monitor: { projects: undefined, routes, silences: [], maintenance: [] } }, { logger: logs.logger, httpPort: 0 }),
  );
  return logs;
}

/** A "cannot read" message as the release before queued it: destination "slack", in the one lane. */
const legacyEntry = (id: string, reason: string): OutboxEntry => ({
  id,
  destination: 'slack',
  enqueuedAt: Date.now() - 60_000,
  notification: { kind: 'upstream', projectId: 'proj-1', state: 'down', reason, detectedAt: new Date(Date.now() - 60_000).toISOString() },
});

describe('the outbox of the release before routes', () => {
  it('is the default lane: its waiting messages, v1 and v2, go to SLACK_WEBHOOK_URL in order, and its webhook state is the default route', async () => {
    // As that release left it while its webhook was down: two entries (one in the v1 format), their metas, the channel hash.
    const [first, second] = [legacyEntry('upstream.old-1', 'first'), legacyEntry('upstream.old-2', 'second')];
    const { destination: _ignored, ...v1 } = first;
    await h.redis.rpush(key('outbox:ids'), first.id, second.id);
    await h.redis.hset(key('outbox:entries'), first.id, JSON.stringify(v1), second.id, encodeOutboxEntry(second));
    await h.redis.hset(key('outbox:meta'), first.id, 'h\t\tslack', second.id, 'h\t\tslack');
    await h.redis.hset(key('slack'), 'up', '0', 'reason', 'HTTP 404 no_service', 'since', String(Date.now() - 60_000));

    await start([route('hubspot-team')]);
    await waitFor('the two waiting messages', () => h.slack.messages.length >= 2);
    expect(h.slack.messages.slice(0, 2).map((m) => refOf(m.body))).toEqual([first.id, second.id]);
    expect(await h.redis.hget(key('slack'), 'up')).toBe('1');
    expect(await h.redis.exists(key('lane:slack:ids'), key('lane:default:ids'))).toBe(0);

    // The route works beside it: a hubspot alert goes to its own webhook.
    h.ampersand.update('int-2', 'x', { healthStatus: 'unhealthy' });
    await waitFor('the routed alert', () => other.messages.length === 1);
    expect(String(other.messages[0]?.body.text)).toContain('Customer x (org-x)');
    expect(h.slack.messages).toHaveLength(2);
  });
});

describe('a route removed from the configuration', () => {
  it('has its waiting messages moved to the default route at the next start, in order, and delivered there once', async () => {
    other.setStickyFault({ kind: 'status', status: 404, body: 'no_service' });
    await start([route('gone')]);
    await waitFor('the baselines', async () => (await h.redis.exists(key('snap:int-1'), key('snap:int-2'))) === 2);
    h.ampersand.update('int-2', 'x', { healthStatus: 'unhealthy' });
    await waitFor('the route found broken', async () => (await h.redis.hget(key('lane:gone:slack'), 'up')) === '0');
    h.ampersand.update('int-2', 'x', { healthStatus: 'healthy' });
    await waitFor('two messages waiting in the lane', async () => (await h.redis.llen(key('lane:gone:ids'))) === 2);
    const waiting = await h.redis.lrange(key('lane:gone:ids'), 0, -1);
    await Promise.all(monitors.splice(0).map((m) => m.close()));

    const logs = await start([]);
    await waitFor('the moved messages on the default webhook', () => h.slack.messages.length === 2, 20_000);
    await sleep(1000);
    expect(h.slack.messages.map((m) => refOf(m.body))).toEqual(waiting);
    expect(h.texts()[0]).toMatch(/^\[FIRING:1\].*Customer x/);
    expect(h.texts()[1]).toMatch(/^\[RESOLVED:1\].*Customer x/);
    expect(other.messages).toEqual([]);
    expect(await h.redis.exists(key('lane:gone:ids'), key('lane:gone:slack'))).toBe(0);
    // The name stays known: a replica still on the old configuration may append to the lane, and every cycle moves that too.
    expect(await h.redis.smembers(key('lanes'))).toEqual(['gone']);
    const lines = logs.lines();
    expect(lines.find((l) => String(l['msg']).startsWith('route gone is no longer in the monitor configuration'))).toMatchObject({ route: 'gone', moved: 2 });
    expect(lines.filter((l) => String(l['msg']).includes('which is no longer configured; it is delivered to the default route'))).toHaveLength(2);
  });
});
