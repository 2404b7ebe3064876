/**
 * The outbox in Redis: a list of ids (oldest first) and a hash of their
 * entries, the capped dead letters, and the delivery channel's shared health
 * (keys.ts). Entries are written by the snapshot and upstream commits, and
 * read here through the versioned codec (core/outbox-entry.ts).
 *
 * Round trips: one per call, except deadLetters (two: the ids, then their
 * entries), replayDeadLetters (one read of the entries, then one script call
 * per REPLAY_PER_SCRIPT_CALL entries); channelStatus sends its two reads together.
 */
import type { RedisClient } from './redis-client.js';
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

export function createRedisOutbox({ redis: client, prefix, deadLetterMax = DEFAULT_DEAD_LETTER_MAX }: RedisOutboxOptions): Outbox {
  const redis = withStateScripts(client);
  const keys = stateKeys(prefix);

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
