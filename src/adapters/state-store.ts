/**
 * The shared state in Redis: one snapshot per integration, and the outbox of
 * notifications waiting for Slack. A poll commits its new snapshot and its
 * notifications in one Lua script, guarded by the snapshot's version, so a
 * crash can never keep one without the other, and two replicas that polled
 * the same integration cannot both commit (the second gets a conflict and
 * sends nothing). Every operation is one round trip, whatever the number of
 * installations.
 *
 * Keys, under `{prefix}:state:`:
 *   snap:{integrationId}  hash  v (version), l (lineage), p (projectId), t (last success, ms), d (encoded snapshot)
 *   integrations          set   integration ids that have a snapshot
 *   outbox:ids            list  notification ids, oldest first
 *   outbox:entries        hash  id -> JSON OutboxEntry
 *   dead:ids, dead:entries      notifications that Slack refused or that outlived the retry horizon;
 *                               capped (oldest trimmed first) so a long fault cannot fill Redis
 *   slack                 hash  up (1/0), reason, since (ms), ok (last success, ms), seen (last
 *                               channel fault, ms): the webhook's health, shared so every replica
 *                               reports it in /readyz and /metrics and counts the retry horizon alike
 *   upstream              hash  rev, s (JSON UpstreamState without `integrations`), i (JSON per-integration
 *                               entries): the monitor's own access to Ampersand. `i` is a field of its own
 *                               because the release before it rewrites `s` and would erase them.
 *   meta                  hash  created (ms): tells a Redis that lost its data
 *   retain:{uuid}         set   ids to keep, staged by one retain call; deleted by it, expires in 60 s
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Notification } from '../core/notification.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from '../core/snapshot.js';
import { INITIAL_UPSTREAM_STATE, type UpstreamState } from '../core/upstream-policy.js';

export interface OutboxEntry {
  readonly id: string;
  /** Epoch ms when the change was committed; the retry horizon counts from here at the earliest. */
  readonly enqueuedAt: number;
  readonly notification: Notification;
}

export interface StoredSnapshot {
  readonly integrationId: string;
  readonly version: number;
  /** Random id of this snapshot's history: a baseline starts a new one, so notification ids never repeat. */
  readonly lineage: string;
  readonly projectId: string;
  readonly lastSuccessMs: number;
  /** Undefined when the stored data could not be read; the next poll is then a baseline. */
  readonly snapshot: Snapshot | undefined;
  /**
   * Set when the stored version or data could not be read. `storedVersion` is
   * the raw `v` to commit against: an unreadable version is overwritten by a
   * new baseline (version 1), still guarded so that only one replica does it.
   */
  readonly unreadable?: { readonly reason: string; readonly storedVersion: string };
}

export interface CommitRequest {
  readonly integrationId: string;
  /** The version that was loaded (as stored, if it was unreadable), or undefined if there was none. */
  readonly expectedVersion: number | string | undefined;
  readonly lineage: string;
  readonly projectId: string;
  readonly snapshot: Snapshot;
  readonly nowMs: number;
  readonly outbox: readonly OutboxEntry[];
}

export type CommitResult = { readonly committed: true; readonly version: number; readonly outboxHead: string | undefined } | { readonly committed: false };

export interface SlackStatus {
  /** undefined until a delivery succeeded or found the webhook broken. */
  readonly up: boolean | undefined;
  readonly reason: string | undefined;
  /** When the webhook went down, epoch ms. */
  readonly downSinceMs: number | undefined;
  readonly lastSuccessMs: number | undefined;
  readonly deadLetters: number;
}

/** What the retry horizon of the outbox head needs to know about the channel, epoch ms. */
export interface ChannelTimes {
  /** The last message Slack accepted. */
  readonly lastSuccessMs: number | undefined;
  /** The last time a delivery found the webhook broken (every time, not only when it broke). */
  readonly lastFaultMs: number | undefined;
}

export interface StoredUpstream {
  /** Revision for compare-and-set; 0 when nothing is stored. */
  readonly rev: number;
  readonly state: UpstreamState;
}

