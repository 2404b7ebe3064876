/**
 * In-memory implementations of the store ports, with the semantics of the
 * Redis adapters: version-guarded commits that append to the outbox in the
 * same step, in its order (high priority behind the head and the high ones
 * waiting but never before a waiting entry of its own integration, a waiting
 * digest merged with the next of its integration, the oldest low entries
 * folded into a notice past the cap: the outbox library of scripts.ts), a head-only pop, capped dead letters trimmed a bounded number per
 * pop and replayed all or none, the channel's shared health. Values are kept in their stored form
 * (the core codecs), so a caller never shares an object with the store.
 * The contract suites in test/contracts/ run against both, so they cannot drift.
 */
import { mergeAlertNotifications } from '../../src/core/alert-notification.js';
import { decodeEpisodeLog, encodeEpisodeLog, episodeLogExpiry } from '../../src/core/episodes.js';
import { DEFAULT_DESTINATION, decodeOutboxEntry, encodeOutboxEntry, isDefaultDestination, type OutboxEntry } from '../../src/core/outbox-entry.js';
import { encodeOutboxMeta, outboxOrderKey } from '../../src/core/outbox-order.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/core/snapshot.js';
import { INITIAL_UPSTREAM_STATE, type UpstreamState } from '../../src/core/upstream-policy.js';
import type { ChannelStatus, InitMarker, Outbox, SnapshotStore, StoredSnapshot, UpstreamStore } from '../../src/ports.js';

export interface InMemoryStoresOptions {
  /** Most dead letters kept (the Redis default: 10,000). */
  readonly deadLetterMax?: number;
  /** Most dead letters one pop trims beyond the cap (the Redis adapter: 1,000). */
  readonly deadLetterTrimPerPop?: number;
  /** Most outbox entries before the oldest low-priority ones are dropped (the Redis stores' default: 1,000). */
  readonly outboxMax?: number;
}

export interface InMemoryStores {
  readonly snapshots: SnapshotStore;
  /** The default route's outbox lane. */
  readonly outbox: Outbox;
  /** The outbox lane of a route. */
  lane(this: void, route: string): Outbox;
  readonly upstream: UpstreamStore;
  readonly initMarker: InitMarker;
  /** Forgets everything, as a Redis restarted without persistence would. */
  wipe(): void;
}

interface SnapshotRecord {
  readonly version: number;
  readonly lineage: string;
  readonly projectId: string;
  readonly lastSuccessMs: number;
  readonly data: string;
  readonly alertStates: string | undefined;
}

interface Channel {
  up?: boolean;
  reason?: string;
  sinceMs?: number;
  okMs?: number;
  seenMs?: number;
}

const readEntry = (raw: string | undefined): OutboxEntry | undefined => {
  if (raw === undefined) return undefined;
  const decoded = decodeOutboxEntry(raw);
  return decoded.ok ? decoded.entry : undefined;
};

