/**
 * Every Lua script of the state store, with its protocol. A script touches
 * only the keys it is given in KEYS and never builds a key name from a prefix
 * or an argument: Redis Cluster routes a script by its KEYS, and refuses one
 * that reaches beyond them. Under a hash-tagged prefix (keys.ts) every key is
 * in one slot, so each script runs there unchanged.
 *
 * ioredis sends each by EVALSHA (EVAL the first time on a connection). A
 * script with a fixed number of keys declares it; the others (loadSnapshots,
 * dropStale: keys per integration; commitSnapshot, commitUpstream,
 * readLastEntries: keys per outbox lane) take the key count as their first
 * argument.
 */
import type { RedisClient } from './redis-client.js';

/**
 * The outbox library: Lua functions that the scripts which append to the
 * outbox (commitSnapshot, commitUpstream) share, and their protocol. The
 * outbox is one lane (a list of ids) per route, sharing the entries, metas,
 * order keys and drop counts; each lane keeps the order of
 * core/outbox-order.ts on its own: the head never moves (it may be being
 * sent, and its delivery job is named after it); a high-priority entry goes
 * behind the head and the high ones already waiting, but never before a
 * waiting entry of its own integration (order key, which begins with the
 * route): right behind the newest one then; a low one at the tail. An
 * 'alerts' entry whose integration's newest waiting entry is an 'alerts'
 * entry too (not the head) is merged into it. Past the cap, which is per
 * lane, the oldest low entries of that lane (never the head) are folded into
 * one "dropped" notice per lane, which waits in the default lane: the lane
 * that overflowed is most likely one whose webhook does not work.
 *
 * Its keys, in the including script's KEYS, passed as a table `o`:
 *   defaultIds list outbox:ids, the default route's lane (where the notices go)
 *   entries    hash outbox:entries
 *   meta       hash outbox:meta   id -> "<h|l>\t<order key>\t<destination>" (encodeOutboxMeta); an id without
 *                                 one (written by the release before, or replayed) is low, of no order key
 *   last       hash outbox:last   order key -> id of the newest waiting entry of that key
 *   drops      hash outbox:drops  total (messages dropped ever), seq (notice ids), and per lane d:
 *                                 n:d (the waiting notice's id), c:d (its count), s:d (its first drop, ms)
 *   and the list of each lane an entry goes to, anywhere in KEYS (each entry names its index)
 * Its arguments, the tail of the including script's ARGV from `from`:
 *   [from]      cap: most entries of a lane before low ones are folded, or '' for none
 *   [from + 1]  now, epoch ms     [from + 2] now, ISO 8601 (the notice's detectedAt)
 *   then, per entry, 8 values:
 *     id, meta, encoded entry,
 *     target: '' or the newest waiting entry of its order key, to merge into, as the caller read it,
 *     expected: that entry as the caller read it (the merge happens only if it is still the newest
 *               waiting entry of the key, unchanged, and not the head of its lane),
 *     merged meta, merged encoded entry (under the target's id),
 *     the index in KEYS of its lane's list (the lane of its destination, the route in its meta)
 * appendToOutbox returns the number of entries dropped and the lanes appended to, as a table of
 * { name = route, ids = list key }, in the order first appended to.
 */