export interface StateStore {
  load(integrationId: string): Promise<StoredSnapshot | undefined>;
  commit(request: CommitRequest): Promise<CommitResult>;
  /** Every stored snapshot, for /metrics: every replica exports the shared state. */
  loadAll(): Promise<StoredSnapshot[]>;
  /**
   * Drops the snapshots of integrations that are not in `integrationIds` and
   * were not polled successfully since `cutoffMs`: a transiently empty discovery,
   * or replicas with different lists during a rolling deploy, forget nothing.
   */
  retain(integrationIds: readonly string[], cutoffMs: number): Promise<string[]>;
  /**
   * The head of the outbox: its id, and its entry unless that is missing or
   * unreadable (then the caller dead-letters the id rather than stall on it),
   * with the channel's last success and last fault for the retry horizon; one
   * round trip.
   */
  outboxHead(): Promise<{ readonly id: string; readonly entry: OutboxEntry | undefined; readonly channel: ChannelTimes } | undefined>;
  /** Only the id of the head: what a caller needs to hand the head to delivery. */
  outboxHeadId(): Promise<string | undefined>;
  outboxSize(): Promise<number>;
  /**
   * Removes `id` if it is still the head of the outbox, moving it to the dead
   * letters when `dead` is set, and returns
   * the new head id. A delivered one (`deliveredAtMs`) also marks the webhook up
   * in the same round trip; `recovered` tells that it was down before. Every
   * pop also trims the oldest dead letters beyond the cap, at most
   * DEAD_LETTER_TRIM_PER_POP of them, so that a list of any length converges.
   */
  popOutbox(id: string, dead: boolean, deliveredAtMs?: number): Promise<{ popped: boolean; head: string | undefined; recovered: boolean }>;
  deadLetters(): Promise<OutboxEntry[]>;
  /**
   * Marks the webhook down with a (secret-free) reason and records `nowMs` as its
   * last fault, on every call; true if it was not down before.
   */
  markSlackDown(reason: string, nowMs: number): Promise<boolean>;
  /** The webhook's shared health and the number of dead letters. */
  slackStatus(): Promise<SlackStatus>;
  loadUpstream(): Promise<StoredUpstream>;
  /** Stores the upstream state and, atomically, the notification it causes; not committed if `expectedRev` is stale. */
  commitUpstream(expectedRev: number, state: UpstreamState, entry: OutboxEntry | undefined): Promise<CommitResult>;
  /** True once per Redis data set: false means Redis was emptied since `markInitialised` ran. */
  isInitialised(): Promise<boolean>;
  markInitialised(nowMs: number): Promise<void>;
}

const COMMIT = `
local snap, integrations, ids, entries = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local current = redis.call('HGET', snap, 'v')
-- ARGV[1] is '' when no snapshot is expected, else '=' and the version as loaded
-- (which may be any string, even an empty one, when the stored one is corrupt).
if ARGV[1] == '' then
  if current then return {0} end
elseif current ~= string.sub(ARGV[1], 2) then
  return {0}
end
-- A stored version that is not a plain number (corrupt) is replaced: the caller read it
-- as unreadable and sends a new baseline; the exact-match guard above still lets only one
-- replica do so.
local version = 1
if current and string.match(current, '^%d+$') then version = tonumber(current) + 1 end
redis.call('HSET', snap, 'v', version, 'l', ARGV[2], 'p', ARGV[3], 't', ARGV[4], 'd', ARGV[5])
redis.call('SADD', integrations, ARGV[6])
for i = 7, #ARGV, 2 do
  redis.call('RPUSH', ids, ARGV[i])
  redis.call('HSET', entries, ARGV[i], ARGV[i + 1])
end
return {1, version, redis.call('LINDEX', ids, 0)}
`;

const LOAD_ALL = `
local members = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, id in ipairs(members) do
  local h = redis.call('HMGET', ARGV[1] .. id, 'v', 'l', 'p', 't', 'd')
  if h[1] then table.insert(out, {id, h[1], h[2] or '', h[3] or '', h[4] or '0', h[5] or ''}) end
end
return out
`;

