/**
 * The poll job, driven through every branch with in-memory stores, a scripted
 * Ampersand client, recording fakes of the other ports and a fixed clock: no
 * Redis, no HTTP, no waits. Each case asserts the outcome, what the stores
 * hold afterwards, what was handed to delivery, what the observer was told,
 * and what was counted.
 */
import { describe, expect, it } from 'vitest';
import { createFailureDetailsFetcher } from '../../jobs/fetch-failure-details.js';
import { createPollIntegration, type PollJobData, type PollOutcome } from '../../jobs/poll-integration.js';
import { DEFAULT_ALERT_POLICY, type AlertPolicy } from '../../src/core/alert-state.js';
import { loadAlertStates } from '../../src/core/alert-states.js';
import { AmpersandApiError, ERROR_REASONS, type PollErrorReason } from '../../src/core/errors/ampersand-api-error.js';
import type { InstallationSpec } from '../../src/simulator/fixtures.js';
import { buildInstallation, buildLog, buildOperation, buildReadOperation } from '../../src/simulator/fixtures.js';
import type { AlertNotification } from '../../src/core/alert-notification.js';
import type { SnapshotStore } from '../../src/ports.js';
import { createEventLog } from '../fakes/event-log.js';
import { createFakeAmpersandClient, fakeProjects, type ScriptedAnswer } from '../fakes/fake-ampersand-client.js';
import { createFixedClock } from '../fakes/fixed-clock.js';
import { createInMemoryStores, type InMemoryStores } from '../fakes/in-memory-stores.js';
import { createRecordingDeliveryQueue } from '../fakes/recording-delivery-queue.js';
import { createRecordingMetrics } from '../fakes/recording-metrics.js';
import { createRecordingObserver } from '../fakes/recording-observer.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';

const INTEGRATION = 'int-1';
const listing = (...specs: InstallationSpec[]): ScriptedAnswer => ({ body: specs.map(buildInstallation) });
const healthy = installationSpec('a');
const unhealthy = installationSpec('a', { healthStatus: 'unhealthy' });
const closed = (): Error => new Error('Connection is closed.');

/** One poll job on shared fakes; `snapshots` replaces store methods, as a broken Redis or a racing replica would. */
function setup(
  options: { stores?: InMemoryStores; snapshots?: Partial<SnapshotStore>; lineages?: string[]; policy?: AlertPolicy; detailsPerCycle?: number } = {},
) {
  const stores = options.stores ?? createInMemoryStores();
  const events = createEventLog();
  const ampersand = createFakeAmpersandClient();
  const metrics = createRecordingMetrics();
  const observer = createRecordingObserver(events);
  const delivery = createRecordingDeliveryQueue(events);
  const clock = createFixedClock();
  const logs = captureLogs();
  const lineages = options.lineages ?? ['L1', 'L2', 'L3'];
  // The look-ups' shared deadline, which a test ends by hand (no waits).
  const deadline = new AbortController();
  const pollIntegration = createPollIntegration({
    ampersand: fakeProjects({ 'proj-1': ampersand }),
    snapshots: { ...stores.snapshots, ...options.snapshots },
    outbox: stores.outbox,
    metrics,
    logger: logs.logger,
    projectId: 'proj-1',
    observer,
    delivery,
    now: clock.now,
    newLineage: () => lineages.shift() ?? 'L-extra',
    policy: options.policy ?? DEFAULT_ALERT_POLICY,
    failureDetails: createFailureDetailsFetcher({
      ampersand: fakeProjects({ 'proj-1': ampersand }),
      logger: logs.logger,
      now: clock.now,
      perCycle: options.detailsPerCycle ?? 20,
    }),
    detailsDeadline: () => deadline.signal,
  });
  const poll = (cycleId = 'c1'): Promise<PollOutcome> => pollIntegration({ integrationId: INTEGRATION, cycleId }, 'job-1');
  const pollWith = (data: PollJobData): Promise<PollOutcome> => pollIntegration(data, 'job-1');
  return { stores, events, ampersand, metrics, observer, delivery, clock, logs, poll, pollWith, deadline };
}

