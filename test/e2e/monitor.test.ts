import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { sleep, waitFor } from '../helpers/wait.js';

let h: Harness;

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [
    installationSpec('a'),
    installationSpec('b', { healthStatus: 'unhealthy', groupName: '<!channel> Corp' }),
    installationSpec('c', { lastOperationStatus: undefined }),
  ]);
});

afterEach(async () => {
  await h.stop();
});

const snapshotVersion = async (): Promise<string | null> => h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v');
const polls = (): number => h.ampersand.requests.filter((r) => r.path.endsWith('/installations')).length;

describe('the monitor, end to end', () => {
  it('takes a baseline with one summary, then alerts each problem once after two bad polls, and its recovery', async () => {
    await h.start();
    await waitFor('the baseline summary', () => h.texts().length === 1);
    expect(h.texts()[0]).toBe(
      '[BASELINE] Ampersand integration int-1: monitoring started, already needing attention: b (group "&lt;!channel&gt; Corp" org-b, salesforce) health_status is unhealthy',
    );

    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the problem alert', () => h.texts().length === 2);
    expect(h.texts()[1]).toBe('[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer a (org-a)');

    h.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    h.ampersand.update('int-1', 'c', { lastOperationStatus: 'failure' });
    await waitFor('the next alert', () => h.texts().length === 3);
    // The recovery of a and the failure of c both take two polls (ALERT_AFTER_POLLS, RESOLVE_AFTER_POLLS): one digest.
    expect(h.texts()[2]).toBe(
      '[FIRING:1, RESOLVED:1] integration int-1: Salesforce reads failing — Customer c (org-c); Salesforce recovered: unhealthy — Customer a (org-a)',
    );

    // Several quiet cycles later, nothing more was sent.
    const seen = polls();
    await waitFor('three more polls', () => polls() >= seen + 3);
    expect(h.texts()).toHaveLength(3);
  });

  it('exports the shared state on /metrics, and drops the series of removed installations', async () => {
    await h.start();
    await waitFor('the baseline', async () => (await snapshotVersion()) !== null);
    let text = await h.metrics();
    const labels = { project_id: 'proj-1', integration_id: 'int-1', installation_id: 'b', group_ref: 'org-b', provider: 'salesforce' };
    expect(sample(text, 'ampersand_installation_health_status', { ...labels, status: 'unhealthy' })).toBe(1);
    expect(sample(text, 'ampersand_installation_health_status', { ...labels, status: 'healthy' })).toBe(0);
    expect(sample(text, 'ampersand_installation_last_operation_status', { installation_id: 'c', status: 'unknown' })).toBe(1);
    expect(sample(text, 'ampersand_installation_last_operation_status', { installation_id: 'c', status: 'success' })).toBe(0);
    expect(sample(text, 'ampersand_installation_connection_status', { ...labels, status: 'working' })).toBe(1);
    expect(sample(text, 'ampersand_installation_connection_status', { ...labels, status: 'bad_credentials' })).toBe(0);
    expect(sample(text, 'ampersand_installations', { integration_id: 'int-1', health_status: 'healthy' })).toBe(2);
    expect(sample(text, 'ampersand_installations', { integration_id: 'int-1', health_status: 'unhealthy' })).toBe(1);
    expect(sample(text, 'ampersand_last_successful_poll_timestamp_seconds', { integration_id: 'int-1' })).toBeGreaterThan(Date.now() / 1000 - 60);
    await waitFor('the baseline summary to be sent', () => h.texts().length === 1);
    expect(sample(await h.metrics(), 'ampersand_slack_notifications_total', { outcome: 'sent' })).toBe(1);
    expect(sample(await h.metrics(), 'ampersand_slack_notifications_total', { outcome: 'failed' })).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('ampersand_poll_duration_seconds_bucket{le="0.05",project_id="proj-1",integration_id="int-1"}');

    h.ampersand.remove('int-1', 'b');
    await waitFor('the removal', async () => sample(await h.metrics(), 'ampersand_installations', { health_status: 'unhealthy' }) === 0);
    text = await h.metrics();
    expect(sample(text, 'ampersand_installation_health_status', { installation_id: 'b' })).toBeUndefined();
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'b' })).toBeUndefined();
    expect(sample(text, 'ampersand_installation_transitions_total', { field: 'health_status', from: 'unhealthy', to: 'none' })).toBe(1);
    await waitFor('the resolved message', () =>
      h.texts().some((t) => t.includes('Salesforce installation removed while unhealthy — &lt;!channel&gt; Corp (org-b)')),
    );
  });

  it('changes nothing and alerts nothing while polls fail, then alerts what changed meanwhile once', async () => {
    // The upstream alert has its own test; here only installation alerts are counted.
    await h.start({ UPSTREAM_DEGRADED_AFTER_CYCLES: '1000' });
    await waitFor('the baseline', async () => (await snapshotVersion()) !== null);
    // Counted after its summary arrived: delivery runs apart from the commit, and a summary landing
    // after the count would read as an alert sent while polls failed.
    await waitFor('the baseline summary', () => h.texts().length === 1);
    const version = await snapshotVersion();
    const before = h.texts().length;

    h.ampersand.setStickyFault({ kind: 'status', status: 500 });
    h.ampersand.update('int-1', 'a', { connectionStatus: 'bad_credentials' });
    await waitFor('failed polls to be counted', async () => (sample(await h.metrics(), 'ampersand_poll_errors_total', { reason: 'server_error' }) ?? 0) >= 2);
    expect(await snapshotVersion()).toBe(version);
    expect(h.texts()).toHaveLength(before);
    const ready = await h.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ upstream: { state: 'degraded' } });

    h.ampersand.setStickyFault({ kind: 'raw', contentType: 'application/json', body: '{"not":"a list"}' });
    await waitFor('invalid bodies to be counted', async () => (sample(await h.metrics(), 'ampersand_poll_errors_total', { reason: 'invalid_body' }) ?? 0) >= 1);
    expect(await snapshotVersion()).toBe(version);
    expect(h.texts()).toHaveLength(before);

    h.ampersand.setStickyFault(undefined);
    await waitFor('the alert', () => h.texts().length === before + 1);
    expect(h.texts()[before]).toBe('[FIRING:1] integration int-1: Salesforce credentials rejected — Customer a (org-a)');
    await sleep(2500);
    expect(h.texts()).toHaveLength(before + 1);
  });

  it('does not alert again after a restart with the state intact', async () => {
    const first = await h.start();
    await waitFor('the baseline summary', () => h.texts().length === 1);
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert', () => h.texts().length === 2);
    await first.monitor.close();

    const second = await h.start();
    const seen = polls();
    await waitFor('polls after the restart', () => polls() >= seen + 2);
    expect(h.texts()).toHaveLength(2);
    h.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    await waitFor('the recovery', () => h.texts().length === 3);
    expect(h.texts()[2]).toContain('[RESOLVED:1]');
    expect(second.logs.text()).not.toContain('baseline taken');
  });

  it('alerts each transition once with two monitors running at once', async () => {
    await h.start();
    await h.start();
    await waitFor('the baseline summary', () => h.texts().length === 1);
    for (const [i, id] of ['a', 'c'].entries()) {
      h.ampersand.update('int-1', id, { healthStatus: 'unhealthy' });
      await waitFor(`alert ${i + 1}`, () => h.texts().length === 2 + i);
    }
    const seen = polls();
    await waitFor('more polls', () => polls() >= seen + 4);
    expect(h.texts()).toHaveLength(3);
    // Both replicas export the shared state.
    for (const index of [0, 1]) {
      expect(sample(await h.metrics(index), 'ampersand_installations', { health_status: 'unhealthy' })).toBe(3);
    }
    // Exactly one scheduler exists.
    const schedulers = await h.redis.zrange(`${h.prefix}:poll:repeat`, 0, '-1');
    expect(schedulers).toEqual(['ampersand-poll-cycle']);
  });

  it('discovers integrations when none are configured, each with its own baseline', async () => {
    h.ampersand.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2', lastOperationStatus: 'failure', provider: 'hubspot' })]);
    await h.start({ AMPERSAND_INTEGRATION_IDS: '', MONITOR_FORGET_AFTER_SECONDS: '3' });
    await waitFor('two baselines', () => h.texts().length === 2);
    expect(h.texts().some((t) => t.includes('integration int-2') && t.includes('last_operation_status is failure'))).toBe(true);

    h.ampersand.setIntegration('int-3', 'hubspot', [installationSpec('y', { integrationId: 'int-3', healthStatus: 'unhealthy', provider: 'hubspot' })]);
    await waitFor('the new integration baseline', () => h.texts().length === 3);
    expect(h.texts()[2]).toContain('[BASELINE] Ampersand integration int-3');

    h.ampersand.removeIntegration('int-2');
    await waitFor('int-2 series to disappear', async () => sample(await h.metrics(), 'ampersand_installations', { integration_id: 'int-2' }) === undefined);
  });

  it('moves a missing or unreadable outbox head to the dead letters, and the alerts behind it go on', async () => {
    await h.start();
    await waitFor('the baseline summary', () => h.texts().length === 1);
    await h.redis.rpush(`${h.prefix}:state:outbox:ids`, 'orphan', 'garbled');
    await h.redis.hset(`${h.prefix}:state:outbox:entries`, 'garbled', '{"not":"an entry"');
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert behind them', () => h.texts().length === 2);
    expect(await h.redis.lrange(`${h.prefix}:state:dead:ids`, 0, -1)).toEqual(['orphan', 'garbled']);
    expect(h.monitors[0]?.logs.text()).toContain('outbox entry orphan is missing or unreadable');
  });

  it('answers /healthz and /readyz', async () => {
    await h.start();
    expect((await h.get('/healthz')).status).toBe(200);
    const ready = await h.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, redis: 'ok', schedule: 'registered' });
  });
});

