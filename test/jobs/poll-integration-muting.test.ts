/**
 * The poll job with the silences of the monitor configuration file and the
 * providers' display names, on in-memory stores, a scripted Ampersand client
 * and a fixed clock: a muted firing is committed and recorded, not sent, and
 * counted once; the catalog of providers is asked for only by a poll with
 * something to send.
 */
import { describe, expect, it } from 'vitest';
import { createFailureDetailsFetcher } from '../../jobs/fetch-failure-details.js';
import { createPollIntegration } from '../../jobs/poll-integration.js';
import { createProviderNameCache } from '../../jobs/provider-names.js';
import { DEFAULT_ALERT_POLICY } from '../../src/core/alert-state.js';
import type { AlertNotification } from '../../src/core/alert-notification.js';
import type { MuteRules } from '../../src/core/silences.js';
import { buildInstallation, buildProviderInfo, type InstallationSpec } from '../../src/simulator/fixtures.js';
import { createEventLog } from '../fakes/event-log.js';
import { createFakeAmpersandClient, fakeProjects, type ScriptedAnswer } from '../fakes/fake-ampersand-client.js';
import { createFixedClock } from '../fakes/fixed-clock.js';
import { createInMemoryStores } from '../fakes/in-memory-stores.js';
import { createRecordingDeliveryQueue } from '../fakes/recording-delivery-queue.js';
import { createRecordingMetrics } from '../fakes/recording-metrics.js';
import { createRecordingObserver } from '../fakes/recording-observer.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';

const INTEGRATION = 'int-1';
const listing = (...specs: InstallationSpec[]): ScriptedAnswer => ({ body: specs.map(buildInstallation) });
const START = new Date('2026-12-01T10:00:00Z');

function setup(muting: MuteRules) {
  const stores = createInMemoryStores();
  const events = createEventLog();
  const ampersand = createFakeAmpersandClient();
  const metrics = createRecordingMetrics();
  const clock = createFixedClock(START);
  const logs = captureLogs();
  const poll = createPollIntegration({
    ampersand: fakeProjects({ 'proj-1': ampersand }),
    snapshots: stores.snapshots,
    outbox: stores.outbox,
    metrics,
    logger: logs.logger,
    projectId: 'proj-1',
    observer: createRecordingObserver(events),
    delivery: createRecordingDeliveryQueue(events),
    now: clock.now,
    newLineage: () => 'L1',
    policy: DEFAULT_ALERT_POLICY,
    failureDetails: createFailureDetailsFetcher({ ampersand: fakeProjects({ 'proj-1': ampersand }), logger: logs.logger, now: clock.now, perCycle: 20 }),
    muting,
    providerNames: createProviderNameCache({ ampersand, logger: logs.logger, now: clock.now }),
  });
  const next = async (): Promise<void> => {
    clock.advance(60_000);
    await poll({ integrationId: INTEGRATION, cycleId: 'c' }, 'job');
  };
  return { stores, ampersand, metrics, logs, next };
}

const a = installationSpec('a', { provider: 'hubspot' });
const aBad = installationSpec('a', { provider: 'hubspot', healthStatus: 'unhealthy' });
const b = installationSpec('b', { provider: 'hubspot' });
const bBad = installationSpec('b', { provider: 'hubspot', healthStatus: 'unhealthy' });

describe('pollIntegration with silences', () => {
  it('commits a muted firing without a notification, counts it once, logs what muted it and records it in the episode log', async () => {
    const until = new Date(START.getTime() + 3_600_000);
    const t = setup({ silences: [{ match: { installationId: 'a' }, until, reason: 'migration' }], windows: [] });
    t.ampersand.scriptInstallations(INTEGRATION, listing(a, b), listing(aBad, b), listing(aBad, b), listing(aBad, b));
    for (let i = 0; i < 4; i += 1) await t.next();
    expect(await t.stores.outbox.size()).toBe(0);
    expect(t.metrics.callsOf('recordSilenced')).toEqual([['proj-1', INTEGRATION, 'unhealthy', 'silence']]);
    expect(t.logs.lines().map((l) => l['msg'])).toContain('alert: a unhealthy fire (not sent: muted by silences[0])');
    const log = (await t.stores.snapshots.loadEpisodes(INTEGRATION, ['a'])).get('a');
    expect(log).toEqual([
      expect.objectContaining({ condition: 'unhealthy', silenced: { by: 'silences[0]', kind: 'silence', reason: 'migration', until: until.getTime() } }),
    ]);
    // Nothing to send, so the catalog of providers was never asked for.
    expect(t.ampersand.calls).not.toContain('providers');
  });

  it('asks for the providers only when a poll has something to send, and names the provider in the digest', async () => {
    const t = setup({ silences: [], windows: [] });
    t.ampersand.scriptInstallations(INTEGRATION, listing(a, b), listing(a, bBad), listing(a, bBad));
    t.ampersand.scriptProviders({ body: { hubspot: buildProviderInfo('hubspot') } });
    await t.next();
    await t.next();
    expect(t.ampersand.calls).not.toContain('providers');
    await t.next();
    expect(t.ampersand.calls.filter((c) => c === 'providers')).toHaveLength(1);
    const notification = (await t.stores.outbox.head())?.entry?.notification as AlertNotification;
    expect(notification.items).toEqual([expect.objectContaining({ installationId: 'b', provider: 'hubspot', providerName: 'HubSpot' })]);
    expect(t.metrics.callsOf('recordSilenced')).toEqual([]);
  });
});
