/**
 * One lane of the outbox in Redis: the lane of one route (keys.ts laneIds; the
 * default route's is the list of the release before routes), in the hash of
 * entries the lanes share, the capped dead letters (shared too: each entry
 * names its route), and the lane's webhook health (laneChannel). Entries are written by the snapshot and upstream commits, and
 * read here through the versioned codec (core/outbox-entry.ts).
 *
 * Round trips: one per call, except deadLetters (two: the ids, then their
 * entries), replayDeadLetters (one read of the entries, then one script call
 * per REPLAY_PER_SCRIPT_CALL entries); channelStatus sends its two reads together.
 */
import type { RedisClient } from './redis-client.js';
import { DEFAULT_ROUTE_NAME } from '../../core/monitor-config.js';
import { decodeOutboxEntry, encodeOutboxEntry, type OutboxEntry } from '../../core/outbox-entry.js';
import type { Outbox } from '../../ports.js';
import { stateKeys } from './keys.js';
import { withStateScripts } from './scripts.js';
import { epochMs } from './stored-values.js';

export interface RedisOutboxOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  /** Most dead letters kept; the oldest are trimmed first. */
  readonly deadLetterMax?: number;
  /** The route whose lane this is; the default route's (SLACK_WEBHOOK_URL) when absent. */
  readonly lane?: string;
}

/** Most dead letters one pop trims beyond the cap; bounds the time the script holds Redis. */
export const DEAD_LETTER_TRIM_PER_POP = 1_000;

/** Most dead letters one replay script call moves; bounds its arguments and the time it holds Redis. */
export const REPLAY_PER_SCRIPT_CALL = 100;

/** Default of SLACK_DEAD_LETTER_MAX. */
export const DEFAULT_DEAD_LETTER_MAX = 10_000;

/** A stored entry, or undefined when it is missing or unreadable (the caller dead-letters its id). */
function readEntry(raw: string | null | undefined): OutboxEntry | undefined {
  if (raw === null || raw === undefined) return undefined;
  const decoded = decodeOutboxEntry(raw);
  return decoded.ok ? decoded.entry : undefined;
}

