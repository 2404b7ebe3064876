/**
 * In-memory implementations of the store ports, with the semantics of the
 * Redis adapters: version-guarded commits that append to the outbox in the
 * same step, a head-only pop, capped dead letters trimmed a bounded number per
 * pop, the channel's shared health. Values are kept in their stored form
 * (the core codecs), so a caller never shares an object with the store.
 * The contract suites in test/contracts/ run against both, so they cannot drift.
 */
import { decodeEpisodeLog, encodeEpisodeLog, episodeLogExpiry } from '../../src/core/episodes.js';
import { decodeOutboxEntry, encodeOutboxEntry, type OutboxEntry } from '../../src/core/outbox-entry.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/core/snapshot.js';
import { INITIAL_UPSTREAM_STATE, type UpstreamState } from '../../src/core/upstream-policy.js';
import type { ChannelStatus, InitMarker, Outbox, SnapshotStore, StoredSnapshot, UpstreamStore } from '../../src/ports.js';

export interface InMemoryStoresOptions {
  /** Most dead letters kept (the Redis default: 10,000). */
  readonly deadLetterMax?: number;
  /** Most dead letters one pop trims beyond the cap (the Redis adapter: 1,000). */
  readonly deadLetterTrimPerPop?: number;
}

export interface InMemoryStores {
  readonly snapshots: SnapshotStore;
  readonly outbox: Outbox;
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

export function createInMemoryStores({ deadLetterMax = 10_000, deadLetterTrimPerPop = 1_000 }: InMemoryStoresOptions = {}): InMemoryStores {
  let snapshots = new Map<string, SnapshotRecord>();
  /** Per integration, per installation: its stored episode log and when it may be dropped (as the Redis zset scores it). */
  let episodes = new Map<string, Map<string, { raw: string; expiry: number }>>();
  let outboxIds: string[] = [];
  let outboxEntries = new Map<string, string>();
  let deadIds: string[] = [];
  let deadEntries = new Map<string, string>();
  let channel: Channel = {};
  let upstream: { rev: number; state: string; integrations: string } | undefined;
  let initialised = false;

  const append = (entries: readonly OutboxEntry[]): void => {
    for (const entry of entries) {
      outboxIds.push(entry.id);
      outboxEntries.set(entry.id, encodeOutboxEntry(entry));
    }
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
      append(req.outbox);
      return { committed: true, version: req.version, outboxHead: outboxIds[0] };
    },
    async loadAll() {
      return [...snapshots].map(([id, record]) => toStored(id, record));
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

  const outbox: Outbox = {
    async head() {
      const id = outboxIds[0];
      if (id === undefined) return undefined;
      return { id, entry: readEntry(outboxEntries.get(id)), channel: { lastSuccessMs: channel.okMs, lastFaultMs: channel.seenMs } };
    },
    headId: async () => outboxIds[0],
    size: async () => outboxIds.length,
    async pop(id, dead, deliveredAtMs) {
      let popped = false;
      if (outboxIds[0] === id) {
        outboxIds.shift();
        const entry = outboxEntries.get(id);
        outboxEntries.delete(id);
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
        recovered = channel.up === false;
        channel = { up: true, okMs: deliveredAtMs, ...(channel.seenMs === undefined ? {} : { seenMs: channel.seenMs }) };
      }
      return { popped, head: outboxIds[0], recovered };
    },
    async deadLetters() {
      return deadIds.map((id) => readEntry(deadEntries.get(id))).filter((e): e is OutboxEntry => e !== undefined);
    },
    async markChannelDown(reason, nowMs) {
      const wasDown = channel.up === false;
      channel = wasDown ? { ...channel, reason, seenMs: nowMs } : { ...channel, up: false, reason, sinceMs: nowMs, seenMs: nowMs };
      return !wasDown;
    },
    async channelStatus(): Promise<ChannelStatus> {
      return { up: channel.up, reason: channel.reason, downSinceMs: channel.sinceMs, lastSuccessMs: channel.okMs, deadLetters: deadIds.length };
    },
  };

  const upstreamStore: UpstreamStore = {
    async load() {
      if (upstream === undefined) return { rev: 0, state: INITIAL_UPSTREAM_STATE };
      const state = { ...INITIAL_UPSTREAM_STATE, ...(JSON.parse(upstream.state) as Partial<UpstreamState>) };
      return { rev: upstream.rev, state: { ...state, integrations: JSON.parse(upstream.integrations) as UpstreamState['integrations'] } };
    },
    async commit(expectedRev, state, entry) {
      const rev = upstream?.rev ?? 0;
      if (rev !== expectedRev) return { committed: false };
      const { integrations, ...projectWide } = state;
      upstream = { rev: rev + 1, state: JSON.stringify(projectWide), integrations: JSON.stringify(integrations) };
      if (entry !== undefined) append([entry]);
      return { committed: true, version: rev + 1, outboxHead: outboxIds[0] };
    },
  };

  return {
    snapshots: snapshotStore,
    outbox,
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
      outboxIds = [];
      outboxEntries = new Map();
      deadIds = [];
      deadEntries = new Map();
      channel = {};
      upstream = undefined;
      initialised = false;
    },
  };
}