export const OUTBOX_LIBRARY = `
local function outboxMeta(o, id)
  local m = redis.call('HGET', o.meta, id)
  if not m then return 'l', '', nil end
  local p, key, dest = string.match(m, '^(%a)\\t([^\\t]*)\\t(.*)$')
  if not p then return 'l', '', nil end
  return p, key, dest
end

-- The first low entry after the head of a lane, and its position; nil and the length when there is none.
local function firstLow(o, ids)
  local len = redis.call('LLEN', ids)
  local pos = 1
  while pos < len do
    for i, id in ipairs(redis.call('LRANGE', ids, pos, pos + 99)) do
      if outboxMeta(o, id) ~= 'h' then return id, pos + i - 1 end
    end
    pos = pos + 100
  end
  return nil, len
end

-- The newest waiting entry of an order key after the head of its lane, if any.
local function waitingLast(o, ids, key)
  if key == '' then return nil end
  local last = redis.call('HGET', o.last, key)
  if last and redis.call('HEXISTS', o.entries, last) == 1 and redis.call('LINDEX', ids, 0) ~= last then return last end
  return nil
end

-- Behind the head and the high entries waiting, in their order, but behind the newest waiting entry of its
-- own order key if that is further back; at the tail if there are no others.
local function insertHigh(o, ids, id, key)
  local low, lowPos = firstLow(o, ids)
  local last = waitingLast(o, ids, key)
  if last then
    local lastPos = redis.call('LPOS', ids, last)
    if lastPos and lastPos >= lowPos then
      redis.call('LINSERT', ids, 'AFTER', last, id)
      return
    end
  end
  if low then redis.call('LINSERT', ids, 'BEFORE', low, id) else redis.call('RPUSH', ids, id) end
end

-- The notice of a lane, counted up while it waits (not the head), else a new one among the high entries of
-- the default lane. Lua writes its JSON by hand: cjson would print the epoch-ms numbers in its own format.
local function noticeDropped(o, lane, cap, nowMs, nowIso)
  local id = redis.call('HGET', o.drops, 'n:' .. lane)
  local count, since = 1, nowMs
  if id and redis.call('HEXISTS', o.entries, id) == 1 and redis.call('LINDEX', o.defaultIds, 0) ~= id then
    count = (tonumber(redis.call('HGET', o.drops, 'c:' .. lane)) or 0) + 1
    since = redis.call('HGET', o.drops, 's:' .. lane) or nowMs
  else
    id = 'dropped.' .. nowMs .. '.' .. redis.call('HINCRBY', o.drops, 'seq', 1)
    redis.call('HSET', o.meta, id, 'h\\t\\tdefault')
    insertHigh(o, o.defaultIds, id, '')
    redis.call('HSET', o.drops, 'n:' .. lane, id, 's:' .. lane, since)
  end
  redis.call('HSET', o.drops, 'c:' .. lane, count)
  local route = ''
  if lane ~= 'default' then route = ',"route":' .. cjson.encode(lane) end
  redis.call('HSET', o.entries, id, '{"v":2,"destination":"default","id":' .. cjson.encode(id) ..
    ',"enqueuedAt":' .. since .. ',"notification":{"kind":"dropped","count":' .. string.format('%d', count) ..
    ',"sinceMs":' .. since .. ',"cap":' .. cap .. ',"detectedAt":' .. cjson.encode(nowIso) .. route .. '}}')
end

-- Past the cap, the oldest low entries after the head of a lane go, one at a time, each counted in the
-- lane's notice; in the default lane a new notice takes a place too, so each lane ends within the cap unless
-- only high entries are left.
local function foldOverCap(o, ids, lane, cap, nowMs, nowIso)
  if cap == '' then return 0 end
  local limit = tonumber(cap)
  local dropped = 0
  while redis.call('LLEN', ids) > limit do
    local id = firstLow(o, ids)
    if not id then break end
    local _, key = outboxMeta(o, id)
    redis.call('LREM', ids, 1, id)
    redis.call('HDEL', o.entries, id)
    redis.call('HDEL', o.meta, id)
    if key ~= '' and redis.call('HGET', o.last, key) == id then redis.call('HDEL', o.last, key) end
    noticeDropped(o, lane, cap, nowMs, nowIso)
    dropped = dropped + 1
  end
  if dropped > 0 then redis.call('HINCRBY', o.drops, 'total', dropped) end
  return dropped
end

local function appendToOutbox(o, args, from)
  local lanes, seen = {}, {}
  -- Nothing appended, nothing to fold: a cap lowered since is applied by the next append.
  if #args < from + 3 then return 0, lanes end
  for i = from + 3, #args, 8 do
    local id, m, encoded, target, expected, mergedMeta, merged = args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4], args[i + 5], args[i + 6]
    local ids = KEYS[tonumber(args[i + 7])]
    local key, lane = string.match(m, '^%a\\t([^\\t]*)\\t(.*)$')
    key = key or ''
    -- "slack" is the default route as the release before routes named it.
    if lane == nil or lane == 'slack' then lane = 'default' end
    if not seen[ids] then
      seen[ids] = true
      table.insert(lanes, { name = lane, ids = ids })
    end
    if target ~= '' and waitingLast(o, ids, key) == target and redis.call('HGET', o.entries, target) == expected then
      -- Merged in place: its integration's order stays as it was.
      redis.call('HSET', o.entries, target, merged)
      redis.call('HSET', o.meta, target, mergedMeta)
    else
      redis.call('HSET', o.entries, id, encoded)
      if string.sub(m, 1, 1) == 'h' then insertHigh(o, ids, id, key) else redis.call('RPUSH', ids, id) end
      redis.call('HSET', o.meta, id, m)
      if key ~= '' then redis.call('HSET', o.last, key, id) end
    end
  end
  local dropped = 0
  for _, lane in ipairs(lanes) do
    dropped = dropped + foldOverCap(o, lane.ids, lane.name, args[from], args[from + 1], args[from + 2])
  end
  return dropped, lanes
end

-- The reply of a commit: {1, version, head of the default lane, then route and head of each other lane appended to}.
local function committed(o, version, lanes)
  local out = {1, version, redis.call('LINDEX', o.defaultIds, 0)}
  for _, lane in ipairs(lanes) do
    if lane.ids ~= o.defaultIds then
      table.insert(out, lane.name)
      table.insert(out, redis.call('LINDEX', lane.ids, 0) or '')
    end
  end
  return out
end
`;

