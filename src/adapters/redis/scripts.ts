/**
 * Every Lua script of the state store, with its protocol. A script touches
 * only the keys it is given in KEYS and never builds a key name from a prefix
 * or an argument: Redis Cluster routes a script by its KEYS, and refuses one
 * that reaches beyond them. Under a hash-tagged prefix (keys.ts) every key is
 * in one slot, so each script runs there unchanged.
 *
 * ioredis sends each by EVALSHA (EVAL the first time on a connection). A
 * script with a fixed number of keys declares it; the others (loadSnapshots,
 * dropStale: keys per integration) take the key count as their first
 * argument.
 */
import type { Redis } from 'ioredis';

/**
 * commitSnapshot: writes one integration's snapshot and appends its
 * notifications to the outbox, if the stored version is the expected one.
 *   KEYS[1] snapshot   hash of the integration (snap:{id})
 *   KEYS[2] members    set integrations
 *   KEYS[3] ids        list outbox:ids
 *   KEYS[4] entries    hash outbox:entries
 *   KEYS[5] alerts     string alerts:{id}
 *   KEYS[6] episodes   hash episodes:{id}   KEYS[7] expiry   zset episode-expiry:{id}
 *   ARGV[1] expected   '' when no snapshot may exist, else '=' .. the version as loaded
 *                      (any string, even an empty one, when the stored one is corrupt)
 *   ARGV[2] version    the version to write, computed by the caller
 *   ARGV[3] lineage    ARGV[4] projectId   ARGV[5] last success, epoch ms   ARGV[6] encoded snapshot
 *   ARGV[7] integration id, added to KEYS[2]
 *   ARGV[8] encoded alert states for KEYS[5], or '' to leave them as they are (unchanged)
 *   ARGV[9] n, the number of episode logs to write; then n triples: installation id, its encoded
 *           log ('' deletes it), and when it may be dropped (epoch ms, or '+inf')
 *   then pairs of outbox id and encoded entry, oldest first
 * Every commit also drops at most 100 episode logs whose time to be dropped is before ARGV[5].
 * Returns {1, version, outbox head} when committed, {0} on a version conflict,
 * and an error, writing nothing, when the version does not exceed a readable stored one.
 */
export const COMMIT_SNAPSHOT = `
local snapshot, members, ids, entries, alerts, episodes, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local expected, version = ARGV[1], ARGV[2]
local current = redis.call('HGET', snapshot, 'v')
if expected == '' then
  if current then return {0} end
elseif current ~= string.sub(expected, 2) then
  return {0}
end
-- Notification ids are integration.lineage.version.part: a version that does not grow would
-- reuse an id still in the outbox and overwrite its entry. A corrupt stored version (not 1 to 15
-- digits, as stored-values.ts reads it) is replaced.
if current and string.match(current, '^%d+$') and #current <= 15 and tonumber(version) <= tonumber(current) then
  return redis.error_reply('version ' .. version .. ' does not exceed the stored version ' .. current)
end
redis.call('HSET', snapshot, 'v', version, 'l', ARGV[3], 'p', ARGV[4], 't', ARGV[5], 'd', ARGV[6])
redis.call('SADD', members, ARGV[7])
if ARGV[8] ~= '' then redis.call('SET', alerts, ARGV[8]) end
local logs = tonumber(ARGV[9])
for i = 10, 9 + logs * 3, 3 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', episodes, ARGV[i])
    redis.call('ZREM', expiry, ARGV[i])
  else
    redis.call('HSET', episodes, ARGV[i], ARGV[i + 1])
    redis.call('ZADD', expiry, ARGV[i + 2], ARGV[i])
  end
end
local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', '(' .. ARGV[5], 'LIMIT', 0, 100)
if #expired > 0 then
  redis.call('HDEL', episodes, unpack(expired))
  redis.call('ZREM', expiry, unpack(expired))
end
for i = 10 + logs * 3, #ARGV, 2 do
  redis.call('RPUSH', ids, ARGV[i])
  redis.call('HSET', entries, ARGV[i], ARGV[i + 1])
end
return {1, tonumber(version), redis.call('LINDEX', ids, 0)}
`;

/**
 * loadSnapshots: the fields of several snapshots at once (a chunk of the
 * integrations set, read by the caller first), with their alert states.
 *   KEYS[2i-1] snapshot hash (snap:{id}), KEYS[2i] its alert states (alerts:{id}), i = 1..n
 *   no ARGV
 * Returns, per integration in order, {v, l, p, t, d, alert states}; every field is nil when the key is gone.
 */