// The ids to keep are staged in a private temporary set (KEYS[2]) by the caller, in
// chunks: one call with every id as an argument overflows the JS call stack somewhere
// between 120,000 and 200,000 ids. The set is deleted here, and expires if we die first.
const RETAIN = `
local members = redis.call('SMEMBERS', KEYS[1])
local cutoff = tonumber(ARGV[2])
local dropped = {}
for _, id in ipairs(members) do
  if redis.call('SISMEMBER', KEYS[2], id) == 0 and (tonumber(redis.call('HGET', ARGV[1] .. id, 't') or '0') or 0) < cutoff then
    redis.call('DEL', ARGV[1] .. id)
    redis.call('SREM', KEYS[1], id)
    table.insert(dropped, id)
  end
end
redis.call('DEL', KEYS[2])
return dropped
`;

/** Ids per SADD when staging the keep-set of retain. */
const RETAIN_CHUNK = 10_000;

// ARGV: id, dead (1/0), delivered-at ms ('' if not delivered), dead-letter cap, most to trim.
// The trim is bounded per call: a list left untrimmed by an older release (any length)
// would otherwise block Redis for seconds in one script. Every pop trims, so the list
// converges to the cap with ordinary traffic, a chunk at a time.
const POP = `
local ids, entries, deadIds, deadEntries, slack = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local popped = 0
if redis.call('LINDEX', ids, 0) == ARGV[1] then
  redis.call('LPOP', ids)
  local entry = redis.call('HGET', entries, ARGV[1])
  redis.call('HDEL', entries, ARGV[1])
  if ARGV[2] == '1' then
    redis.call('RPUSH', deadIds, ARGV[1])
    redis.call('HSET', deadEntries, ARGV[1], entry or '')
  end
  popped = 1
end
local excess = math.min(redis.call('LLEN', deadIds) - tonumber(ARGV[4]), tonumber(ARGV[5]))
if excess > 0 then
  local trimmed = redis.call('LRANGE', deadIds, 0, excess - 1)
  redis.call('LTRIM', deadIds, excess, -1)
  redis.call('HDEL', deadEntries, unpack(trimmed))
end
local recovered = 0
if ARGV[3] ~= '' then
  if redis.call('HGET', slack, 'up') == '0' then recovered = 1 end
  redis.call('HSET', slack, 'up', '1', 'ok', ARGV[3])
  redis.call('HDEL', slack, 'reason', 'since')
end
return {popped, redis.call('LINDEX', ids, 0), recovered}
`;

// ARGV: reason, now ms. Returns 1 if the webhook was not already down. 'seen' is set on
// every fault: the retry horizon of the head counts from it, not from when the fault began.
const MARK_CHANNEL_DOWN = `
local was = redis.call('HGET', KEYS[1], 'up')
if was == '0' then
  redis.call('HSET', KEYS[1], 'reason', ARGV[1], 'seen', ARGV[2])
  return 0
end
redis.call('HSET', KEYS[1], 'up', '0', 'reason', ARGV[1], 'since', ARGV[2], 'seen', ARGV[2])
return 1
`;

// The head id, its entry, and the channel's last success and last fault.
const HEAD = `
local id = redis.call('LINDEX', KEYS[1], 0)
if not id then return false end
local times = redis.call('HMGET', KEYS[3], 'ok', 'seen')
return {id, redis.call('HGET', KEYS[2], id), times[1], times[2]}
`;

const UPSTREAM = `
local key, ids, entries = KEYS[1], KEYS[2], KEYS[3]
local stored = redis.call('HGET', key, 'rev') or '0'
-- A corrupt revision reads as 0, as loadUpstream reads it, so the next commit replaces it.
local rev = 0
if string.match(stored, '^%d+$') then rev = tonumber(stored) end
if rev ~= tonumber(ARGV[1]) then return {0} end
redis.call('HSET', key, 'rev', rev + 1, 's', ARGV[2], 'i', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('RPUSH', ids, ARGV[4])
  redis.call('HSET', entries, ARGV[4], ARGV[5])
end
return {1, rev + 1, redis.call('LINDEX', ids, 0)}
`;

type Commands = {
  ahmCommit(...args: (string | number)[]): Promise<[number, number?, string?]>;
  ahmLoadAll(key: string, prefix: string): Promise<[string, string, string, string, string, string][]>;
  ahmRetain(key: string, keep: string, prefix: string, cutoff: string): Promise<string[]>;
  ahmPop(...args: string[]): Promise<[number, string | null, number]>;
  ahmSlackDown(key: string, reason: string, nowMs: string): Promise<number>;
  ahmHead(ids: string, entries: string, slack: string): Promise<[string, string | null, string | null, string | null] | null>;
  ahmUpstream(...args: string[]): Promise<[number, number?, string?]>;
};

