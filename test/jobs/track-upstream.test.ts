/**
 * The upstream tracker on the in-memory upstream store and outbox, with a
 * recording delivery queue and a fixed clock: the project-wide alert after K
 * failed cycles and its recovery, an integration's own alert, forgetting an
 * integration that left the list, and what /readyz reads meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { createUpstreamTracker } from '../../jobs/track-upstream.js';
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import type { Route } from '../../src/core/monitor-config.js';
import type { OutboxEntry, UpstreamStore } from '../../src/ports.js';
import { createFixedClock } from '../fakes/fixed-clock.js';
import { createInMemoryStores } from '../fakes/in-memory-stores.js';
import { createRecordingDeliveryQueue } from '../fakes/recording-delivery-queue.js';
import { captureLogs } from '../helpers/logger.js';

const K = 2;
const FORGET_AFTER_MS = 60_000;
const serverError = (): AmpersandApiError => new AmpersandApiError('bad gateway', 'server_error', 502);

function setup(store?: (stores: ReturnType<typeof createInMemoryStores>) => Pick<UpstreamStore, 'load' | 'commit'>, routes: readonly Route[] = []) {
  const stores = createInMemoryStores();
  const delivery = createRecordingDeliveryQueue();
  const clock = createFixedClock();
  let next = 0;
  const tracker = createUpstreamTracker({
    store: store ? store(stores) : stores.upstream,
    logger: captureLogs().logger,
    projects: ['proj-1'],
    degradedAfterCycles: K,
    forgetAfterMs: FORGET_AFTER_MS,
    delivery,
    now: clock.now,
    newId: () => `n${(next += 1)}`,
    routes,
  });
  /** Every outbox entry, oldest first, popped as delivery would. */
  const drain = async (): Promise<OutboxEntry[]> => {
    const out: OutboxEntry[] = [];
    for (let head = await stores.outbox.head(); head !== undefined; head = await stores.outbox.head()) {
      if (head.entry) out.push(head.entry);
      await stores.outbox.pop(head.id, false, clock.now().getTime());
    }
    return out;
  };
  return { stores, delivery, clock, tracker, drain };
}