/**
 * commitSnapshot: writes one integration's snapshot, its alert states and
 * episode logs, and appends its notifications to the outbox, if the stored
 * version is the expected one. A snapshot the same as the stored one is not
 * written again: the caller sends no data, only its digest, and the script
 * moves the version and the times on if the stored digest (field h, written
 * with each snapshot as version:digest) is that of the expected version. So a
 * poll that changed nothing writes a few bytes, not the whole snapshot. A
 * digest of another version (an older release wrote the snapshot without one)
 * answers {2}: the caller sends the data.
 *   KEYS[1] snapshot   hash of the integration (snap:{id})
 *   KEYS[2] members    set integrations
 *   KEYS[3] defaultIds list outbox:ids (the default route's lane)
 *   KEYS[4] entries    hash outbox:entries
 *   KEYS[5] meta, KEYS[6] last, KEYS[7] drops: the outbox library's
 *   KEYS[8] alerts     string alerts:{id}
 *   KEYS[9] episodes   hash episodes:{id}   KEYS[10] expiry   zset episode-expiry:{id}
 *   KEYS[11..] the lists of the other lanes its entries go to (lane:{route}:ids); the key count is
 *           the caller's first argument
 *   ARGV[1] expected   '' when no snapshot may exist, else '=' .. the version as loaded
 *                      (any string, even an empty one, when the stored one is corrupt)
 *   ARGV[2] version    the version to write, computed by the caller
 *   ARGV[3] lineage    ARGV[4] projectId   ARGV[5] last success, epoch ms
 *   ARGV[6] encoded snapshot, or '' to keep the stored one (the caller loaded it with this digest)
 *   ARGV[7] integration id, added to KEYS[2]
 *   ARGV[8] digest of the encoded snapshot
 *   ARGV[9] encoded alert states for KEYS[8], or '' to leave them as they are (unchanged)
 *   ARGV[10] n, the number of episode logs to write; then n triples: installation id, its encoded
 *           log ('' deletes it), and when it may be dropped (epoch ms, or '+inf')
 *   then the outbox entries, oldest first, in the outbox library's protocol (from 11 + 3n)
 * Every commit also drops at most 100 episode logs whose time to be dropped is before ARGV[5].
 * Returns {1, version, head of the default lane, then route and head of each other lane appended to}
 * when committed, {0} on a version conflict,
 * {2}, writing nothing, when ARGV[6] is '' and the stored digest is not the
 * expected version's ARGV[8], and an error, writing nothing, when the version
 * does not exceed a readable stored one.
 */