export const LOAD_SNAPSHOTS = `
local out = {}
for i = 1, #KEYS, 2 do
  local row = redis.call('HMGET', KEYS[i], 'v', 'l', 'p', 't', 'd')
  row[6] = redis.call('GET', KEYS[i + 1])
  out[(i + 1) / 2] = row
end
return out
`;

/**
 * dropStale: forgets the integrations among the given candidates (the caller
 * read the integrations set and left out the listed ones) that were not polled
 * successfully since the cutoff: their snapshot and every other key of theirs.
 * The cutoff is checked here, atomically, so a poll that committed since the
 * caller's read keeps its snapshot; a candidate another replica already
 * dropped is skipped.
 *   KEYS[1]    members   set integrations
 *   KEYS[2..]  per candidate, ARGV[2] keys: its snapshot hash (snap:{id}) first, then its other keys
 *   ARGV[1]    cutoff, epoch ms
 *   ARGV[2]    keys per candidate
 *   ARGV[3..]  the integration id of each candidate, in the order of their keys
 * Returns the ids dropped.
 */
export const DROP_STALE = `
local members = KEYS[1]
local cutoff, per = tonumber(ARGV[1]), tonumber(ARGV[2])
local dropped = {}
for c = 3, #ARGV do
  local id = ARGV[c]
  local first = 2 + (c - 3) * per
  if redis.call('SISMEMBER', members, id) == 1 and (tonumber(redis.call('HGET', KEYS[first], 't') or '0') or 0) < cutoff then
    redis.call('DEL', unpack(KEYS, first, first + per - 1))
    redis.call('SREM', members, id)
    table.insert(dropped, id)
  end
end
return dropped
`;

/**
 * popOutbox: removes the head if it is still the given id, to the dead letters
 * or delivered, and trims the dead letters beyond their cap. The trim is
 * bounded per call: a list left untrimmed by an older release (any length)
 * would otherwise block Redis for seconds in one script. Every pop trims, so
 * the list converges to the cap with ordinary traffic, a chunk at a time.
 *   KEYS[1] ids          list outbox:ids
 *   KEYS[2] entries      hash outbox:entries
 *   KEYS[3] deadIds      list dead:ids
 *   KEYS[4] deadEntries  hash dead:entries
 *   KEYS[5] channel      hash slack
 *   ARGV[1] id           the head id the caller read
 *   ARGV[2] dead         '1' to move it to the dead letters, '0' when delivered or dropped
 *   ARGV[3] delivered    epoch ms of the delivery, or '' when not delivered: marks the channel up
 *   ARGV[4] cap          most dead letters kept
 *   ARGV[5] trim         most dead letters trimmed by this call
 * Returns {popped 1/0, new head id or nil, recovered 1/0 (the channel was down)}.
 */
export const POP_OUTBOX = `
local ids, entries, deadIds, deadEntries, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, dead, delivered, cap, trim = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local popped = 0
if redis.call('LINDEX', ids, 0) == id then
  redis.call('LPOP', ids)
  local entry = redis.call('HGET', entries, id)
  redis.call('HDEL', entries, id)
  if dead == '1' then
    redis.call('RPUSH', deadIds, id)
    redis.call('HSET', deadEntries, id, entry or '')
  end
  popped = 1
end
local excess = math.min(redis.call('LLEN', deadIds) - cap, trim)
if excess > 0 then
  local trimmed = redis.call('LRANGE', deadIds, 0, excess - 1)
  redis.call('LTRIM', deadIds, excess, -1)
  redis.call('HDEL', deadEntries, unpack(trimmed))
end
local recovered = 0
if delivered ~= '' then
  if redis.call('HGET', channel, 'up') == '0' then recovered = 1 end
  redis.call('HSET', channel, 'up', '1', 'ok', delivered)
  redis.call('HDEL', channel, 'reason', 'since')
end
return {popped, redis.call('LINDEX', ids, 0), recovered}
`;

/**
 * markChannelDown: records a channel fault. 'seen' is set on every fault: the
 * retry horizon of the head counts from it, not from when the fault began.
 *   KEYS[1] channel  hash slack
 *   ARGV[1] reason   secret-free
 *   ARGV[2] now      epoch ms
 * Returns 1 if the channel was not already down, else 0.
 */