describe('the upstream tracker', () => {
  it('is unknown before any poll', async () => {
    const t = setup();
    expect(await t.tracker.apiUp()).toBeUndefined();
    expect(await t.tracker.report()).toMatchObject({ state: 'unknown', failedCycles: 0 });
  });

  describe('with routes', () => {
    const route = (name: string, match: Route['match']): Route => ({
      name,
      match,
      webhookUrl: 'https://hooks.slack.com/x',
      webhookSource: name,
      mention: '<!here>',
    });
    const routes = [route('sales', { integrationId: 'A' }), route('other-project', { projectId: 'proj-2' }), route('hubspot', { provider: 'hubspot' })];

    it('tells the default route and every route the blind monitor concerns, each in its own lane, handed to its delivery', async () => {
      const t = setup(undefined, routes);
      for (const cycle of ['c1', 'c2']) {
        await t.tracker.pollFailed('proj-1', 'A', cycle, serverError());
        await t.tracker.pollFailed('proj-1', 'B', cycle, serverError());
      }
      const head = await t.stores.outbox.head();
      expect(head?.entry).toMatchObject({ id: 'upstream.n1', destination: 'default', notification: { kind: 'upstream', state: 'down' } });
      // Not the route of another project; the provider route cannot be ruled out for a project-wide outage.
      expect(await t.stores.lane('sales').head()).toMatchObject({
        id: 'upstream.n1.sales',
        entry: { destination: 'sales', notification: head?.entry?.notification },
      });
      expect(await t.stores.lane('hubspot').headId()).toBe('upstream.n1.hubspot');
      expect(await t.stores.lane('other-project').size()).toBe(0);
      expect(t.delivery.kicked).toEqual(['upstream.n1', 'upstream.n1.sales', 'upstream.n1.hubspot']);
    });
  });

  describe('when every poll fails', () => {
    it('reports degraded at once, and sends one "cannot read" message after K cycles, handed to delivery', async () => {
      const t = setup();
      await t.tracker.pollFailed('proj-1', 'A', 'c1', serverError());
      expect(await t.stores.outbox.size()).toBe(0);
      expect(await t.tracker.report()).toMatchObject({ state: 'degraded', failedCycles: 1 });
      expect(await t.tracker.apiUp()).toBe(false);

      await t.tracker.pollFailed('proj-1', 'A', 'c2', serverError());
      await t.tracker.pollFailed('proj-1', 'B', 'c2', serverError());
      const head = await t.stores.outbox.head();
      expect(t.delivery.kicked).toEqual([head?.id]);
      expect(head?.id).toBe('upstream.n1');
      expect(head?.entry?.notification).toMatchObject({ kind: 'upstream', projectId: 'proj-1', state: 'down', detectedAt: t.clock.now().toISOString() });
      expect(await t.stores.outbox.size()).toBe(1);
      const report = await t.tracker.report();
      expect(report).toMatchObject({ state: 'degraded', failedCycles: K });
      expect(report.reason).toContain(`upstream degraded: ${K} consecutive poll cycles failed, last error: server_error (HTTP 502): bad gateway`);
      expect(report.integrations['A']).toEqual({ ok: false, at: t.clock.now().toISOString(), reason: 'server_error', message: 'bad gateway' });
    });

    it('sends one recovery message at the first successful poll, and reports ok', async () => {
      const t = setup();
      for (const cycle of ['c1', 'c2', 'c3']) await t.tracker.pollFailed('proj-1', 'A', cycle, serverError());
      await t.tracker.pollSucceeded('proj-1', 'A', 'c4');
      await t.tracker.pollSucceeded('proj-1', 'A', 'c5');
      const sent = await t.drain();
      expect(sent.map((e) => e.notification)).toMatchObject([
        { kind: 'upstream', state: 'down' },
        { kind: 'upstream', state: 'up' },
      ]);
      expect(await t.tracker.report()).toMatchObject({ state: 'ok', failedCycles: 0 });
      expect(await t.tracker.apiUp()).toBe(true);
    });

    it('says since when and why in both messages: the first failed poll, and the kind of failure', async () => {
      const t = setup();
      const first = t.clock.now().getTime();
      for (const cycle of ['c1', 'c2', 'c3']) {
        await t.tracker.pollFailed('proj-1', 'A', cycle, serverError());
        t.clock.advance(60_000);
      }
      await t.tracker.pollSucceeded('proj-1', 'A', 'c4');
      const [down, up] = (await t.drain()).map((e) => e.notification);
      expect(down).toMatchObject({ state: 'down', sinceMs: first, cause: 'server_error' });
      expect(up).toMatchObject({ state: 'up', sinceMs: first });
    });
  });

  it('opens a configuration fault at once on a 401', async () => {
    const t = setup();
    await t.tracker.pollFailed('proj-1', 'A', 'c1', new AmpersandApiError('no key', 'unauthorized', 401));
    expect((await t.stores.outbox.head())?.entry?.notification).toMatchObject({ kind: 'upstream', state: 'down' });
    expect(await t.tracker.report()).toMatchObject({ state: 'configuration_error' });
  });

  describe('when one integration fails while others are read', () => {
    it('opens its own alert after K cycles, and resolves it as no longer monitored once unlisted for the forget time', async () => {
      const t = setup();
      for (const cycle of ['c1', 'c2']) {
        await t.tracker.pollSucceeded('proj-1', 'A', cycle);
        await t.tracker.pollFailed('proj-1', 'B', cycle, serverError());
      }
      expect((await t.tracker.report()).unreadableIntegrations).toEqual({ B: 'server_error (HTTP 502): bad gateway (2 consecutive cycles)' });
      expect(await t.drain()).toMatchObject([{ notification: { kind: 'upstream', state: 'down', integrationId: 'B' } }]);

      await t.tracker.integrationsListed('proj-1', ['A']);
      expect(await t.stores.outbox.size()).toBe(0);
      t.clock.advance(FORGET_AFTER_MS - 1);
      await t.tracker.integrationsListed('proj-1', ['A']);
      expect(await t.stores.outbox.size()).toBe(0);
      t.clock.advance(1);
      await t.tracker.integrationsListed('proj-1', ['A']);
      const sent = await t.drain();
      expect(sent).toMatchObject([{ notification: { kind: 'upstream', state: 'up', integrationId: 'B', noLongerMonitored: true } }]);
      expect(t.delivery.kicked.at(-1)).toBe(sent[0]?.id);
      expect(await t.tracker.report()).toMatchObject({ state: 'ok', unreadableIntegrations: {} });
    });

    it('keeps the entry of an integration listed again before the forget time', async () => {
      const t = setup();
      for (const cycle of ['c1', 'c2']) {
        await t.tracker.pollSucceeded('proj-1', 'A', cycle);
        await t.tracker.pollFailed('proj-1', 'B', cycle, serverError());
      }
      await t.drain();
      await t.tracker.integrationsListed('proj-1', ['A']);
      t.clock.advance(FORGET_AFTER_MS - 1);
      await t.tracker.integrationsListed('proj-1', ['A', 'B']);
      t.clock.advance(FORGET_AFTER_MS);
      await t.tracker.integrationsListed('proj-1', ['A', 'B']);
      expect(await t.stores.outbox.size()).toBe(0);
      expect(Object.keys((await t.tracker.report()).unreadableIntegrations)).toEqual(['B']);
    });
  });

  describe('when its store refuses the write', () => {
    it('fails the call, and reports degraded and the API not up until a write succeeds again', async () => {
      let refusing = true;
      const t = setup((stores) => ({
        load: (projectId) => stores.upstream.load(projectId),
        commit: async (...args) => {
          if (refusing) throw new Error("OOM command not allowed when used memory > 'maxmemory'.");
          return stores.upstream.commit(...args);
        },
      }));
      await expect(t.tracker.pollSucceeded('proj-1', 'A', 'c1')).rejects.toThrow('OOM');
      expect(await t.tracker.apiUp()).toBe(false);
      expect(await t.tracker.report()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('poll outcomes cannot be stored in Redis: OOM') });
      refusing = false;
      await t.tracker.pollSucceeded('proj-1', 'A', 'c2');
      expect(await t.tracker.apiUp()).toBe(true);
      expect(await t.tracker.report()).toMatchObject({ state: 'ok' });
    });
  });
});
