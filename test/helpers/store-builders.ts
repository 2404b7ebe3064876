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