export const MARK_CHANNEL_DOWN = `
local channel, reason, now = KEYS[1], ARGV[1], ARGV[2]
if redis.call('HGET', channel, 'up') == '0' then
  redis.call('HSET', channel, 'reason', reason, 'seen', now)
  return 0
end
redis.call('HSET', channel, 'up', '0', 'reason', reason, 'since', now, 'seen', now)
return 1
`;

/**
 * outboxHead: the head id, its entry, and the channel's last success and last fault.
 *   KEYS[1] ids      list outbox:ids
 *   KEYS[2] entries  hash outbox:entries
 *   KEYS[3] channel  hash slack
 *   no ARGV
 * Returns nil when the outbox is empty, else {id, entry or nil, ok or nil, seen or nil}.
 */
export const OUTBOX_HEAD = `
local ids, entries, channel = KEYS[1], KEYS[2], KEYS[3]
local id = redis.call('LINDEX', ids, 0)
if not id then return false end
local times = redis.call('HMGET', channel, 'ok', 'seen')
return {id, redis.call('HGET', entries, id), times[1], times[2]}
`;

/**
 * commitUpstream: stores the upstream state and appends the notification it
 * causes, if the stored revision is the expected one. A corrupt revision reads
 * as 0, as the adapter's load reads it, so the next commit replaces it.
 *   KEYS[1] upstream  hash upstream
 *   KEYS[2] ids       list outbox:ids
 *   KEYS[3] entries   hash outbox:entries
 *   ARGV[1] expected revision
 *   ARGV[2] the state without its per-integration entries (JSON)   ARGV[3] those entries (JSON)
 *   ARGV[4] outbox id, or '' for no notification   ARGV[5] its encoded entry, or ''
 * Returns {1, new revision, outbox head} when committed, {0} on a stale revision.
 */
export const COMMIT_UPSTREAM = `
local upstream, ids, entries = KEYS[1], KEYS[2], KEYS[3]
local stored = redis.call('HGET', upstream, 'rev') or '0'
local rev = 0
if string.match(stored, '^%d+$') then rev = tonumber(stored) end
if rev ~= tonumber(ARGV[1]) then return {0} end
redis.call('HSET', upstream, 'rev', rev + 1, 's', ARGV[2], 'i', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('RPUSH', ids, ARGV[4])
  redis.call('HSET', entries, ARGV[4], ARGV[5])
end
return {1, rev + 1, redis.call('LINDEX', ids, 0)}
`;

/** Every script, by the command name it is defined under; `numberOfKeys` is absent when the caller passes it. */
export const STATE_SCRIPTS = {
  ahmCommitSnapshot: { numberOfKeys: 7, lua: COMMIT_SNAPSHOT },
  ahmLoadSnapshots: { lua: LOAD_SNAPSHOTS },
  ahmDropStale: { lua: DROP_STALE },
  ahmPopOutbox: { numberOfKeys: 5, lua: POP_OUTBOX },
  ahmMarkChannelDown: { numberOfKeys: 1, lua: MARK_CHANNEL_DOWN },
  ahmOutboxHead: { numberOfKeys: 3, lua: OUTBOX_HEAD },
  ahmCommitUpstream: { numberOfKeys: 3, lua: COMMIT_UPSTREAM },
} as const satisfies Record<string, { readonly numberOfKeys?: number; readonly lua: string }>;

type Args = (string | number)[];

/** The scripts as commands on a connection; arguments are KEYS then ARGV, as documented above. */
export interface StateScripts {
  ahmCommitSnapshot(...args: Args): Promise<[number, number?, (string | null)?]>;
  ahmLoadSnapshots(numberOfKeys: number, ...keys: string[]): Promise<(string | null)[][]>;
  ahmDropStale(numberOfKeys: number, ...args: Args): Promise<string[]>;
  ahmPopOutbox(...args: Args): Promise<[number, string | null, number]>;
  ahmMarkChannelDown(channel: string, reason: string, nowMs: string): Promise<number>;
  ahmOutboxHead(ids: string, entries: string, channel: string): Promise<[string, string | null, string | null, string | null] | null>;
  ahmCommitUpstream(...args: Args): Promise<[number, number?, (string | null)?]>;
}

/** Defines every script on the connection (idempotent per name) and returns it typed with them. */
export function withStateScripts(redis: Redis): Redis & StateScripts {
  for (const [name, definition] of Object.entries(STATE_SCRIPTS)) redis.defineCommand(name, definition);
  return redis as Redis & StateScripts;
}

/** Most keys per call of a script that takes one key per integration: bounds the arguments of one call and the time it holds Redis. */
export const KEYS_PER_SCRIPT_CALL = 1_000;