export const COMMIT_SNAPSHOT = `${OUTBOX_LIBRARY}
local snapshot, members, ids, entries = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local alerts, episodes, expiry = KEYS[8], KEYS[9], KEYS[10]
local expected, version, data, digest = ARGV[1], ARGV[2], ARGV[6], ARGV[8]
local stored = redis.call('HMGET', snapshot, 'v', 'h')
local current = stored[1]
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
if data == '' then
  if not current or stored[2] ~= current .. ':' .. digest then return {2} end
  redis.call('HSET', snapshot, 'v', version, 'l', ARGV[3], 'p', ARGV[4], 't', ARGV[5], 'h', version .. ':' .. digest)
else
  redis.call('HSET', snapshot, 'v', version, 'l', ARGV[3], 'p', ARGV[4], 't', ARGV[5], 'd', data, 'h', version .. ':' .. digest)
end
redis.call('SADD', members, ARGV[7])
if ARGV[9] ~= '' then redis.call('SET', alerts, ARGV[9]) end
local logs = tonumber(ARGV[10])
for i = 11, 10 + logs * 3, 3 do
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
local o = { defaultIds = ids, entries = entries, meta = KEYS[5], last = KEYS[6], drops = KEYS[7] }
local _, lanes = appendToOutbox(o, ARGV, 11 + logs * 3)
return committed(o, tonumber(version), lanes)
`;

/**
 * loadSnapshots: the fields of several snapshots at once (a chunk of the
 * integrations set, read by the caller first), with their alert states.
 *   KEYS[2i-1] snapshot hash (snap:{id}), KEYS[2i] its alert states (alerts:{id}), i = 1..n
 *   no ARGV
 * Returns, per integration in order, {v, l, p, t, d, h, alert states}; every field is nil when the key is gone.
 */
export const LOAD_SNAPSHOTS = `
local out = {}
for i = 1, #KEYS, 2 do
  local row = redis.call('HMGET', KEYS[i], 'v', 'l', 'p', 't', 'd', 'h')
  row[7] = redis.call('GET', KEYS[i + 1])
  out[(i + 1) / 2] = row
end
return out
`;

/**
 * loadSnapshotUnlessKnown: one integration's snapshot fields and alert states,
 * like loadSnapshots, but without the data when the caller already holds it
 * decoded: the stored h is version:digest of the caller's digest at the stored
 * version, and the data is as long as the caller's encoding. An unchanged poll
 * then reads a few hundred bytes instead of the whole snapshot.
 *   KEYS[1] snapshot hash (snap:{id})   KEYS[2] its alert states (alerts:{id})
 *   ARGV[1] digest the caller holds, or '' for none   ARGV[2] the byte length of its encoding
 * Returns {v, l, p, t, d, h, alert states, known}: known is 1 and d nil when
 * the caller's copy is current; every field is nil when the key is gone.
 */
export const LOAD_SNAPSHOT_UNLESS_KNOWN = `
local row = redis.call('HMGET', KEYS[1], 'v', 'l', 'p', 't', 'h')
local v, h = row[1], row[5]
local known = 0
if v and h and ARGV[1] ~= '' and h == v .. ':' .. ARGV[1] and redis.call('HSTRLEN', KEYS[1], 'd') == tonumber(ARGV[2]) then
  known = 1
end
local d = false
if known == 0 then d = redis.call('HGET', KEYS[1], 'd') end
return {v, row[2], row[3], row[4], d, h, redis.call('GET', KEYS[2]), known}
`;