export function createRedisOutbox({ redis: client, prefix, deadLetterMax = DEFAULT_DEAD_LETTER_MAX, lane = DEFAULT_ROUTE_NAME }: RedisOutboxOptions): Outbox {
  const redis = withStateScripts(client);
  const state = stateKeys(prefix);
  // This lane's list and webhook health in place of the default route's; the rest is shared.
  const keys = { ...state, outboxIds: state.laneIds(lane), slack: state.laneChannel(lane) };

  return {
    async head() {
      const head = await redis.ahmOutboxHead(keys.outboxIds, keys.outboxEntries, keys.slack);
      if (head === null) return undefined;
      const [id, raw, ok, seen] = head;
      return { id, entry: readEntry(raw), channel: { lastSuccessMs: epochMs(ok), lastFaultMs: epochMs(seen) } };
    },

    headId: async () => (await redis.lindex(keys.outboxIds, 0)) ?? undefined,

    size: () => redis.llen(keys.outboxIds),

    droppedTotal: async () => Number(await redis.hget(keys.outboxDrops, 'total')) || 0,

    async pop(id, dead, deliveredAtMs) {
      const [popped, head, recovered] = await redis.ahmPopOutbox(
        keys.outboxIds,
        keys.outboxEntries,
        keys.deadIds,
        keys.deadEntries,
        keys.slack,
        keys.outboxMeta,
        keys.outboxLast,
        id,
        dead ? '1' : '0',
        deliveredAtMs === undefined ? '' : String(deliveredAtMs),
        String(deadLetterMax),
        String(DEAD_LETTER_TRIM_PER_POP),
      );
      return { popped: popped === 1, head: head ?? undefined, recovered: recovered === 1 };
    },

    async deadLetters() {
      const ids = await redis.lrange(keys.deadIds, 0, -1);
      if (ids.length === 0) return [];
      const raws = await redis.hmget(keys.deadEntries, ...ids);
      return raws.map(readEntry).filter((e): e is OutboxEntry => e !== undefined);
    },

    async replayDeadLetters(ids, nowMs, newId) {
      const asked = [...new Set(ids)];
      const raws = asked.length === 0 ? [] : await redis.hmget(keys.deadEntries, ...asked);
      const missing: string[] = [];
      const unreadable: string[] = [];
      const moves: { id: string; newId: string; encoded: string }[] = [];
      asked.forEach((id, i) => {
        const raw = raws[i];
        const entry = readEntry(raw);
        if (raw === null || raw === undefined) missing.push(id);
        else if (entry === undefined) unreadable.push(id);
        else {
          const renamed = newId(id);
          moves.push({ id, newId: renamed, encoded: encodeOutboxEntry({ ...entry, id: renamed, enqueuedAt: nowMs }) });
        }
      });
      if (missing.length > 0 || unreadable.length > 0) return { replayed: [], missing, unreadable };
      const replayed: { id: string; newId: string }[] = [];
      for (let i = 0; i < moves.length; i += REPLAY_PER_SCRIPT_CALL) {
        const chunk = moves.slice(i, i + REPLAY_PER_SCRIPT_CALL);
        const [moved, gone] = await redis.ahmReplayDeadLetters(
          keys.deadIds,
          keys.deadEntries,
          keys.outboxIds,
          keys.outboxEntries,
          ...chunk.flatMap((m) => [m.id, m.newId, m.encoded]),
        );
        if (moved !== 1) return { replayed, missing: [gone ?? ''], unreadable: [] };
        replayed.push(...chunk.map((m) => ({ id: m.id, newId: m.newId })));
      }
      return { replayed, missing: [], unreadable: [] };
    },

    markChannelDown: async (reason, nowMs) => (await redis.ahmMarkChannelDown(keys.slack, reason, String(nowMs))) === 1,

    async channelStatus() {
      const [hash, count] = await Promise.all([redis.hgetall(keys.slack), redis.llen(keys.deadIds)]);
      return {
        up: hash['up'] === undefined ? undefined : hash['up'] === '1',
        reason: hash['reason'],
        downSinceMs: epochMs(hash['since']),
        lastSuccessMs: epochMs(hash['ok']),
        deadLetters: count,
      };
    },
  };
}

/** What adoptLanes moved: the lane of a route no longer configured, and how many entries it held. */
export interface AdoptedLane {
  readonly route: string;
  readonly moved: number;
}

/**
 * Records the configured routes as having lanes, and moves the lane of every
 * route that had one but is no longer configured (the operator removed it and
 * restarted) to the tail of the default lane, so that its entries are
 * delivered on SLACK_WEBHOOK_URL rather than wait forever or be lost. Each
 * lane moves in one atomic script. Runs at start and at every cycle: a replica
 * that still runs the old configuration during a rolling deploy may append to
 * such a lane after a move (a removed route's name stays in lanes, so the next
 * adoption moves that too). Returns the lanes that had entries to move.
 */
export async function adoptLanes(client: RedisClient, prefix: string, routes: readonly string[]): Promise<AdoptedLane[]> {
  const redis = withStateScripts(client);
  const keys = stateKeys(prefix);
  const others = routes.filter((r) => r !== DEFAULT_ROUTE_NAME);
  const known = await redis.smembers(keys.lanes);
  const adopted: AdoptedLane[] = [];
  for (const route of known.filter((r) => !others.includes(r)).sort()) {
    if (route === DEFAULT_ROUTE_NAME) continue;
    const moved = await redis.ahmAdoptLane(keys.laneIds(route), keys.outboxIds, keys.lanes, keys.laneChannel(route), route);
    if (moved > 0) adopted.push({ route, moved });
  }
  if (others.length > 0) await redis.sadd(keys.lanes, ...others);
  return adopted;
}
