/**
 * The upstream state in Redis: one hash per watched project (keys.ts) with a
 * revision for compare-and-set, the project-wide state, and the per-integration
 * entries in a field of their own. A commit appends the notification it causes
 * to the outbox in the same script. One round trip per call (two for the first
 * load of the legacy project, below).
 *
 * Releases that watched one project kept its state in one `upstream` hash. The
 * first watched project (`legacyProjectId`) reads that hash while it has no
 * hash of its own, at revision 0, so its first commit creates its own hash and
 * an alert that was open before the upgrade still gets its recovery message.
 */
import type { RedisClient } from './redis-client.js';
import { INITIAL_UPSTREAM_STATE, type UpstreamState } from '../../core/upstream-policy.js';
import type { OutboxEntry, UpstreamStore } from '../../ports.js';
import { stateKeys } from './keys.js';
import { laneHeadsOf, outboxAppendArgs } from './outbox-append.js';
import { withStateScripts } from './scripts.js';
import { isStoredVersion } from './stored-values.js';

export interface RedisUpstreamStoreOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  /** Most outbox entries before the oldest low-priority ones are dropped (SLACK_OUTBOX_MAX); none when absent. */
  readonly outboxMax?: number;
  /** The project that inherits the single-project state of the release before: the first watched one. */
  readonly legacyProjectId?: string;
}

export function createRedisUpstreamStore({ redis: client, prefix, outboxMax, legacyProjectId }: RedisUpstreamStoreOptions): UpstreamStore {
  const redis = withStateScripts(client);
  const keys = stateKeys(prefix);

  return {
    async load(projectId) {
      const fields = await redis.hmget(keys.upstreamOf(projectId), 'rev', 's', 'i');
      const [rawRev] = fields;
      // The legacy hash's state at revision 0: the project's own hash has none, and the commit is checked against that hash.
      const inherit = projectId === legacyProjectId && fields.every((field) => field === null || field === undefined);
      const [, raw, rawIntegrations] = inherit ? await redis.hmget(keys.upstream, 'rev', 's', 'i') : fields;
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

    async commit(projectId, expectedRev, state, entries) {
      const { integrations, ...projectWide } = state;
      const list: readonly OutboxEntry[] = entries === undefined ? [] : isEntryList(entries) ? entries : [entries];
      const nowMs = list[0]?.enqueuedAt ?? 0;
      const outbox = await outboxAppendArgs(redis, keys, list, nowMs, outboxMax, true, { defaultLane: 2, firstOther: 7 });
      const result = await redis.ahmCommitUpstream(
        6 + outbox.laneKeys.length,
        keys.upstreamOf(projectId),
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