/**
 * loadChanged: like loadSnapshots, but the snapshot data and the alert states
 * of an integration come back only when they changed since the caller's last
 * read, so a scrape costs Redis the bytes that changed, not every snapshot.
 * The token of an integration is the digest part of h (the commit script
 * keeps it beside d) and a SHA-1 of the alert states ('-' when none); no h
 * (a release that kept no digest) gives the token '', which never matches.
 *   KEYS[2i-1] snapshot hash (snap:{id}), KEYS[2i] its alert states (alerts:{id}), i = 1..n
 *   ARGV[i]    the token the caller has for integration i ('' for none)
 * Returns, per integration in order, {v, l, p, t, token, changed (1/0), d, alert states};
 * v is nil when the key is gone, and d and the alert states are nil unless changed is 1.
 */
export const LOAD_CHANGED = `
local out = {}
for i = 1, #KEYS, 2 do
  local n = (i + 1) / 2
  local row = redis.call('HMGET', KEYS[i], 'v', 'l', 'p', 't', 'h')
  if not row[1] then
    out[n] = {false}
  else
    local alerts = redis.call('GET', KEYS[i + 1])
    local digest = row[5] and string.match(row[5], ':(.*)$')
    local token = ''
    if digest then
      token = digest .. '/' .. (alerts and redis.sha1hex(alerts) or '-')
    end
    if token ~= '' and token == ARGV[n] then
      out[n] = {row[1], row[2], row[3], row[4], token, 0}
    else
      out[n] = {row[1], row[2], row[3], row[4], token, 1, redis.call('HGET', KEYS[i], 'd'), alerts}
    end
  end
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
 *   KEYS[6] meta         hash outbox:meta       KEYS[7] last  hash outbox:last (the outbox library's)
 *   ARGV[1] id           the head id the caller read
 *   ARGV[2] dead         '1' to move it to the dead letters, '0' when delivered or dropped
 *   ARGV[3] delivered    epoch ms of the delivery, or '' when not delivered: marks the channel up
 *   ARGV[4] cap          most dead letters kept
 *   ARGV[5] trim         most dead letters trimmed by this call
 * Returns {popped 1/0, new head id or nil, recovered 1/0 (the channel was down)}.
 */
export const POP_OUTBOX = `
local ids, entries, deadIds, deadEntries, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local meta, last = KEYS[6], KEYS[7]
local id, dead, delivered, cap, trim = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local popped = 0
if redis.call('LINDEX', ids, 0) == id then
  redis.call('LPOP', ids)
  local entry = redis.call('HGET', entries, id)
  redis.call('HDEL', entries, id)
  -- Its place in its integration's order goes with it.
  local key = string.match(redis.call('HGET', meta, id) or '', '^%a\\t([^\\t]*)\\t')
  redis.call('HDEL', meta, id)
  if key and key ~= '' and redis.call('HGET', last, key) == id then redis.call('HDEL', last, key) end
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
 * replayDeadLetters: moves dead letters back to the tail of the outbox under
 * new ids, all of them or none: every id is checked before anything moves.
 * The caller read and re-encoded the entries (a new id, a new enqueuedAt);
 * Lua does not re-encode JSON (cjson would round the epoch-ms numbers).
 *   KEYS[1] deadIds      list dead:ids
 *   KEYS[2] deadEntries  hash dead:entries
 *   KEYS[3] ids          list outbox:ids
 *   KEYS[4] entries      hash outbox:entries
 *   ARGV[1], ARGV[2], ARGV[3], … triples of dead letter id, its new outbox id and its new encoded entry, in order
 * Returns {1} when every one moved, {0, id} when id is no longer a dead letter
 * (trimmed since the caller read it), and an error, moving nothing, when a new
 * id is already in the outbox.
 */