describe('pollIntegration', () => {
  describe('on the first poll of an integration', () => {
    it('commits a baseline with a summary of what already needs attention and hands it to delivery', async () => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy, installationSpec('b')));
      expect(await t.poll()).toEqual({ status: 'committed', baseline: true, installations: 2, transitions: 0, notifications: 1 });
      const stored = await t.stores.snapshots.load(INTEGRATION);
      expect(stored).toMatchObject({ version: 1, lineage: 'L1', projectId: 'proj-1', lastSuccessMs: t.clock.now().getTime() });
      expect([...(stored?.snapshot?.keys() ?? [])]).toEqual(['a', 'b']);
      const head = await t.stores.outbox.head();
      expect(head?.entry?.notification).toMatchObject({
        kind: 'baseline',
        integrationId: INTEGRATION,
        projectId: 'proj-1',
        detectedAt: t.clock.now().toISOString(),
      });
      expect(t.events.events).toEqual([`kick ${head?.id}`, `ok ${INTEGRATION}`]);
      expect(t.metrics.callsOf('observePoll')).toHaveLength(1);
      expect(t.metrics.callsOf('recordTransitions')).toEqual([['proj-1', INTEGRATION, []]]);
      expect(t.metrics.pollErrors()).toEqual([]);
    });

    it('commits a baseline without a notification or a kick when nothing needs attention', async () => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy));
      expect(await t.poll()).toEqual({ status: 'committed', baseline: true, installations: 1, transitions: 0, notifications: 0 });
      expect((await t.stores.snapshots.load(INTEGRATION))?.version).toBe(1);
      expect(await t.stores.outbox.size()).toBe(0);
      expect(t.events.events).toEqual([`ok ${INTEGRATION}`]);
    });
  });

  describe('when an installation turns bad', () => {
    it('commits its pending state and sends nothing on the first bad poll, then alerts on the second: one digest, kicked', async () => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy), listing(unhealthy));
      await t.poll('c1');
      expect(await t.poll('c2')).toEqual({ status: 'committed', baseline: false, installations: 1, transitions: 1, notifications: 0 });
      const pending = await t.stores.snapshots.load(INTEGRATION);
      expect(pending).toMatchObject({ version: 2, lineage: 'L1' });
      expect(pending?.snapshot?.get('a')?.healthStatus).toBe('unhealthy');
      expect(loadAlertStates(pending?.alertStates, new Map(), t.clock.now()).states.get('a')?.unhealthy).toMatchObject({ status: 'pending', badPolls: 1 });
      expect(await t.stores.outbox.size()).toBe(0);

      t.clock.advance(60_000);
      expect(await t.poll('c3')).toEqual({ status: 'committed', baseline: false, installations: 1, transitions: 0, notifications: 1 });
      const head = await t.stores.outbox.head();
      expect(head?.id).toBe(`${INTEGRATION}.L1.3.1`);
      expect(head?.entry?.notification).toMatchObject({
        kind: 'alerts',
        integrationId: INTEGRATION,
        installations: 1,
        firing: { unhealthy: 1, operation_failing: 0, bad_credentials: 0 },
        items: [{ installationId: 'a', condition: 'unhealthy', event: 'fire', consumerName: 'Jane Smith', consumerRef: 'user-a' }],
      });
      expect(t.delivery.kicked).toEqual([head?.id]);
      expect(t.events.events).toEqual([`ok ${INTEGRATION}`, `ok ${INTEGRATION}`, `kick ${head?.id}`, `ok ${INTEGRATION}`]);
      const transitions = t.metrics.callsOf('recordTransitions');
      expect(transitions[1]?.[2]).toMatchObject([{ installationId: 'a', field: 'health_status', from: 'healthy', to: 'unhealthy' }]);
      const messages = t.logs.lines().map((l) => l['msg']);
      expect(messages).toContain('transition: a health_status healthy → unhealthy');
      expect(messages).toContain('alert: a unhealthy fire');
    });

    it('alerts on the first bad poll with ALERT_AFTER_POLLS=1', async () => {
      const t = setup({ policy: { ...DEFAULT_ALERT_POLICY, alertAfterPolls: 1 } });
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy), listing(unhealthy));
      await t.poll('c1');
      expect(await t.poll('c2')).toMatchObject({ status: 'committed', notifications: 1 });
      expect((await t.stores.outbox.head())?.entry?.notification).toMatchObject({ kind: 'alerts', items: [{ event: 'fire', condition: 'unhealthy' }] });
    });

    it('kicks the head of the outbox, the oldest pending entry, not the new one', async () => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy), listing(healthy));
      await t.poll('c1');
      const first = await t.stores.outbox.headId();
      await t.poll('c2');
      await t.poll('c3');
      expect(await t.stores.outbox.size()).toBe(2);
      expect((await t.stores.outbox.head())?.entry?.notification.kind).toBe('baseline');
      expect(t.delivery.kicked).toEqual([first, first]);
    });
  });

  describe('the episode log', () => {
    it('records each firing episode in the commit, and the third firing this week says so', async () => {
      const t = setup({ policy: { alertAfterPolls: 1, resolveAfterPolls: 1, remindIntervalMs: 0 } });
      t.ampersand.scriptInstallations(
        INTEGRATION,
        listing(healthy),
        listing(unhealthy),
        listing(healthy),
        listing(unhealthy),
        listing(healthy),
        listing(unhealthy),
      );
      // Each poll's digest is delivered before the next poll: waiting digests of one integration would be merged.
      const firings: (number | undefined)[] = [];
      const deliverAll = async (): Promise<void> => {
        for (let head = await t.stores.outbox.head(); head !== undefined; head = await t.stores.outbox.head()) {
          const n = head.entry?.notification;
          if (n?.kind === 'alerts') firings.push(...n.items.filter((i) => i.event === 'fire').map((i) => i.episodesThisWeek));
          await t.stores.outbox.pop(head.id, false);
        }
      };
      for (let i = 1; i <= 6; i += 1) {
        await t.poll(`c${i}`);
        await deliverAll();
        t.clock.advance(3_600_000);
      }
      const episodes = (await t.stores.snapshots.loadEpisodes(INTEGRATION, ['a'])).get('a');
      expect(episodes?.map((e) => [e.condition, e.endedAt === undefined ? 'open' : e.reason])).toEqual([
        ['unhealthy', 'recovered'],
        ['unhealthy', 'recovered'],
        ['unhealthy', 'open'],
      ]);
      expect(firings).toEqual([1, 2, 3]);
    });

    it('reads no log for a poll without a firing or a resolve', async () => {
      const t = setup();
      let reads = 0;
      const counting = setup({
        stores: t.stores,
        snapshots: {
          loadEpisodes: (integrationId, ids) => {
            reads += 1;
            return t.stores.snapshots.loadEpisodes(integrationId, ids);
          },
        },
      });
      counting.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      await counting.poll('c1');
      await counting.poll('c2');
      await counting.poll('c3');
      expect(reads).toBe(0);
    });
  });

  describe('the integration name', () => {
    it('goes from the job data into the digest, and a job without one (the release before) still polls', async () => {
      const t = setup({ policy: { ...DEFAULT_ALERT_POLICY, alertAfterPolls: 1 } });
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy), listing(unhealthy));
      await t.poll('c1');
      expect(await t.pollWith({ integrationId: INTEGRATION, cycleId: 'c2', integrationName: 'Salesforce sync' })).toMatchObject({ notifications: 1 });
      expect((await t.stores.outbox.head())?.entry?.notification).toMatchObject({ kind: 'alerts', integrationName: 'Salesforce sync' });
    });
  });

  describe('a condition that still fires', () => {
    it('is reminded every REMIND_INTERVAL_SECONDS, in one digest for every installation of the integration', async () => {
      const t = setup({ policy: { ...DEFAULT_ALERT_POLICY, remindIntervalMs: 3_600_000 } });
      const both = listing(unhealthy, installationSpec('b', { connectionStatus: 'bad_credentials' }));
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy, installationSpec('b')), both);
      await t.poll('c1');
      await t.poll('c2');
      t.clock.advance(60_000);
      expect(await t.poll('c3')).toMatchObject({ notifications: 1 });
      t.clock.advance(60 * 60_000 - 1);
      expect(await t.poll('c4')).toMatchObject({ notifications: 0 });
      t.clock.advance(1);
      expect(await t.poll('c5')).toMatchObject({ notifications: 1 });
      const entries = [];
      for (let head = await t.stores.outbox.head(); head !== undefined; head = await t.stores.outbox.head()) {
        entries.push(head.entry?.notification);
        await t.stores.outbox.pop(head.id, false);
      }
      expect(entries).toHaveLength(2);
      expect(entries[1]).toMatchObject({
        kind: 'alerts',
        items: [
          { installationId: 'b', condition: 'bad_credentials', event: 'remind' },
          { installationId: 'a', condition: 'unhealthy', event: 'remind' },
        ],
      });
    });
  });

  describe('a failing operation that fires', () => {
    const failing = installationSpec('a', { lastOperationStatus: 'failure' });
    const failed = buildReadOperation(failing, 'op-7', 'failure', new Date('2025-12-31T23:59:00Z'));
    const operationsPage = { body: { results: [buildOperation(failing, failed)], pagination: { done: true } } };
    const operationLog = { body: failed.logs.map((l) => buildLog(failed.id, l)) };

    /** Polls a healthy baseline, then the failure twice: the second fires it. */
    async function fire(t: ReturnType<typeof setup>, cycleId = 'c3'): Promise<PollOutcome> {
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy), listing(failing));
      await t.poll('c1');
      await t.poll('c2');
      return t.poll(cycleId);
    }

    it('carries the operation, its result and its first error lines, looked up before the commit', async () => {
      const t = setup();
      t.ampersand.scriptOperations('a', operationsPage);
      t.ampersand.scriptLogs('op-7', operationLog);
      expect(await fire(t)).toMatchObject({ status: 'committed', notifications: 1 });
      expect(t.ampersand.calls.slice(-2)).toEqual(['operations int-1/a pageSize=50 pageToken=-', 'logs op-7']);
      const item = ((await t.stores.outbox.head())?.entry?.notification as AlertNotification | undefined)?.items[0];
      expect(item).toMatchObject({
        condition: 'operation_failing',
        event: 'fire',
        details: {
          operationId: 'op-7',
          actionType: 'read',
          result: '[account] Read failed',
          errorLines: [
            'Provider error, retrying (attempt 1 of 2): INVALID_SESSION_ID: Session expired or invalid',
            'Read of account failed: INVALID_SESSION_ID: Session expired or invalid',
          ],
          time: '2025-12-31T23:59:00.000Z',
        },
      });
    });

    it('goes without them when the look-up fails, and still commits and alerts', async () => {
      const t = setup();
      t.ampersand.scriptOperations('a', { error: new AmpersandApiError('the API said no', 'server_error', 503) });
      expect(await fire(t)).toMatchObject({ status: 'committed', notifications: 1 });
      const item = ((await t.stores.outbox.head())?.entry?.notification as AlertNotification | undefined)?.items[0];
      expect(item).toMatchObject({ condition: 'operation_failing', event: 'fire' });
      expect(item).not.toHaveProperty('details');
    });

    it('goes without them when the look-ups outlast their deadline: an alert without details beats a late one', async () => {
      const t = setup();
      t.ampersand.scriptOperations('a', { hang: true });
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy), listing(failing));
      await t.poll('c1');
      await t.poll('c2');
      const outcome = t.poll('c3');
      t.deadline.abort(new DOMException('The operation timed out.', 'TimeoutError'));
      expect(await outcome).toMatchObject({ status: 'committed', notifications: 1 });
      expect((await t.stores.outbox.head())?.entry?.notification).toMatchObject({ items: [expect.not.objectContaining({ details: expect.anything() })] });
    });

    it('looks up at most FAILURE_DETAILS_PER_CYCLE installations per cycle', async () => {
      const t = setup({ detailsPerCycle: 1 });
      const both = listing(failing, installationSpec('b', { lastOperationStatus: 'failure' }));
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy, installationSpec('b')), both);
      t.ampersand.scriptOperations('a', operationsPage);
      t.ampersand.scriptLogs('op-7', operationLog);
      t.ampersand.scriptOperations('b', { body: { results: [], pagination: { done: true } } });
      await t.poll('c1');
      await t.poll('c2');
      await t.poll('c3');
      expect(t.ampersand.calls.filter((c) => c.startsWith('operations'))).toHaveLength(1);
      const items = ((await t.stores.outbox.head())?.entry?.notification as AlertNotification | undefined)?.items ?? [];
      expect(items.filter((i) => i.details !== undefined)).toHaveLength(1);
      expect(items).toHaveLength(2);
    });

    it('looks up nothing for a poll that fires no failing operation', async () => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy), listing(installationSpec('a', { lastOperationStatus: 'failure' })), listing(healthy));
      await t.poll('c1');
      await t.poll('c2');
      await t.poll('c3');
      expect(t.ampersand.calls.filter((c) => !c.startsWith('installations'))).toEqual([]);
    });
  });

  describe('the alert states', () => {
    it('are committed with the snapshot, and not rewritten by a poll that leaves them as they were', async () => {
      const stores = createInMemoryStores();
      const commits: (string | undefined)[] = [];
      const t = setup({
        stores,
        snapshots: {
          commit: (request) => {
            commits.push(request.alertStates);
            return stores.snapshots.commit(request);
          },
        },
      });
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      await t.poll('c1');
      await t.poll('c2');
      await t.poll('c3');
      // The baseline writes its states (a, as announced); the polls after it change nothing.
      expect(commits).toHaveLength(3);
      expect(commits[0]).toContain('"a":[["firing"');
      expect(commits.slice(1)).toEqual([undefined, undefined]);
      expect((await stores.snapshots.load(INTEGRATION))?.alertStates).toBe(commits[0]);
    });

    it('are upgraded from the snapshot when none are stored (the release before): nothing announced is sent again, and it says so', async () => {
      const stores = createInMemoryStores();
      const t = setup({ stores });
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      await t.poll('c1');
      // What the release before left: the same snapshot and version, without alert states.
      const stored = await stores.snapshots.load(INTEGRATION);
      const legacy: Partial<SnapshotStore> = {
        load: async (id) => {
          const s = await stores.snapshots.load(id);
          if (s === undefined) return s;
          const { alertStates: _dropped, ...rest } = s;
          return rest;
        },
      };
      const after = setup({ stores, snapshots: legacy });
      after.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      expect(await after.poll('c2')).toMatchObject({ status: 'committed', baseline: false, notifications: 0 });
      expect(after.logs.lines().some((l) => String(l['msg']).startsWith('no alert states stored'))).toBe(true);
      expect((await stores.snapshots.load(INTEGRATION))?.version).toBe((stored?.version ?? 0) + 1);
      expect(await stores.outbox.size()).toBe(1);
    });
  });

  describe('when nothing changed', () => {
    it('commits the next version, sends nothing and tells the observer', async () => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy));
      await t.poll('c1');
      expect(await t.poll('c2')).toEqual({ status: 'committed', baseline: false, installations: 1, transitions: 0, notifications: 0 });
      expect(await t.stores.snapshots.load(INTEGRATION)).toMatchObject({ version: 2, lineage: 'L1' });
      expect(await t.stores.outbox.size()).toBe(0);
      expect(t.delivery.kicked).toEqual([]);
      expect(t.observer.calls).toEqual([`ok ${INTEGRATION}`, `ok ${INTEGRATION}`]);
    });
  });

  describe('when a concurrent poll committed first', () => {
    it('discards its result, sends nothing of its own, tells no observer, and still kicks the head', async () => {
      const stores = createInMemoryStores();
      const other = setup({ stores, lineages: ['L-other'] });
      other.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      const t = setup({ stores });
      // The other replica polls and commits while this one waits for its listing.
      t.ampersand.scriptInstallations(INTEGRATION, {
        run: async () => {
          await other.poll();
          return [buildInstallation(unhealthy)];
        },
      });
      expect(await t.poll()).toEqual({ status: 'conflict' });
      const head = await stores.outbox.headId();
      expect(await stores.snapshots.load(INTEGRATION)).toMatchObject({ version: 1, lineage: 'L-other' });
      // Only the other replica's baseline summary: this poll appended nothing.
      expect(await stores.outbox.size()).toBe(1);
      expect(t.delivery.kicked).toEqual([head]);
      expect(t.observer.calls).toEqual([]);
      expect(t.metrics.calls).toEqual([]);
    });
  });

  describe('when the fetch fails', () => {
    const apiReasons = ERROR_REASONS.filter((r): r is Exclude<PollErrorReason, 'internal_error'> => r !== 'internal_error');

    it.each(apiReasons)('with %s: counts it, tells the observer, and commits and sends nothing', async (reason) => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy), { error: new AmpersandApiError(`the API said ${reason}`, reason, 500) });
      await t.poll('c1');
      expect(await t.poll('c2')).toEqual({ status: 'failed', reason, message: `the API said ${reason}` });
      expect(await t.stores.snapshots.load(INTEGRATION)).toMatchObject({ version: 1 });
      expect(await t.stores.outbox.size()).toBe(0);
      expect(t.delivery.kicked).toEqual([]);
      expect(t.observer.calls).toEqual([`ok ${INTEGRATION}`, `failed ${INTEGRATION} ${reason}`]);
      expect(t.metrics.pollErrors()).toEqual([`${INTEGRATION} ${reason}`]);
      expect(t.metrics.callsOf('observePoll')).toHaveLength(2);
      const failure = t.logs.lines().find((l) => l['reason'] === reason);
      const configuration = new AmpersandApiError('', reason).isConfigurationError;
      expect(failure?.['level']).toBe(configuration ? 'error' : 'warn');
    });

    it('commits nothing on a first poll either', async () => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, { error: new AmpersandApiError('no route', 'network') });
      expect(await t.poll()).toMatchObject({ status: 'failed', reason: 'network' });
      expect(await t.stores.snapshots.load(INTEGRATION)).toBeUndefined();
      expect(t.metrics.pollErrors()).toEqual([`${INTEGRATION} network`]);
    });
  });

  describe('when the body is unusable', () => {
    it.each<[string, unknown]>([
      ['an installation without an id', [{ id: '' }]],
      ['not a list', { installations: 'nope' }],
    ])('counts %s as invalid_body and commits nothing', async (_name, body) => {
      const t = setup();
      t.ampersand.scriptInstallations(INTEGRATION, { body });
      expect(await t.poll()).toMatchObject({ status: 'failed', reason: 'invalid_body' });
      expect(await t.stores.snapshots.load(INTEGRATION)).toBeUndefined();
      expect(await t.stores.outbox.size()).toBe(0);
      expect(t.observer.calls).toEqual([`failed ${INTEGRATION} invalid_body`]);
      expect(t.metrics.pollErrors()).toEqual([`${INTEGRATION} invalid_body`]);
    });
  });

  describe('when the stored state is unreadable', () => {
    it('counts it and replaces it with a new baseline, in a new lineage', async () => {
      const stores = createInMemoryStores();
      const first = setup({ stores, lineages: ['L-old'] });
      first.ampersand.scriptInstallations(INTEGRATION, listing(healthy));
      await first.poll();
      // The store reads the data as corrupt, as after a bad manual edit.
      const unreadable: Partial<SnapshotStore> = {
        load: async (id) => {
          const s = await stores.snapshots.load(id);
          return s && { ...s, snapshot: undefined, unreadable: { reason: 'stored snapshot data cannot be decoded', storedVersion: String(s.version) } };
        },
      };
      const t = setup({ stores, snapshots: unreadable, lineages: ['L-new'] });
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      expect(await t.poll()).toMatchObject({ status: 'committed', baseline: true, notifications: 1 });
      const stored = await stores.snapshots.load(INTEGRATION);
      expect(stored?.lineage).toBe('L-new');
      expect(stored?.snapshot?.get('a')?.healthStatus).toBe('unhealthy');
      expect((await stores.outbox.head())?.entry?.notification).toMatchObject({ kind: 'baseline' });
      expect(t.metrics.callsOf('recordStateUnreadable')).toEqual([['proj-1', INTEGRATION]]);
      expect(t.logs.lines().some((l) => String(l['msg']).includes('is unreadable') && l['level'] === 'error')).toBe(true);
    });
  });

  describe('when telling the observer fails', () => {
    it('has kicked the committed head first, keeps the commit, fails the job and counts no internal error', async () => {
      const t = setup();
      t.observer.throwing.succeeded = closed();
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      await expect(t.poll()).rejects.toThrow('Connection is closed.');
      const head = await t.stores.outbox.headId();
      expect(head).toBeDefined();
      expect(t.events.events).toEqual([`kick ${head}`, `ok ${INTEGRATION}`]);
      expect((await t.stores.snapshots.load(INTEGRATION))?.version).toBe(1);
      expect(t.metrics.pollErrors()).toEqual([]);
      expect(t.logs.lines().find((l) => l['level'] === 'error')?.['msg']).toContain('poll committed, but reporting its outcome failed');
    });

    it('still tells the observer when the kick fails, and fails the job with the kick error', async () => {
      const t = setup();
      t.delivery.failWith = new Error('kick refused');
      t.observer.throwing.succeeded = closed();
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      await expect(t.poll()).rejects.toThrow('kick refused');
      expect(t.observer.calls).toEqual([`ok ${INTEGRATION}`]);
      expect(await t.stores.outbox.size()).toBe(1);
      expect(t.metrics.pollErrors()).toEqual([]);
    });

    it.each<[string, ScriptedAnswer, PollErrorReason]>([
      ['an API error', { error: new AmpersandApiError('503', 'server_error', 503) }, 'server_error'],
      ['an unusable body', { body: [{ id: '' }] }, 'invalid_body'],
    ])('reports %s once and counts no internal error', async (_name, answer, reason) => {
      const t = setup();
      t.observer.throwing.failed = closed();
      t.ampersand.scriptInstallations(INTEGRATION, answer);
      await expect(t.poll()).rejects.toThrow('Connection is closed.');
      expect(t.observer.calls).toEqual([`failed ${INTEGRATION} ${reason}`]);
      expect(t.metrics.pollErrors()).toEqual([`${INTEGRATION} ${reason}`]);
    });
  });

  describe('on an internal error', () => {
    const oom = (): Error => Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });

    it.each<[string, Partial<SnapshotStore>, Error]>([
      [
        'the load',
        {
          load: async () => {
            throw oom();
          },
        },
        oom(),
      ],
      [
        'the commit',
        {
          commit: async () => {
            throw new RangeError('Maximum call stack size exceeded');
          },
        },
        new RangeError('Maximum call stack size exceeded'),
      ],
    ])('from %s fails the job with it, counts internal_error and tells the observer', async (_name, broken, expected) => {
      const t = setup({ snapshots: broken });
      t.ampersand.scriptInstallations(INTEGRATION, listing(unhealthy));
      await expect(t.poll()).rejects.toThrow(expected.message);
      expect(t.metrics.pollErrors()).toEqual([`${INTEGRATION} internal_error`]);
      expect(t.observer.calls).toEqual([`failed ${INTEGRATION} internal_error`]);
      expect(t.observer.errors[0]?.message).toBe(`internal error: ${expected.name}: ${expected.message}`);
      expect(await t.stores.outbox.size()).toBe(0);
      expect(t.delivery.kicked).toEqual([]);
    });

    it('is rethrown as it was when the observer cannot record it either', async () => {
      const t = setup({
        snapshots: {
          commit: async () => {
            throw new RangeError('Invalid string length');
          },
        },
      });
      t.observer.throwing.failed = closed();
      t.ampersand.scriptInstallations(INTEGRATION, listing(healthy));
      await expect(t.poll()).rejects.toThrow(RangeError);
      expect(t.observer.calls).toEqual([`failed ${INTEGRATION} internal_error`]);
    });
  });
});

