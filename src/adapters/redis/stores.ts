/**
 * Every Redis store role on one connection and one key prefix: what main
 * wires. Each role can also be built on its own (tests, a future backend that
 * moves one role elsewhere).
 */
import type { RedisClient } from './redis-client.js';
import type { InitMarker, Outbox, SnapshotStore, UpstreamStore } from '../../ports.js';
import { createRedisInitMarker } from './init-marker.js';
import { createRedisOutbox } from './outbox.js';
import { DEFAULT_OUTBOX_MAX } from './outbox-append.js';
import { createRedisSnapshotStore } from './snapshot-store.js';
import { createRedisUpstreamStore } from './upstream-store.js';

export interface RedisStoresOptions {
  readonly redis: RedisClient;
  /** QUEUE_PREFIX; a hash-tagged one (`{ahm}`) keeps every state key in one Redis Cluster slot. */
  readonly prefix: string;
  /** Most dead letters kept (SLACK_DEAD_LETTER_MAX). */
  readonly deadLetterMax?: number;
  /** Most outbox entries before the oldest low-priority ones are dropped (SLACK_OUTBOX_MAX); DEFAULT_OUTBOX_MAX when absent. */
  readonly outboxMax?: number;
  /** Merge an integration's waiting digests (SLACK_OUTBOX_COALESCE); true unless false. */
  readonly coalesce?: boolean;
  /** The first watched project: it inherits the upstream state of a release that watched one project. */
  readonly legacyProjectId?: string;
}

export interface RedisStores {
  readonly snapshots: SnapshotStore;
  /** The default route's outbox lane (SLACK_WEBHOOK_URL). */
  readonly outbox: Outbox;
  /** The outbox lane of a route, by its name (core/routing.ts). */
  lane(this: void, route: string): Outbox;
  readonly upstream: UpstreamStore;
  readonly initMarker: InitMarker;
}

export function createRedisStores({
  redis,
  prefix,
  deadLetterMax,
  outboxMax = DEFAULT_OUTBOX_MAX,
  coalesce = true,
  legacyProjectId,
}: RedisStoresOptions): RedisStores {
  return {
    snapshots: createRedisSnapshotStore({ redis, prefix, outboxMax, coalesce }),
    outbox: createRedisOutbox({ redis, prefix, ...(deadLetterMax === undefined ? {} : { deadLetterMax }) }),
    lane: (route) => createRedisOutbox({ redis, prefix, lane: route, ...(deadLetterMax === undefined ? {} : { deadLetterMax }) }),
    upstream: createRedisUpstreamStore({ redis, prefix, outboxMax, ...(legacyProjectId === undefined ? {} : { legacyProjectId }) }),
    initMarker: createRedisInitMarker({ redis, prefix }),
  };
}