export const REPLAY_DEAD_LETTERS = `
local deadIds, deadEntries, ids, entries = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
for i = 1, #ARGV, 3 do
  if redis.call('HEXISTS', deadEntries, ARGV[i]) == 0 then return {0, ARGV[i]} end
  if redis.call('HEXISTS', entries, ARGV[i + 1]) == 1 then
    return redis.error_reply('outbox id ' .. ARGV[i + 1] .. ' is already taken')
  end
end
for i = 1, #ARGV, 3 do
  -- Every occurrence: an id in the list without its entry would be read as an unreadable dead letter.
  redis.call('LREM', deadIds, 0, ARGV[i])
  redis.call('HDEL', deadEntries, ARGV[i])
  redis.call('RPUSH', ids, ARGV[i + 1])
  redis.call('HSET', entries, ARGV[i + 1], ARGV[i + 2])
end
return {1}
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
 *   KEYS[1] upstream   hash upstream
 *   KEYS[2] defaultIds list outbox:ids (the default route's lane)
 *   KEYS[3] entries    hash outbox:entries
 *   KEYS[4] meta, KEYS[5] last, KEYS[6] drops: the outbox library's
 *   KEYS[7..] the lists of the other lanes its entries go to; the key count is the caller's first argument
 *   ARGV[1] expected revision
 *   ARGV[2] the state without its per-integration entries (JSON)   ARGV[3] those entries (JSON)
 *   ARGV[4], … the notification's entries, one per lane, if any, in the outbox library's protocol (from 4)
 * Returns, when committed, {1, new revision, head of the default lane, then route and head of each
 * other lane appended to}; {0} on a stale revision.
 */
export const COMMIT_UPSTREAM = `${OUTBOX_LIBRARY}
local upstream, ids, entries = KEYS[1], KEYS[2], KEYS[3]
local stored = redis.call('HGET', upstream, 'rev') or '0'
local rev = 0
if string.match(stored, '^%d+$') then rev = tonumber(stored) end
if rev ~= tonumber(ARGV[1]) then return {0} end
redis.call('HSET', upstream, 'rev', rev + 1, 's', ARGV[2], 'i', ARGV[3])
local o = { defaultIds = ids, entries = entries, meta = KEYS[4], last = KEYS[5], drops = KEYS[6] }
local _, lanes = appendToOutbox(o, ARGV, 4)
return committed(o, rev + 1, lanes)
`;

/**
 * readLastEntries: for each order key, the newest waiting entry an append may
 * merge into (outbox library): its id and stored entry, unless it is the head
 * of its lane.
 *   KEYS[1] last     hash outbox:last
 *   KEYS[2] entries  hash outbox:entries
 *   KEYS[3..] the lists of the lanes the keys are of; the key count is the caller's first argument
 *   ARGV    pairs of an order key and the index in KEYS of its lane's list
 * Returns, per key in order, {id, entry}, or {} when there is none.
 */
export const READ_LAST_ENTRIES = `
local last, entries = KEYS[1], KEYS[2]
local out = {}
for i = 1, #ARGV, 2 do
  local id = redis.call('HGET', last, ARGV[i])
  local entry = id and id ~= redis.call('LINDEX', KEYS[tonumber(ARGV[i + 1])], 0) and redis.call('HGET', entries, id)
  if entry then out[(i + 1) / 2] = {id, entry} else out[(i + 1) / 2] = {} end