function defineCommands(redis: Redis): Redis & Commands {
  // defineCommand is idempotent per name on one client; scripts are sent by EVALSHA.
  redis.defineCommand('ahmCommit', { numberOfKeys: 4, lua: COMMIT });
  redis.defineCommand('ahmLoadAll', { numberOfKeys: 1, lua: LOAD_ALL });
  redis.defineCommand('ahmRetain', { numberOfKeys: 2, lua: RETAIN });
  redis.defineCommand('ahmPop', { numberOfKeys: 5, lua: POP });
  redis.defineCommand('ahmSlackDown', { numberOfKeys: 1, lua: MARK_CHANNEL_DOWN });
  redis.defineCommand('ahmHead', { numberOfKeys: 3, lua: HEAD });
  redis.defineCommand('ahmUpstream', { numberOfKeys: 3, lua: UPSTREAM });
  return redis as Redis & Commands;
}

function parseEntry(raw: string | null | undefined): OutboxEntry | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const entry = JSON.parse(raw) as Partial<OutboxEntry> | null;
    const kind = (entry?.notification as { kind?: unknown } | undefined)?.kind;
    if (typeof entry?.id !== 'string' || typeof entry.enqueuedAt !== 'number' || (kind !== 'transitions' && kind !== 'baseline' && kind !== 'upstream')) return undefined;
    return entry as OutboxEntry;
  } catch {
    return undefined;
  }
}

/**
 * A stored version or revision: only a plain non-negative integer. NaN, '', '1e3' or garbage
 * would never match again on a compare-and-set and freeze what it guards.
 */
const isStoredVersion = (value: string): boolean => /^\d{1,15}$/.test(value);

