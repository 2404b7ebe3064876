/** Plain data for the store tests: the adapter tests and the contract suites build the same values. */
import { diffSnapshots } from '../../src/core/diff.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import type { OutboxEntry } from '../../src/ports.js';
import { state } from './builders.js';

/** A snapshot of healthy installations with these ids. */
export const snap = (...ids: string[]): Snapshot =>
  diffSnapshots(
    undefined,
    ids.map((id) => state(id)),
  ).next;

/** An outbox entry whose notification names its id, so the order of delivery is visible. */
export const entry = (id: string): OutboxEntry => ({
  id,
  destination: 'slack',
  enqueuedAt: 1,
  notification: { kind: 'upstream', projectId: 'p', state: 'down', reason: id, detectedAt: 't' },
});

/**
 * An outbox entry of an alert digest of `integrationId` with one event per
 * installation id, of the kind given: firings are low priority, anything
 * else high (core/outbox-order.ts); digests of one integration merge while waiting.
 */
export const alertsEntry = (
  id: string,
  integrationId: string,
  installationIds: readonly string[],
  event: 'fire' | 'remind' | 'resolve' = 'fire',
): OutboxEntry => ({
  id,
  destination: 'slack',
  enqueuedAt: 1,
  notification: {
    kind: 'alerts',
    projectId: 'p',
    integrationId,
    detectedAt: '2026-12-01T00:00:00.000Z',
    installations: 1000,
    firing: { unhealthy: installationIds.length, operation_failing: 0, bad_credentials: 0 },
    items: installationIds.map((installationId) => ({
      installationId,
      groupRef: `g-${installationId}`,
      groupName: `G ${installationId}`,
      provider: 'salesforce',
      condition: 'unhealthy' as const,
      event,
      since: 0,
      firedAt: 0,
    })),
    omitted: 0,
  },
});
