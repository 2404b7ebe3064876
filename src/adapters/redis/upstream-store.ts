/**
 * The upstream state in Redis: one hash (keys.ts) with a revision for
 * compare-and-set, the project-wide state, and the per-integration entries in a
 * field of their own. A commit appends the notification it causes to the outbox
 * in the same script. One round trip per call.
 */
import type { Redis } from 'ioredis';
import { INITIAL_UPSTREAM_STATE, type UpstreamState } from '../../core/upstream-policy.js';
import type { OutboxEntry, UpstreamStore } from '../../ports.js';
import { stateKeys } from './keys.js';
import { laneHeadsOf, outboxAppendArgs } from './outbox-append.js';
import { withStateScripts } from './scripts.js';
import { isStoredVersion } from './stored-values.js';

export interface RedisUpstreamStoreOptions {
  readonly redis: Redis;
  readonly prefix: string;
  /** Most outbox entries before the oldest low-priority ones are dropped (SLACK_OUTBOX_MAX); none when absent. */
  readonly outboxMax?: number;
}

export function createRedisUpstreamStore({ redis: client, prefix, outboxMax }: RedisUpstreamStoreOptions): UpstreamStore {
  const redis = withStateScripts(client);
  const keys = stateKeys(prefix);

  return {
    async load() {
      const [rawRev, raw, rawIntegrations] = await redis.hmget(keys.upstream, 'rev', 's', 'i');
      const rev = rawRev !== null && rawRev !== undefined && isStoredVersion(rawRev) ? Number(rawRev) : 0;
      if (raw === null || raw === undefined) return { rev, state: INITIAL_UPSTREAM_STATE };
      // Corrupt upstream state must not make every poll throw: it starts over, and the next commit replaces it.
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return { rev, state: INITIAL_UPSTREAM_STATE };
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { rev, state: INITIAL_UPSTREAM_STATE };
      const state = { ...INITIAL_UPSTREAM_STATE, ...(parsed as Partial<UpstreamState>) };
      // Without an `i` field (stored before it existed) the entries may still be inside `s`.
      const isEntries = (value: unknown): value is UpstreamState['integrations'] => typeof value === 'object' && value !== null && !Array.isArray(value);
      let own: unknown;
      try {
        own = rawIntegrations === null || rawIntegrations === undefined ? undefined : JSON.parse(rawIntegrations);
      } catch {
        own = {};
      }
      const integrations = own !== undefined ? (isEntries(own) ? own : {}) : isEntries(state.integrations) ? state.integrations : {};
      return { rev, state: { ...state, integrations } };
    },

    async commit(expectedRev, state, entries) {
      const { integrations, ...projectWide } = state;
      const list: readonly OutboxEntry[] = entries === undefined ? [] : isEntryList(entries) ? entries : [entries];
      const nowMs = list[0]?.enqueuedAt ?? 0;
      const outbox = await outboxAppendArgs(redis, keys, list, nowMs, outboxMax, true, { defaultLane: 2, firstOther: 7 });
      const result = await redis.ahmCommitUpstream(
        6 + outbox.laneKeys.length,
        keys.upstream,
        keys.outboxIds,
        keys.outboxEntries,
        keys.outboxMeta,
        keys.outboxLast,
        keys.outboxDrops,
        ...outbox.laneKeys,
        String(expectedRev),
        JSON.stringify(projectWide),
        JSON.stringify(integrations),
        ...outbox.args,
      );
      if (result[0] !== 1) return { committed: false };
      return { committed: true, version: Number(result[1]), ...laneHeadsOf(result, 2) };
    },
  };
}

/** `Array.isArray` does not narrow a readonly array out of a union. */
const isEntryList = (value: OutboxEntry | readonly OutboxEntry[]): value is readonly OutboxEntry[] => Array.isArray(value);