describe('pollIntegration with several projects', () => {
  it("reads the integration with its job's project client, and tells the observer that project", async () => {
    const t = setup();
    const other = createFakeAmpersandClient();
    other.scriptInstallations(INTEGRATION, listing(healthy));
    const pollIntegration = createPollIntegration({
      ampersand: fakeProjects({ 'proj-1': t.ampersand, 'proj-2': other }),
      snapshots: t.stores.snapshots,
      outbox: t.stores.outbox,
      metrics: t.metrics,
      logger: t.logs.logger,
      projectId: 'proj-1',
      observer: t.observer,
      delivery: t.delivery,
      now: t.clock.now,
      newLineage: () => 'L1',
      policy: DEFAULT_ALERT_POLICY,
      failureDetails: { fetch: () => Promise.resolve(undefined) },
    });
    expect(await pollIntegration({ integrationId: INTEGRATION, projectId: 'proj-2', cycleId: 'c1' }, 'job-1')).toMatchObject({ status: 'committed' });
    expect(other.calls).toEqual([`installations ${INTEGRATION}`]);
    expect(t.ampersand.calls).toEqual([]);
    expect(t.observer.projects).toEqual(['proj-2']);
  });

  it('drops the poll of a project that is no longer watched, reading and counting nothing', async () => {
    const t = setup();
    expect(await t.pollWith({ integrationId: INTEGRATION, projectId: 'gone', cycleId: 'c1' })).toEqual({ status: 'skipped', reason: 'project_not_watched' });
    expect(t.ampersand.calls).toEqual([]);
    expect(t.observer.calls).toEqual([]);
    expect(t.metrics.calls).toEqual([]);
  });
});