export function createInMemoryStores({ deadLetterMax = 10_000, deadLetterTrimPerPop = 1_000, outboxMax = 1_000 }: InMemoryStoresOptions = {}): InMemoryStores {
  let snapshots = new Map<string, SnapshotRecord>();
  /** Per integration, per installation: its stored episode log and when it may be dropped (as the Redis zset scores it). */
  let episodes = new Map<string, Map<string, { raw: string; expiry: number }>>();
  /** The outbox lanes, by route ("default" for both names of the default route), and their webhook health. */
  let lanes = new Map<string, string[]>();
  let channels = new Map<string, Channel>();
  const laneOf = (destination: string): string => (isDefaultDestination(destination) ? DEFAULT_DESTINATION : destination);
  const idsOf = (lane: string): string[] => {
    const ids = lanes.get(laneOf(lane)) ?? [];
    lanes.set(laneOf(lane), ids);
    return ids;
  };
  let outboxEntries = new Map<string, string>();
  let outboxMeta = new Map<string, string>();
  let last = new Map<string, string>();
  let drops: { total: number; seq: number; notices: Map<string, { id: string; count: number; sinceMs: number }> } = { total: 0, seq: 0, notices: new Map() };
  let deadIds: string[] = [];
  let deadEntries = new Map<string, string>();
  /** Per watched project, as the Redis store keeps one hash each. */
  let upstream = new Map<string, { rev: number; state: string; integrations: string }>();
  let initialised = false;

  /** An entry's priority, order key and destination, as the Redis store's meta says them; low, of no key, for "slack" without one. */
  const metaOf = (id: string): { high: boolean; key: string; destination: string } => {
    const match = /^([a-z])\t([^\t]*)\t(.*)$/s.exec(outboxMeta.get(id) ?? '');
    return match ? { high: match[1] === 'h', key: match[2] ?? '', destination: match[3] ?? 'slack' } : { high: false, key: '', destination: 'slack' };
  };

  /** The newest waiting entry of an order key after the head of its lane, if any. */
  const waitingLast = (outboxIds: readonly string[], key: string): string | undefined => {
    const id = key === '' ? undefined : last.get(key);
    return id !== undefined && outboxEntries.has(id) && outboxIds[0] !== id ? id : undefined;
  };

  /** Behind the head and the high entries waiting, but behind the newest waiting entry of its own order key if that is further back. */
  const insertHigh = (outboxIds: string[], id: string, key: string): void => {
    let low = 1;
    while (low < outboxIds.length && metaOf(outboxIds[low] ?? '').high) low += 1;
    const mine = waitingLast(outboxIds, key);
    const minePos = mine === undefined ? -1 : outboxIds.indexOf(mine);
    if (minePos >= low) outboxIds.splice(minePos + 1, 0, id);
    else if (low >= outboxIds.length) outboxIds.push(id);
    else outboxIds.splice(low, 0, id);
  };

  /** Merges `entry` into the newest waiting entry of its integration when both are digests (and that one is not the head); true if it did. */
  const merge = (outboxIds: readonly string[], entry: OutboxEntry, key: string): boolean => {
    const target = waitingLast(outboxIds, key);
    if (target === undefined) return false;
    const waiting = readEntry(outboxEntries.get(target));
    if (waiting === undefined || laneOf(waiting.destination) !== laneOf(entry.destination)) return false;
    if (waiting.notification.kind !== 'alerts' || entry.notification.kind !== 'alerts') return false;
    const notification = mergeAlertNotifications(waiting.notification, entry.notification);
    if (notification === undefined) return false;
    const merged: OutboxEntry = { ...waiting, notification };
    // Merged in place: its integration's order stays as it was.
    outboxEntries.set(target, encodeOutboxEntry(merged));
    outboxMeta.set(target, encodeOutboxMeta(merged));
    return true;
  };

  /** The notice of a lane's drops waits in the default lane, as the Redis store's does. */
  const noticeDropped = (lane: string, nowMs: number): void => {
    const waiting = drops.notices.get(lane);
    const defaultIds = idsOf(DEFAULT_DESTINATION);
    let notice: { id: string; count: number; sinceMs: number };
    if (waiting !== undefined && outboxEntries.has(waiting.id) && defaultIds[0] !== waiting.id) {
      notice = { ...waiting, count: waiting.count + 1 };
    } else {
      drops.seq += 1;
      notice = { id: `dropped.${nowMs}.${drops.seq}`, count: 1, sinceMs: nowMs };
      outboxMeta.set(notice.id, `h\t\t${DEFAULT_DESTINATION}`);
      insertHigh(defaultIds, notice.id, '');
    }
    drops.notices.set(lane, notice);
    const entry: OutboxEntry = {
      id: notice.id,
      destination: DEFAULT_DESTINATION,
      enqueuedAt: notice.sinceMs,
      notification: {
        kind: 'dropped',
        count: notice.count,
        sinceMs: notice.sinceMs,
        cap: outboxMax,
        detectedAt: new Date(nowMs).toISOString(),
        ...(lane === DEFAULT_DESTINATION ? {} : { route: lane }),
      },
    };
    outboxEntries.set(notice.id, encodeOutboxEntry(entry));
  };

  /** Past the cap, the oldest low entries after the head go, one at a time, each counted in its destination's notice (which takes a place too). */
  const foldOverCap = (lane: string, nowMs: number): void => {
    const outboxIds = idsOf(lane);
    while (outboxIds.length > outboxMax) {
      const id = outboxIds.slice(1).find((other) => !metaOf(other).high);
      if (id === undefined) break;
      const { key } = metaOf(id);
      outboxIds.splice(outboxIds.indexOf(id), 1);
      outboxEntries.delete(id);
      outboxMeta.delete(id);
      if (key !== '' && last.get(key) === id) last.delete(key);
      noticeDropped(lane, nowMs);
      drops.total += 1;
    }
  };

  /** Appends each entry to the lane of its destination, then folds each lane appended to; returns those lanes in order. */
  const append = (entries: readonly OutboxEntry[], nowMs: number, coalesce = true): string[] => {
    const touched: string[] = [];
    for (const entry of entries) {
      const lane = laneOf(entry.destination);
      if (!touched.includes(lane)) touched.push(lane);
      const outboxIds = idsOf(lane);
      const key = outboxOrderKey(entry) ?? '';
      if (coalesce && entry.notification.kind === 'alerts' && merge(outboxIds, entry, key)) continue;
      const meta = encodeOutboxMeta(entry);
      outboxEntries.set(entry.id, encodeOutboxEntry(entry));
      if (meta.startsWith('h')) insertHigh(outboxIds, entry.id, key);
      else outboxIds.push(entry.id);
      outboxMeta.set(entry.id, meta);
      if (key !== '') last.set(key, entry.id);
    }
    for (const lane of touched) foldOverCap(lane, nowMs);
    return touched;
  };

  /** What a commit answers: the default lane's head, and the head of each other lane appended to. */
  const heads = (touched: readonly string[]): { outboxHead: string | undefined; laneHeads?: { lane: string; head: string }[] } => {
    const laneHeads = touched.flatMap((lane) => {
      const head = idsOf(lane)[0];
      return lane === DEFAULT_DESTINATION || head === undefined ? [] : [{ lane, head }];
    });
    return { outboxHead: idsOf(DEFAULT_DESTINATION)[0], ...(laneHeads.length === 0 ? {} : { laneHeads }) };
  };

  const toStored = (integrationId: string, r: SnapshotRecord): StoredSnapshot => {
    const snapshot = decodeSnapshot(r.data);
    return {
      integrationId,
      version: r.version,
      lineage: r.lineage,
      projectId: r.projectId,
      lastSuccessMs: r.lastSuccessMs,
      snapshot,
      ...(r.alertStates === undefined ? {} : { alertStates: r.alertStates }),
      ...(snapshot === undefined ? { unreadable: { reason: 'stored snapshot data cannot be decoded', storedVersion: String(r.version) } } : {}),
    };
  };

  const snapshotStore: SnapshotStore = {
    async load(integrationId) {
      const record = snapshots.get(integrationId);
      return record && toStored(integrationId, record);
    },
    async commit(req) {
      if (!Number.isSafeInteger(req.version) || req.version < 1)
        throw new RangeError(`commit of ${req.integrationId}: version must be a positive integer, got ${req.version}`);
      const current = snapshots.get(req.integrationId);
      const matches =
        req.expectedVersion === undefined ? current === undefined : current !== undefined && String(current.version) === String(req.expectedVersion);
      if (!matches) return { committed: false };
      if (current !== undefined && req.version <= current.version)
        throw new RangeError(`version ${req.version} does not exceed the stored version ${current.version}`);
      snapshots.set(req.integrationId, {
        version: req.version,
        lineage: req.lineage,
        projectId: req.projectId,
        lastSuccessMs: req.nowMs,
        data: encodeSnapshot(req.snapshot),
        // As the Redis script: undefined (or '') leaves the stored ones.
        alertStates: req.alertStates === undefined || req.alertStates === '' ? current?.alertStates : req.alertStates,
      });
      const logs = episodes.get(req.integrationId) ?? new Map<string, { raw: string; expiry: number }>();
      for (const [id, log] of req.episodes ?? []) {
        if (log.length === 0) logs.delete(id);
        else logs.set(id, { raw: encodeEpisodeLog(log), expiry: episodeLogExpiry(log) });
      }
      // As the Redis script: at most 100 logs past their time per commit, earliest first.
      const expired = [...logs]
        .filter(([, log]) => log.expiry < req.nowMs)
        .sort(([a, x], [b, y]) => x.expiry - y.expiry || (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, 100);
      for (const [id] of expired) logs.delete(id);
      if (logs.size > 0) episodes.set(req.integrationId, logs);
      else episodes.delete(req.integrationId);
      return { committed: true, version: req.version, ...heads(append(req.outbox, req.nowMs)) };
    },
    async loadAll() {
      return [...snapshots].map(([id, record]) => toStored(id, record));
    },
    async loadChanged(known) {
      // The content itself is the token here: equal when, and only when, the stored data and alert states are.
      return [...snapshots].map(([id, record]) => {
        const token = JSON.stringify([record.data, record.alertStates ?? null]);
        return {
          integrationId: id,
          projectId: record.projectId,
          lastSuccessMs: record.lastSuccessMs,
          token,
          changed: known.get(id) === token ? undefined : toStored(id, record),
        };
      });
    },
    async loadEpisodes(integrationId, installationIds) {
      const logs = episodes.get(integrationId);
      return new Map(installationIds.map((id) => [id, decodeEpisodeLog(logs?.get(id)?.raw)]));
    },
    async retain(integrationIds, cutoffMs) {
      const listed = new Set(integrationIds);
      const dropped = [...snapshots].filter(([id, record]) => !listed.has(id) && record.lastSuccessMs < cutoffMs).map(([id]) => id);
      for (const id of dropped) {
        snapshots.delete(id);
        episodes.delete(id);
      }
      return dropped;
    },
  };

  const laneOutbox = (lane: string): Outbox => {
    const channelOf = (): Channel => channels.get(laneOf(lane)) ?? {};
    const setChannel = (value: Channel): void => {
      channels.set(laneOf(lane), value);
    };
    return {
      async head() {
        const id = idsOf(lane)[0];
        if (id === undefined) return undefined;
        const channel = channelOf();
        return { id, entry: readEntry(outboxEntries.get(id)), channel: { lastSuccessMs: channel.okMs, lastFaultMs: channel.seenMs } };
      },
      headId: async () => idsOf(lane)[0],
      size: async () => idsOf(lane).length,
      droppedTotal: async () => drops.total,
      async pop(id, dead, deliveredAtMs) {
        let popped = false;
        if (idsOf(lane)[0] === id) {
          idsOf(lane).shift();
          const entry = outboxEntries.get(id);
          outboxEntries.delete(id);
          const { key } = metaOf(id);
          outboxMeta.delete(id);
          if (key !== '' && last.get(key) === id) last.delete(key);
          if (dead) {
            deadIds.push(id);
            deadEntries.set(id, entry ?? '');
          }
          popped = true;
        }
        const excess = Math.min(deadIds.length - deadLetterMax, deadLetterTrimPerPop);
        if (excess > 0) for (const trimmed of deadIds.splice(0, excess)) deadEntries.delete(trimmed);
        let recovered = false;
        if (deliveredAtMs !== undefined) {
          const channel = channelOf();
          recovered = channel.up === false;
          setChannel({ up: true, okMs: deliveredAtMs, ...(channel.seenMs === undefined ? {} : { seenMs: channel.seenMs }) });
        }
        return { popped, head: idsOf(lane)[0], recovered };
      },
      async deadLetters() {
        return deadIds.map((id) => readEntry(deadEntries.get(id))).filter((e): e is OutboxEntry => e !== undefined);
      },
      async replayDeadLetters(ids, nowMs, newId) {
        const asked = [...new Set(ids)];
        const missing = asked.filter((id) => !deadEntries.has(id));
        const unreadable = asked.filter((id) => deadEntries.has(id) && readEntry(deadEntries.get(id)) === undefined);
        if (missing.length > 0 || unreadable.length > 0) return { replayed: [], missing, unreadable };
        const replayed = asked.map((id) => ({ id, newId: newId(id) }));
        if (replayed.some((r) => outboxEntries.has(r.newId))) throw new Error('outbox id is already taken');
        for (const { id, newId: renamed } of replayed) {
          const entry = readEntry(deadEntries.get(id));
          if (entry === undefined) continue;
          deadIds = deadIds.filter((dead) => dead !== id);
          deadEntries.delete(id);
          // Back to this lane's tail, as the Redis store's replay does: not merged, not folded.
          outboxEntries.set(renamed, encodeOutboxEntry({ ...entry, id: renamed, enqueuedAt: nowMs }));
          idsOf(lane).push(renamed);
        }
        return { replayed, missing: [], unreadable: [] };
      },
      async markChannelDown(reason, nowMs) {
        const channel = channelOf();
        const wasDown = channel.up === false;
        setChannel(wasDown ? { ...channel, reason, seenMs: nowMs } : { ...channel, up: false, reason, sinceMs: nowMs, seenMs: nowMs });
        return !wasDown;
      },
      async channelStatus(): Promise<ChannelStatus> {
        const channel = channelOf();
        return { up: channel.up, reason: channel.reason, downSinceMs: channel.sinceMs, lastSuccessMs: channel.okMs, deadLetters: deadIds.length };
      },
    };
  };
  const outbox = laneOutbox(DEFAULT_DESTINATION);

  const upstreamStore: UpstreamStore = {
    async load(projectId) {
      const stored = upstream.get(projectId);
      if (stored === undefined) return { rev: 0, state: INITIAL_UPSTREAM_STATE };
      const state = { ...INITIAL_UPSTREAM_STATE, ...(JSON.parse(stored.state) as Partial<UpstreamState>) };
      return { rev: stored.rev, state: { ...state, integrations: JSON.parse(stored.integrations) as UpstreamState['integrations'] } };
    },
    async commit(projectId, expectedRev, state, entry) {
      const rev = upstream.get(projectId)?.rev ?? 0;
      if (rev !== expectedRev) return { committed: false };
      const { integrations, ...projectWide } = state;
      upstream.set(projectId, { rev: rev + 1, state: JSON.stringify(projectWide), integrations: JSON.stringify(integrations) });
      const entries: readonly OutboxEntry[] = entry === undefined ? [] : Array.isArray(entry) ? (entry as readonly OutboxEntry[]) : [entry as OutboxEntry];
      return { committed: true, version: rev + 1, ...heads(append(entries, entries[0]?.enqueuedAt ?? 0)) };
    },
  };

  return {
    snapshots: snapshotStore,
    outbox,
    lane: laneOutbox,
    upstream: upstreamStore,
    initMarker: {
      isInitialised: async () => initialised,
      async markInitialised() {
        initialised = true;
      },
    },
    wipe() {
      snapshots = new Map();
      episodes = new Map();
      lanes = new Map();
      channels = new Map();
      outboxEntries = new Map();
      outboxMeta = new Map();
      last = new Map();
      drops = { total: 0, seq: 0, notices: new Map() };
      deadIds = [];
      deadEntries = new Map();
      upstream = new Map();
      initialised = false;
    },
  };
}
