/**
 * What one integration's state or data can do to the service: a corrupt stored
 * value is re-baselined (not frozen), an exception counts as a failed poll,
 * an integration that cannot be read while the others can gets its own alert,
 * and each committed transition leaves one log line.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '../../src/simulator/fake-ampersand-server.js';
import { buildInstallation } from '../../src/simulator/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b')]);
  h.ampersand.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2' })]);
});
afterEach(async () => {
  await h.stop();
});

const env = { AMPERSAND_INTEGRATION_IDS: 'int-1,int-2', POLL_INTERVAL_SECONDS: '0.3', UPSTREAM_DEGRADED_AFTER_CYCLES: '3' };
const snapKey = (id: string): string => `${h.prefix}:state:snap:${id}`;
const baselines = async (): Promise<void> => waitFor('baselines', async () => (await h.redis.exists(snapKey('int-1'), snapKey('int-2'))) === 2);

describe('a corrupt stored snapshot version', () => {
  it('is re-baselined, logged at error and counted, instead of freezing the integration', async () => {
    const { logs } = await h.start(env);
    await baselines();
    await h.redis.hset(snapKey('int-1'), 'v', 'NaN');
    await waitFor('the new baseline', async () => (await h.redis.hget(snapKey('int-1'), 'v')) === '1', 10_000);
    const line = logs.lines().find((l) => String(l['msg']).includes('stored state of int-1 is unreadable'));
    expect(line).toMatchObject({ integrationId: 'int-1' });
    // pino's number or its name, whichever the logger is set to print.
    expect(line?.['level']).toBe('error');
    expect(sample(await h.metrics(), 'ampersand_state_unreadable_total', { integration_id: 'int-1' })).toBeGreaterThanOrEqual(1);
    // Not frozen: the next change alerts.
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert after the re-baseline', () => h.texts().some((t) => t.includes('Salesforce installation unhealthy — Customer a (org-a)')));
  });
});

describe('one integration that cannot be read while the others can', () => {
  it('gets its own alert after K cycles of invalid bodies, and its own recovery', async () => {
    await h.start(env);
    await baselines();
    const list = h.ampersand.installations('int-1').map(buildInstallation);
    const bad: Fault = { kind: 'raw', contentType: 'application/json', body: JSON.stringify([{ ...list[0], id: '' }, ...list.slice(1)]) };
    h.ampersand.inject('int-1', ...Array.from({ length: 8 }, () => bad));
    await waitFor('the integration alert', () => h.texts().length === 1, 20_000);
    expect(h.texts()[0]).toBe(
      '[FIRING] the monitor cannot read integration int-1: invalid_body: installations of int-1: installations[0].id is empty (3 consecutive cycles)',
    );
    const ready = JSON.parse((await h.get('/readyz')).body) as { upstream: { state: string; unreadableIntegrations: Record<string, string> } };
    expect(ready.upstream.state).toBe('degraded');
    expect(Object.keys(ready.upstream.unreadableIntegrations)).toEqual(['int-1']);
    await waitFor('the recovery', () => h.texts().length === 2, 20_000);
    expect(h.texts()[1]).toMatch(/^\[RESOLVED\] the monitor can read integration int-1 again/);
  });

  it('gets its own alert, listed in /readyz, while a third integration is refused with 403', async () => {
    h.ampersand.setIntegration('int-3', 'zendesk', [installationSpec('z', { integrationId: 'int-3' })]);
    await h.start({ ...env, AMPERSAND_INTEGRATION_IDS: 'int-1,int-2,int-3' });
    await waitFor('baselines', async () => (await h.redis.exists(snapKey('int-1'), snapKey('int-2'), snapKey('int-3'))) === 3);
    h.ampersand.inject('int-3', ...Array.from({ length: 200 }, (): Fault => ({ kind: 'status', status: 403 })));
    h.ampersand.inject('int-1', ...Array.from({ length: 200 }, (): Fault => ({ kind: 'raw', contentType: 'application/json', body: '[{"id":""}]' })));
    await waitFor('both alerts', () => h.texts().length === 2, 20_000);
    expect(h.texts().some((t) => t.includes('forbidden (HTTP 403)'))).toBe(true);
    expect(h.texts().some((t) => t.startsWith('[FIRING] the monitor cannot read integration int-1: invalid_body'))).toBe(true);
    const ready = JSON.parse((await h.get('/readyz')).body) as { upstream: { state: string; unreadableIntegrations: Record<string, string> } };
    expect(ready.upstream.state).toBe('configuration_error');
    expect(Object.keys(ready.upstream.unreadableIntegrations)).toEqual(['int-1']);
  });

  it('has its open alert resolved as "no longer monitored" once it leaves the discovered list for the forget time', async () => {
    await h.start({ ...env, AMPERSAND_INTEGRATION_IDS: '', MONITOR_FORGET_AFTER_SECONDS: '1' });
    await baselines();
    h.ampersand.inject('int-1', ...Array.from({ length: 100 }, (): Fault => ({ kind: 'raw', contentType: 'application/json', body: '[{"id":""}]' })));
    await waitFor('the integration alert', () => h.texts().length === 1, 20_000);
    expect(h.texts()[0]).toMatch(/^\[FIRING\] the monitor cannot read integration int-1/);
    h.ampersand.removeIntegration('int-1');
    await waitFor('the resolution', () => h.texts().length === 2, 20_000);
    expect(h.texts()[1]).toMatch(/^\[RESOLVED\] integration int-1 is no longer monitored \(was: invalid_body/);
    await waitFor(
      'the entry is gone',
      async () =>
        Object.keys((JSON.parse((await h.get('/readyz')).body) as { upstream: { unreadableIntegrations: object } }).upstream.unreadableIntegrations).length ===
        0,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.texts()).toHaveLength(2);
  });

  it('counts an exception of its poll (a corrupt stored value: WRONGTYPE) as a failure, with its own alert and recovery', async () => {
    await h.start(env);
    await baselines();
    await h.redis.del(snapKey('int-1'));
    await h.redis.set(snapKey('int-1'), 'not a hash');
    await waitFor('the integration alert', () => h.texts().length === 1, 20_000);
    expect(h.texts()[0]).toMatch(/^\[FIRING\] the monitor cannot read integration int-1: internal_error: internal error: ReplyError: WRONGTYPE/);
    expect(sample(await h.metrics(), 'ampersand_poll_errors_total', { integration_id: 'int-1', reason: 'internal_error' })).toBeGreaterThanOrEqual(3);
    await h.redis.del(snapKey('int-1'));
    await waitFor('the recovery', () => h.texts().length === 2, 20_000);
    expect(h.texts()[1]).toMatch(/^\[RESOLVED\] the monitor can read integration int-1 again/);
  });
});

describe('a committed transition', () => {
  it('is logged once at info with integration, installation, group ref, field, from and to', async () => {
    const { logs } = await h.start(env);
    await baselines();
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy', lastOperationStatus: 'in_progress' });
    await waitFor('the alert', () => h.texts().length === 1);
    await waitFor('two more polls', async () => Number(await h.redis.hget(snapKey('int-1'), 'v')) >= 4);
    const transitions = logs.lines().filter((l) => l['installationId'] === 'a' && l['field'] !== undefined);
    expect(
      transitions.map(({ integrationId, installationId, groupRef, field, from, to, level }) => ({
        integrationId,
        installationId,
        groupRef,
        field,
        from,
        to,
        level,
      })),
    ).toEqual([
      { integrationId: 'int-1', installationId: 'a', groupRef: 'org-a', field: 'health_status', from: 'healthy', to: 'unhealthy', level: expect.anything() },
      {
        integrationId: 'int-1',
        installationId: 'a',
        groupRef: 'org-a',
        field: 'last_operation_status',
        from: 'success',
        to: 'in_progress',
        level: expect.anything(),
      },
    ]);
    for (const line of transitions) expect(line['level']).toBe('info');
  });
});

describe('a status that cannot be read for a few polls', () => {
  const version = async (): Promise<number> => Number(await h.redis.hget(snapKey('int-1'), 'v'));
  /** Answers the next `polls` polls of int-1 with its installations, `a` carrying `healthStatus` as given, and waits until they are committed. */
  async function unreadable(healthStatus: unknown, polls = 3): Promise<void> {
    const list = h.ampersand.installations('int-1').map(buildInstallation);
    const body = JSON.stringify(list.map((i) => (i['id'] === 'a' ? { ...i, healthStatus } : i)));
    const from = await version();
    h.ampersand.inject('int-1', ...Array.from({ length: polls }, (): Fault => ({ kind: 'raw', contentType: 'application/json', body })));
    await waitFor('the unreadable polls', async () => (await version()) >= from + polls + 1, 10_000);
  }
  const firing = '[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer a (org-a)';

  it('keeps the open alert, and the next readable healthy resolves it once', async () => {
    await h.start(env);
    await baselines();
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert', () => h.texts().some((t) => t.includes(firing)));
    await unreadable(null);
    h.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    await waitFor('the recovery', () => h.texts().some((t) => t.includes('RESOLVED')), 10_000);
    const from = await version();
    await waitFor('two more polls', async () => (await version()) >= from + 2);
    expect(h.texts().filter((t) => t.includes('RESOLVED'))).toHaveLength(1);
    expect(h.texts().filter((t) => t.includes('FIRING'))).toHaveLength(1);
  });

  it('sends no second alert when it reads unhealthy again', async () => {
    await h.start(env);
    await baselines();
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert', () => h.texts().some((t) => t.includes(firing)));
    await unreadable(42);
    const from = await version();
    await waitFor('two readable polls', async () => (await version()) >= from + 2);
    expect(h.texts()).toHaveLength(1);
  });
});