end
return out
`;

/**
 * adoptLane: moves the lane of a route that is no longer configured to the
 * tail of the default lane, in its order, so that its entries are delivered
 * there rather than wait for a route that will not come back or be lost;
 * then drops the lane's list and webhook health. Its name stays in lanes: a
 * replica still running a configuration with the route (a rolling deploy) may
 * append to the lane again, and the next adoption (every cycle) moves that too.
 *   KEYS[1] ids         list lane:{route}:ids
 *   KEYS[2] defaultIds  list outbox:ids
 *   KEYS[3] lanes       set lanes
 *   KEYS[4] channel     hash lane:{route}:slack
 *   ARGV[1] the route
 * Returns the number of entries moved.
 */
export const ADOPT_LANE = `
local ids, defaultIds, lanes, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local moved = 0
while true do
  local chunk = redis.call('LRANGE', ids, 0, 99)
  if #chunk == 0 then break end
  redis.call('RPUSH', defaultIds, unpack(chunk))
  redis.call('LTRIM', ids, #chunk, -1)
  moved = moved + #chunk
end
redis.call('DEL', ids, channel)
return moved
`;

/** Every script, by the command name it is defined under; `numberOfKeys` is absent when the caller passes it. */
export const STATE_SCRIPTS = {
  ahmCommitSnapshot: { lua: COMMIT_SNAPSHOT },
  ahmLoadSnapshots: { lua: LOAD_SNAPSHOTS },
  ahmLoadSnapshotUnlessKnown: { numberOfKeys: 2, lua: LOAD_SNAPSHOT_UNLESS_KNOWN },
  ahmLoadChanged: { lua: LOAD_CHANGED },
  ahmDropStale: { lua: DROP_STALE },
  ahmPopOutbox: { numberOfKeys: 7, lua: POP_OUTBOX },
  ahmMarkChannelDown: { numberOfKeys: 1, lua: MARK_CHANNEL_DOWN },
  ahmOutboxHead: { numberOfKeys: 3, lua: OUTBOX_HEAD },
  ahmCommitUpstream: { lua: COMMIT_UPSTREAM },
  ahmReadLastEntries: { lua: READ_LAST_ENTRIES },
  ahmAdoptLane: { numberOfKeys: 4, lua: ADOPT_LANE },
  ahmReplayDeadLetters: { numberOfKeys: 4, lua: REPLAY_DEAD_LETTERS },
} as const satisfies Record<string, { readonly numberOfKeys?: number; readonly lua: string }>;

type Args = (string | number)[];

/** The scripts as commands on a connection; arguments are KEYS then ARGV, as documented above. */
export interface StateScripts {
  ahmCommitSnapshot(numberOfKeys: number, ...args: Args): Promise<[number, number?, (string | null)?, ...string[]]>;
  ahmLoadSnapshots(numberOfKeys: number, ...keys: string[]): Promise<(string | null)[][]>;
  ahmLoadSnapshotUnlessKnown(snapshot: string, alerts: string, digest: string, bytes: string): Promise<(string | number | null)[]>;
  ahmLoadChanged(numberOfKeys: number, ...args: string[]): Promise<(string | number | null)[][]>;
  ahmDropStale(numberOfKeys: number, ...args: Args): Promise<string[]>;
  ahmPopOutbox(...args: Args): Promise<[number, string | null, number]>;
  ahmMarkChannelDown(channel: string, reason: string, nowMs: string): Promise<number>;
  ahmOutboxHead(ids: string, entries: string, channel: string): Promise<[string, string | null, string | null, string | null] | null>;
  ahmCommitUpstream(numberOfKeys: number, ...args: Args): Promise<[number, number?, (string | null)?, ...string[]]>;
  ahmReplayDeadLetters(...args: Args): Promise<[number, string?]>;
  ahmReadLastEntries(numberOfKeys: number, ...args: string[]): Promise<([string, string] | [])[]>;
  ahmAdoptLane(ids: string, defaultIds: string, lanes: string, channel: string, route: string): Promise<number>;
}

/** Defines every script on the connection (idempotent per name) and returns it typed with them. */
export function withStateScripts(redis: RedisClient): RedisClient & StateScripts {
  for (const [name, definition] of Object.entries(STATE_SCRIPTS)) redis.defineCommand(name, definition);
  return redis as RedisClient & StateScripts;
}

/** Most keys per call of a script that takes one key per integration: bounds the arguments of one call and the time it holds Redis. */
export const KEYS_PER_SCRIPT_CALL = 1_000;
