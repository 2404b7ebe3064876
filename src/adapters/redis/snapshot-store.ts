/**
 * The snapshots in Redis, one hash per integration (keys.ts), each with the
 * alert states of its installations beside it. A commit writes the snapshot
 * (and its alert states) and appends its notifications to the outbox in one script,
 * guarded by the version the caller loaded, so a crash can never keep one
 * without the other, and two replicas that polled the same integration cannot
 * both commit (the second gets a conflict and sends nothing).
 *
 * A commit of the snapshot this process loaded, unchanged, sends and writes
 * only the version and the times: with every snapshot the script stores a
 * digest of its encoding (field h, as version:digest), `load` remembers the
 * one it read, and `commit` sends the data only when its digest differs. The
 * script checks the stored digest again, so a snapshot written meanwhile (the
 * version guard already refuses that) or by an older release, which writes no
 * digest, is never kept by mistake: the data is then sent after all.
 *
 * Round trips: load and commit take one each, whatever the number of
 * installations (a commit takes two when its digest was stale, see above, and
 * one more when an entry may be merged into a waiting one: outbox-append.ts
 * reads that one first). loadAll, loadChanged and retain take two: the integrations set, then one
 * batch of script calls (sent back to back) over its members, in chunks of
 * KEYS_PER_SCRIPT_CALL keys, since a script may only touch the keys it is given.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';
import { decodeEpisodeLog, encodeEpisodeLog, episodeLogExpiry } from '../../core/episodes.js';
import { decodeSnapshot, decodeSnapshotSteps, encodeSnapshot, sameSnapshot, type Snapshot } from '../../core/snapshot.js';
import type { SnapshotStore, StateReading, StoredSnapshot } from '../../ports.js';
import { stateKeys, type StateKeys } from './keys.js';
import { laneHeadsOf, outboxAppendArgs } from './outbox-append.js';
import { KEYS_PER_SCRIPT_CALL, withStateScripts } from './scripts.js';
import { isStoredVersion } from './stored-values.js';

export interface RedisSnapshotStoreOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  /** Most outbox entries before the oldest low-priority ones are dropped (SLACK_OUTBOX_MAX); none when absent. */
  readonly outboxMax?: number;
  /** Merge an integration's waiting digests (SLACK_OUTBOX_COALESCE); true unless false. */
  readonly coalesce?: boolean;
  /** Most installations kept decoded in memory, over all integrations (see snapshotCacheInstallations). */
  readonly cacheInstallations?: number;
}

/**
 * Installations whose decoded snapshot this process keeps between polls, over
 * all the integrations it polls; the least recently used go first. About
 * 60 MB of heap per 100,000 (measured: README, "Memory and large
 * integrations"), so at most about 120 MB; a snapshot larger than the whole
 * cache is not kept, and its polls read and decode it as before.
 */
export const snapshotCacheInstallations = 200_000;

interface CachedSnapshot {
  /** The digest of its encoding, as field h holds it after the version. */
  readonly digest: string;
  /** Bytes of the stored encoding: a data field edited behind the digest's back has another length. */
  readonly bytes: number;
  readonly snapshot: Snapshot;
}

/**
 * The decoded snapshots this process last loaded or committed, by
 * integration, in least recently used order, at most `max` installations in
 * all. A cached snapshot is used only when Redis says its digest is still the
 * stored one (LOAD_SNAPSHOT_UNLESS_KNOWN): another replica's commit of other
 * data changes the digest, so it is never served stale.
 */