/** A stored epoch-ms field; absent or garbage reads as unknown. */
function epochMs(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export interface RedisStateStoreOptions {
  readonly redis: Redis;
  readonly prefix: string;
  /** Most dead letters kept; the oldest are trimmed first. */
  readonly deadLetterMax?: number;
}

/** Most dead letters one pop trims beyond the cap; bounds the time the script holds Redis. */
export const DEAD_LETTER_TRIM_PER_POP = 1_000;

/** Default of SLACK_DEAD_LETTER_MAX. */
export const DEFAULT_DEAD_LETTER_MAX = 10_000;

export function createRedisStateStore({ redis: client, prefix, deadLetterMax = DEFAULT_DEAD_LETTER_MAX }: RedisStateStoreOptions): StateStore {
  const redis = defineCommands(client);
  const base = `${prefix}:state:`;
  const snapPrefix = `${base}snap:`;
  const keys = {
    integrations: `${base}integrations`,
    outboxIds: `${base}outbox:ids`,
    outboxEntries: `${base}outbox:entries`,
    deadIds: `${base}dead:ids`,
    deadEntries: `${base}dead:entries`,
    upstream: `${base}upstream`,
    slack: `${base}slack`,
    meta: `${base}meta`,
  };

  const toStored = (integrationId: string, v: string, l: string, p: string, t: string, d: string): StoredSnapshot => {
    // A corrupt version would freeze the integration as a "conflict" forever: it reads as unreadable.
    const versionOk = isStoredVersion(v);
    const snapshot = versionOk ? decodeSnapshot(d) : undefined;
    const reason = !versionOk ? `stored version ${JSON.stringify(v.slice(0, 40))} is not a number` : snapshot === undefined ? 'stored snapshot data cannot be decoded' : undefined;
    return {
      integrationId,
      version: versionOk ? Number(v) : 0,
      lineage: l,
      projectId: p,
      lastSuccessMs: Number(t) || 0,
      snapshot,
      ...(reason === undefined ? {} : { unreadable: { reason, storedVersion: v } }),
    };
  };

  return {
    async load(integrationId) {
      const [v, l, p, t, d] = await redis.hmget(snapPrefix + integrationId, 'v', 'l', 'p', 't', 'd');
      if (v === null || v === undefined) return undefined;
      return toStored(integrationId, v, l ?? '', p ?? '', t ?? '0', d ?? '');
    },

    async commit(req) {
      const outboxArgs = req.outbox.flatMap((e) => [e.id, JSON.stringify(e)]);
      const result = await redis.ahmCommit(
        snapPrefix + req.integrationId,
        keys.integrations,
        keys.outboxIds,
        keys.outboxEntries,
        req.expectedVersion === undefined ? '' : `=${req.expectedVersion}`,
        req.lineage,
        req.projectId,
        String(req.nowMs),
        encodeSnapshot(req.snapshot),
        req.integrationId,
        ...outboxArgs,
      );
      if (result[0] !== 1) return { committed: false };
      return { committed: true, version: Number(result[1]), outboxHead: result[2] ?? undefined };
    },

    async loadAll() {
      const rows = await redis.ahmLoadAll(keys.integrations, snapPrefix);
      return rows.map(([id, v, l, p, t, d]) => toStored(id, v, l, p, t, d));
    },

    async retain(integrationIds, cutoffMs) {
      const keep = `${base}retain:${randomUUID()}`;
      if (integrationIds.length > 0) {
        const staging = redis.pipeline();
        for (let i = 0; i < integrationIds.length; i += RETAIN_CHUNK) staging.sadd(keep, ...integrationIds.slice(i, i + RETAIN_CHUNK));
        staging.pexpire(keep, 60_000);
        const results = (await staging.exec()) ?? [];
        const failed = results.find(([error]) => error !== null);
        if (failed?.[0]) throw failed[0];
      }
      return redis.ahmRetain(keys.integrations, keep, snapPrefix, String(cutoffMs));
    },

    async outboxHead() {
      const head = await redis.ahmHead(keys.outboxIds, keys.outboxEntries, keys.slack);
      if (head === null) return undefined;
      const [id, raw, ok, seen] = head;
      return { id, entry: parseEntry(raw), channel: { lastSuccessMs: epochMs(ok), lastFaultMs: epochMs(seen) } };
    },

    outboxHeadId: async () => (await redis.lindex(keys.outboxIds, 0)) ?? undefined,

    outboxSize: () => redis.llen(keys.outboxIds),

    async popOutbox(id, dead, deliveredAtMs) {
      const [popped, head, recovered] = await redis.ahmPop(
        keys.outboxIds,
        keys.outboxEntries,
        keys.deadIds,
        keys.deadEntries,
        keys.slack,
        id,
        dead ? '1' : '0',
        deliveredAtMs === undefined ? '' : String(deliveredAtMs),
        String(deadLetterMax),
        String(DEAD_LETTER_TRIM_PER_POP),
      );
      return { popped: popped === 1, head: head ?? undefined, recovered: recovered === 1 };
    },

    markSlackDown: async (reason, nowMs) => (await redis.ahmSlackDown(keys.slack, reason, String(nowMs))) === 1,

    async slackStatus() {
      const [hash, count] = await Promise.all([redis.hgetall(keys.slack), redis.llen(keys.deadIds)]);
      return {
        up: hash['up'] === undefined ? undefined : hash['up'] === '1',
        reason: hash['reason'],
        downSinceMs: epochMs(hash['since']),
        lastSuccessMs: epochMs(hash['ok']),
        deadLetters: count,
      };
    },

    async deadLetters() {
      const ids = await redis.lrange(keys.deadIds, 0, -1);
      if (ids.length === 0) return [];
      const raws = await redis.hmget(keys.deadEntries, ...ids);
      return raws.map(parseEntry).filter((e): e is OutboxEntry => e !== undefined);
    },

    async loadUpstream() {
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

    async commitUpstream(expectedRev, state, entry) {
      const { integrations, ...projectWide } = state;
      const result = await redis.ahmUpstream(
        keys.upstream,
        keys.outboxIds,
        keys.outboxEntries,
        String(expectedRev),
        JSON.stringify(projectWide),
        JSON.stringify(integrations),
        entry?.id ?? '',
        entry ? JSON.stringify(entry) : '',
      );
      if (result[0] !== 1) return { committed: false };
      return { committed: true, version: Number(result[1]), outboxHead: result[2] ?? undefined };
    },

    async isInitialised() {
      return (await redis.exists(keys.meta)) === 1;
    },

    async markInitialised(nowMs) {
      await redis.hsetnx(keys.meta, 'created', String(nowMs));
    },
  };
}