describe('the monitor with a slow integration', () => {
  it('keeps polling the others, and never overlaps two polls of one integration', async () => {
    h.ampersand.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2' })]);
    // Every int-1 request hangs until the 1 s client timeout, longer than the 1 s interval.
    h.ampersand.inject('int-1', ...Array.from({ length: 100 }, () => ({ kind: 'hang' as const })));
    await h.start({ AMPERSAND_INTEGRATION_IDS: 'int-1,int-2', AMPERSAND_TIMEOUT_SECONDS: '1' });
    await waitFor('int-2 baseline', async () => (await h.redis.hget(`${h.prefix}:state:snap:int-2`, 'v')) !== null);
    h.ampersand.update('int-2', 'x', { healthStatus: 'unhealthy' });
    await waitFor(
      'the int-2 alert',
      () => h.texts().some((t) => t.includes('integration int-2: Salesforce installation unhealthy — Customer x (org-x)')),
      10_000,
    );
    expect(await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v')).toBeNull();
    // The int-2 alert may arrive before int-1's first poll has used up its timeout and retries (a loaded machine).
    await waitFor(
      'an int-1 timeout counted',
      async () => (sample(await h.metrics(), 'ampersand_poll_errors_total', { integration_id: 'int-1', reason: 'timeout' }) ?? 0) >= 1,
      10_000,
    );
    expect(h.ampersand.maxConcurrentPerIntegration()).toBe(1);
  });
});

describe('the job scheduler', () => {
  it('takes a new interval at restart and removes schedulers it does not own', async () => {
    const { Queue } = await import('bullmq');
    const queue = new Queue('poll', { connection: h.redis, prefix: h.prefix });
    await queue.upsertJobScheduler('an-old-scheduler', { every: 5000 }, { name: 'cycle' });
    const first = await h.start();
    await first.monitor.close();
    await h.start({ POLL_INTERVAL_SECONDS: '2' });
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.every])).toEqual([['ampersand-poll-cycle', 2000]]);
    await queue.close();
  });
});