function createSnapshotCache(max: number) {
  const entries = new Map<string, CachedSnapshot>();
  let installations = 0;
  const drop = (integrationId: string): void => {
    const entry = entries.get(integrationId);
    if (entry === undefined) return;
    entries.delete(integrationId);
    installations -= entry.snapshot.size;
  };
  return {
    get(integrationId: string): CachedSnapshot | undefined {
      const entry = entries.get(integrationId);
      if (entry !== undefined) {
        entries.delete(integrationId);
        entries.set(integrationId, entry);
      }
      return entry;
    },
    set(integrationId: string, entry: CachedSnapshot): void {
      drop(integrationId);
      if (entry.snapshot.size > max) return;
      entries.set(integrationId, entry);
      installations += entry.snapshot.size;
      for (const [oldest] of entries) {
        if (installations <= max) break;
        drop(oldest);
      }
    },
    drop,
    /** Installations held now (tests). */
    get installations(): number {
      return installations;
    },
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toStored(
  integrationId: string,
  v: string,
  l: string,
  p: string,
  t: string,
  d: string | Snapshot,
  a: string | null | undefined,
  decoded?: Snapshot,
): StoredSnapshot {
  // A corrupt version would freeze the integration as a "conflict" forever: it reads as unreadable.
  const versionOk = isStoredVersion(v);
  const snapshot = !versionOk ? undefined : (decoded ?? (typeof d === 'string' ? decodeSnapshot(d) : d));
  const reason = !versionOk
    ? `stored version ${JSON.stringify(v.slice(0, 40))} is not a number`
    : snapshot === undefined
      ? 'stored snapshot data cannot be decoded'
      : undefined;
  return {
    integrationId,
    version: versionOk ? Number(v) : 0,
    lineage: l,
    projectId: p,
    lastSuccessMs: Number(t) || 0,
    snapshot,
    ...(a === null || a === undefined ? {} : { alertStates: a }),
    ...(reason === undefined ? {} : { unreadable: { reason, storedVersion: v } }),
  };
}

/** Longest a decode runs before it lets the event loop take a turn. */
const decodeSliceMs = 10;

/** decodeSnapshot, yielding to the event loop (setImmediate) whenever a slice has run for decodeSliceMs. */
async function decodeInSlices(raw: string): Promise<Snapshot | undefined> {
  const steps = decodeSnapshotSteps(raw);
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    if (performance.now() - sliceStart >= decodeSliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** What the commit script keeps in field h beside a snapshot: its version and a digest of its encoding. */
const digestOf = (encoded: string): string => createHash('sha256').update(encoded).digest('base64');

/** The keys of one integration that go with its snapshot, and go when it is forgotten; the snapshot hash first. */
const integrationKeys = (keys: StateKeys, integrationId: string): string[] => [
  keys.snapshot(integrationId),
  keys.alerts(integrationId),
  keys.episodes(integrationId),
  keys.episodeExpiry(integrationId),
];

export function createRedisSnapshotStore(options: RedisSnapshotStoreOptions): SnapshotStore {
  const { redis: client, prefix, outboxMax, coalesce = true } = options;
  const redis = withStateScripts(client);
  const keys = stateKeys(prefix);
  /** Per integration, the h field (version:digest) of the snapshot this process last loaded. */
  const loadedDigests = new Map<string, string>();
  const cache = createSnapshotCache(options.cacheInstallations ?? snapshotCacheInstallations);

  return {
    async load(integrationId) {
      const cached = cache.get(integrationId);
      // One script call, so that the snapshot and its alert states are read as one commit wrote them;
      // without the data when the copy decoded here is still the stored one.
      const row = await redis.ahmLoadSnapshotUnlessKnown(
        keys.snapshot(integrationId),
        keys.alerts(integrationId),
        cached?.digest ?? '',
        String(cached?.bytes ?? 0),
      );
      const [v, l, p, t, d, h, a] = row.map((field) => (typeof field === 'string' ? field : undefined));
      const known = row[7] === 1;
      if (h) loadedDigests.set(integrationId, h);
      else loadedDigests.delete(integrationId);
      if (v === null || v === undefined) {
        cache.drop(integrationId);
        return undefined;
      }
      if (known && cached !== undefined) return toStored(integrationId, v, l ?? '', p ?? '', t ?? '0', cached.snapshot, a);
      const stored = toStored(integrationId, v, l ?? '', p ?? '', t ?? '0', d ?? '', a);
      // Kept under the digest its writer stored beside it (h is version:digest, written with d).
      const digest = h?.slice(h.indexOf(':') + 1);
      if (stored.snapshot !== undefined && stored.unreadable === undefined && h && digest)
        cache.set(integrationId, { digest, bytes: Buffer.byteLength(d ?? ''), snapshot: stored.snapshot });
      else cache.drop(integrationId);
      return stored;
    },

    async commit(req) {
      // The version is the caller's decision; a bad one would be stored and then read as corrupt.
      if (!Number.isSafeInteger(req.version) || req.version < 1)
        throw new RangeError(`commit of ${req.integrationId}: version must be a positive integer, got ${req.version}`);
      // The snapshot this process holds decoded, unchanged: its digest is known without encoding it.
      const cached = cache.get(req.integrationId);
      const same = cached !== undefined && sameSnapshot(req.snapshot, cached.snapshot);
      let encodedOnce: string | undefined;
      const encoded = (): string => (encodedOnce ??= encodeSnapshot(req.snapshot));
      const digest = same ? cached.digest : digestOf(encoded());
      const episodes = [...(req.episodes ?? [])];
      // A read of the entries that may be merged comes first, when there are any (outbox-append.ts).
      const outbox = await outboxAppendArgs(redis, keys, req.outbox, req.nowMs, outboxMax, coalesce, { defaultLane: 3, firstOther: 11 });
      const send = (data: string) =>
        redis.ahmCommitSnapshot(
          10 + outbox.laneKeys.length,
          keys.snapshot(req.integrationId),
          keys.integrations,
          keys.outboxIds,
          keys.outboxEntries,
          keys.outboxMeta,
          keys.outboxLast,
          keys.outboxDrops,
          keys.alerts(req.integrationId),
          keys.episodes(req.integrationId),
          keys.episodeExpiry(req.integrationId),
          ...outbox.laneKeys,
          req.expectedVersion === undefined ? '' : `=${req.expectedVersion}`,
          String(req.version),
          req.lineage,
          req.projectId,
          String(req.nowMs),
          data,
          req.integrationId,
          digest,
          req.alertStates ?? '',
          String(episodes.length),
          ...episodes.flatMap(([id, log]) => {
            const expiry = episodeLogExpiry(log);
            return [id, log.length === 0 ? '' : encodeEpisodeLog(log), Number.isFinite(expiry) ? String(expiry) : '+inf'];
          }),
          ...outbox.args,
        );
      // The same snapshot as the one loaded at the expected version: the stored data stays.
      const unchanged = req.expectedVersion !== undefined && loadedDigests.get(req.integrationId) === `${req.expectedVersion}:${digest}`;
      let sent = unchanged ? '' : encoded();
      let result = await send(sent);
      // The stored digest was not the one loaded after all: send the data.
      if (result[0] === 2) result = await send((sent = encoded()));
      if (result[0] !== 1) return { committed: false };
      // What is stored now: the data sent, or the data kept, whose length the cache knows when it holds that digest.
      // A copy (the records are immutable): the caller may still change the map it committed.
      if (sent !== '') cache.set(req.integrationId, { digest, bytes: Buffer.byteLength(sent), snapshot: new Map(req.snapshot) });
      else if (cached?.digest === digest)
        cache.set(req.integrationId, { digest, bytes: cached.bytes, snapshot: same ? cached.snapshot : new Map(req.snapshot) });
      else cache.drop(req.integrationId);
      return { committed: true, version: Number(result[1]), ...laneHeadsOf(result, 2) };
    },

    async loadAll() {
      const ids = await redis.smembers(keys.integrations);
      const batches = await Promise.all(
        chunks(ids, KEYS_PER_SCRIPT_CALL / 2).map(async (chunk) => ({
          chunk,
          rows: await redis.ahmLoadSnapshots(chunk.length * 2, ...chunk.flatMap((id) => [keys.snapshot(id), keys.alerts(id)])),
        })),
      );
      const out: StoredSnapshot[] = [];
      for (const { chunk, rows } of batches) {
        chunk.forEach((id, i) => {
          const [v, l, p, t, d, , a] = rows[i] ?? [];
          // Dropped between the two round trips: it is gone, as if read a moment later.
          if (v !== null && v !== undefined) out.push(toStored(id, v, l ?? '', p ?? '', t ?? '0', d ?? '', a));
        });
      }
      return out;
    },

    async loadChanged(known) {
      const ids = await redis.smembers(keys.integrations);
      const batches = await Promise.all(
        chunks(ids, KEYS_PER_SCRIPT_CALL / 2).map(async (chunk) => ({
          chunk,
          rows: await redis.ahmLoadChanged(
            chunk.length * 2,
            ...chunk.flatMap((id) => [keys.snapshot(id), keys.alerts(id)]),
            ...chunk.map((id) => known.get(id) ?? ''),
          ),
        })),
      );
      const out: StateReading[] = [];
      for (const { chunk, rows } of batches) {
        for (const [i, id] of chunk.entries()) {
          const [v, l, p, t, token, changed, d, a] = (rows[i] ?? []).map((x) => (x === null ? undefined : String(x)));
          // Dropped between the two round trips: it is gone, as if read a moment later.
          if (v === undefined) continue;
          // Decoded in slices: 100,000 installations must not hold the event loop (a scrape runs beside polls and deliveries).
          const decoded = changed === '1' && isStoredVersion(v) ? await decodeInSlices(d ?? '') : undefined;
          const stored = changed === '1' ? toStored(id, v, l ?? '', p ?? '', t ?? '0', d ?? '', a, decoded) : undefined;
          out.push({ integrationId: id, projectId: p ?? '', lastSuccessMs: Number(t) || 0, token: token ?? '', changed: stored });
        }
      }
      return out;
    },

    async loadEpisodes(integrationId, installationIds) {
      const out = new Map(installationIds.map((id) => [id, [] as ReturnType<typeof decodeEpisodeLog>]));
      if (installationIds.length === 0) return out;
      const raw = await redis.hmget(keys.episodes(integrationId), ...installationIds);
      installationIds.forEach((id, i) => out.set(id, decodeEpisodeLog(raw[i])));
      return out;
    },

    async retain(integrationIds, cutoffMs) {
      // The listed ids stay here: only the stored ones not listed go to Redis, with their keys.
      const listed = new Set(integrationIds);
      const candidates = (await redis.smembers(keys.integrations)).filter((id) => !listed.has(id));
      const per = integrationKeys(keys, '').length;
      const dropped = await Promise.all(
        chunks(candidates, Math.floor((KEYS_PER_SCRIPT_CALL - 1) / per)).map((chunk) =>
          redis.ahmDropStale(
            chunk.length * per + 1,
            keys.integrations,
            ...chunk.flatMap((id) => integrationKeys(keys, id)),
            String(cutoffMs),
            String(per),
            ...chunk,
          ),
        ),
      );
      for (const id of dropped.flat()) {
        loadedDigests.delete(id);
        cache.drop(id);
      }
      return dropped.flat();
    },
  };
}
