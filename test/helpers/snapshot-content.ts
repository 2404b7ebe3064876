/**
 * A stored snapshot's content for comparison in the tests: every field but
 * `since`, which carries the time of the poll that saw a change and so differs
 * between a model's plan and the service's commit of the same listing (and
 * after a change that came back). `null` when nothing readable is stored.
 */
import { decodeSnapshot } from '../../src/core/snapshot.js';
import type { Snapshot } from '../../src/core/snapshot.js';

export function contentOf(snapshot: Snapshot | undefined): string | null {
  if (snapshot === undefined) return null;
  return JSON.stringify([...snapshot].map(([id, { since: _since, ...record }]) => [id, record]));
}

/** contentOf a stored (encoded) snapshot, as HGET returns it. */
export function storedContent(raw: string | null): string | null {
  return raw === null ? null : contentOf(decodeSnapshot(raw));
}
