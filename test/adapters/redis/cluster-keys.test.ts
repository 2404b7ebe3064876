/**
 * Redis Cluster readiness of the state store, checked on a standalone Redis:
 * under a hash-tagged prefix every key the store touches carries the same
 * `{…}` tag (so all of them land in one slot), and every key a Lua script
 * touches was declared in its KEYS (Cluster routes a script by its KEYS and
 * refuses one that reaches beyond them). MONITOR shows each script call with
 * its KEYS, and each command the script runs (source "lua"); COMMAND GETKEYS
 * says which arguments of such a command are keys.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adoptLanes } from '../../../src/adapters/redis/outbox.js';
import { STATE_SCRIPTS } from '../../../src/adapters/redis/scripts.js';
import { createRedisStores, type RedisStores } from '../../../src/adapters/redis/stores.js';
import { INITIAL_UPSTREAM_STATE } from '../../../src/core/upstream-policy.js';
import { connect, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { alertsEntry, entry, snap } from '../../helpers/store-builders.js';

/** The part of a key Redis Cluster hashes: the first non-empty `{…}`, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close);
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

/** MONITOR escapes control characters in what it shows (a script's newlines); our scripts hold no other escapes. */
const unescapeMonitor = (text: string): string =>
  text.replace(/\\([nrt\\])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : '\\'));

interface Recorded {
  /** Keys declared by the script calls of one operation (EVAL/EVALSHA numkeys and keys). */
  readonly declared: Set<string>;
  /** Keys the scripts of that operation touched. */
  readonly touched: Set<string>;
  /** Keys of the commands the store sent itself. */
  readonly direct: Set<string>;
  readonly shas: Set<string>;
}

let redis: Redis;
let monitorConnection: Redis;
let tag: string;
let prefix: string;
let stores: RedisStores;

beforeEach(() => {
  redis = connect();
  tag = uniquePrefix();
  prefix = `{${tag}}`;
  stores = createRedisStores({ redis, prefix, deadLetterMax: 1 });
});

afterEach(async () => {
  monitorConnection.disconnect();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

/** Runs each operation in turn under MONITOR and returns, per operation, the keys it declared and touched. */
async function record(operations: Record<string, () => Promise<unknown>>): Promise<Map<string, Recorded>> {
  monitorConnection = connect();
  // The store's own connection, by address: every command it sends is recorded, whatever its keys, so
  // a key without the tag cannot slip by. Other tests share this Redis; their commands are ignored.
  const address = /addr=(\S+)/.exec(String(await redis.call('CLIENT', 'INFO')))?.[1];
  expect(address).toBeDefined();
  const monitor = await monitorConnection.monitor();
  const lines: { readonly args: string[]; readonly lua: boolean }[] = [];
  let seen: (marker: string) => void = () => undefined;
  // MONITOR shows a script's commands (source "lua", no address) right after its EVAL/EVALSHA line:
  // a script runs atomically, so they belong to the last non-script line, and are ours when it is.
  let lastWasOurs = false;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const text = args.map(String);
    const command = text[0]?.toLowerCase();
    if (source === 'lua') {
      if (lastWasOurs) lines.push({ args: text, lua: true });
      return;
    }
    lastWasOurs = source === address;
    if (!lastWasOurs) return;
    if (command === 'echo' && text[1]?.startsWith(`marker ${tag} `)) seen(text[1]);
    // COMMAND GETKEYS is this test asking, below.
    else if (command !== 'command') lines.push({ args: text, lua: false });
  });
  const out = new Map<string, Recorded>();
  for (const [name, run] of Object.entries(operations)) {
    lines.length = 0;
    await run();
    // The marker is sent after the operation on the same connection, so MONITOR shows it after every command of it.
    const marker = `marker ${tag} ${name}`;
    const arrived = new Promise<void>((resolve) => (seen = (m) => m === marker && resolve()));
    await redis.echo(marker);
    await arrived;
    const recorded: Recorded = { declared: new Set(), touched: new Set(), direct: new Set(), shas: new Set() };
    for (const { args, lua } of lines.splice(0)) {
      const command = args[0]?.toLowerCase() ?? '';
      if (!lua && (command === 'eval' || command === 'evalsha')) {
        const body = args[1] ?? '';
        recorded.shas.add(command === 'eval' ? sha1(unescapeMonitor(body)) : body);
        for (const key of args.slice(3, 3 + Number(args[2]))) recorded.declared.add(key);
        continue;
      }
      const keys = (await redis.call('COMMAND', 'GETKEYS', ...args)) as string[];
      for (const key of keys) (lua ? recorded.touched : recorded.direct).add(key);
    }
    out.set(name, recorded);
  }
  return out;
}

describe('the Redis stores under a hash-tagged prefix', () => {
  it('touch only keys declared in KEYS from their scripts, and only keys of one hash slot, in every operation', async () => {
    const { snapshots, outbox, upstream, initMarker } = stores;
    const baseline = {
      integrationId: 'int-1',
      expectedVersion: undefined,
      version: 1,
      lineage: 'L',
      projectId: 'p',
      snapshot: snap('a'),
      nowMs: 5,
      outbox: [entry('n1'), entry('n2')],
      alertStates: 'states',
      episodes: new Map([
        ['a', [{ condition: 'unhealthy' as const, since: 1, firedAt: 2 }]],
        ['b', []],
      ]),
    };
    const recorded = await record({
      commit: () => snapshots.commit(baseline),
      conflict: () => snapshots.commit(baseline),
      commitOther: () => snapshots.commit({ ...baseline, integrationId: 'int-2', outbox: [] }),
      // Merged into the waiting digest of int-3 (behind the head n1): reads the coalesce target first.
      commitAlerts: () => snapshots.commit({ ...baseline, integrationId: 'int-3', outbox: [alertsEntry('a1', 'int-3', ['x'])] }),
      commitMerged: () =>
        snapshots.commit({ ...baseline, integrationId: 'int-3', expectedVersion: 1, version: 2, outbox: [alertsEntry('a2', 'int-3', ['y'])] }),
      load: () => snapshots.load('int-1'),
      loadEpisodes: () => snapshots.loadEpisodes('int-1', ['a', 'b']),
      loadAll: () => snapshots.loadAll(),
      loadChanged: () => snapshots.loadChanged(new Map()),
      head: () => outbox.head(),
      headId: () => outbox.headId(),
      size: () => outbox.size(),
      markChannelDown: () => outbox.markChannelDown('HTTP 404', 6),
      markChannelDownAgain: () => outbox.markChannelDown('HTTP 404', 7),
      popDead: () => outbox.pop('n1', true),
      popDeadAndTrim: () => outbox.pop('n2', true),
      popMerged: () => outbox.pop('a1', false, 7),
      commitUpstream: () => upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, entry('u1')),
      loadUpstream: () => upstream.load('proj-1'),
      popDelivered: () => outbox.pop('u1', false, 8),
      deadLetters: () => outbox.deadLetters(),
      channelStatus: () => outbox.channelStatus(),
      markInitialised: () => initMarker.markInitialised(9),
      isInitialised: () => initMarker.isInitialised(),
      retain: () => snapshots.retain(['int-2'], 10),
      replayDeadLetters: () => outbox.replayDeadLetters(['n2'], 11, (id) => `${id}.replay-1`),
      // A route's lane: appended to in the same commit as the default lane, then moved to it once the route is gone.
      registerLanes: () => adoptLanes(redis, prefix, ['default', 'sales']),
      commitRouted: () =>
        snapshots.commit({
          ...baseline,
          integrationId: 'int-4',
          outbox: [alertsEntry('r1', 'int-4', ['x']), { ...alertsEntry('r2', 'int-4', ['y']), destination: 'sales' }],
        }),
      laneHead: () => stores.lane('sales').head(),
      adoptLanes: () => adoptLanes(redis, prefix, ['default']),
    });

    // The operations did what they say (else the keys below prove little).
    expect((await snapshots.loadAll()).map((stored) => stored.integrationId).sort()).toEqual(['int-2', 'int-4']);
    expect(await outbox.deadLetters()).toEqual([]);
    expect(await outbox.headId()).toBe('n2.replay-1');
    expect(await outbox.size()).toBe(3);
    expect(await stores.lane('sales').size()).toBe(0);
    expect(await outbox.channelStatus()).toMatchObject({ up: true, lastSuccessMs: 8 });

    for (const [name, { declared, touched, direct }] of recorded) {
      const undeclared = [...touched].filter((key) => !declared.has(key));
      expect({ name, undeclared }).toEqual({ name, undeclared: [] });
      const keys = [...declared, ...touched, ...direct];
      expect({ name, touchedAnything: keys.length > 0 }).toEqual({ name, touchedAnything: true });
      const foreign = keys.filter((key) => hashTag(key) !== tag);
      expect({ name, foreign }).toEqual({ name, foreign: [] });
    }
    // Every script ran at least once, so none escaped the check.
    const ran = new Set([...recorded.values()].flatMap((r) => [...r.shas]));
    const missing = Object.entries(STATE_SCRIPTS)
      .filter(([, { lua }]) => !ran.has(sha1(lua)))
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('keep every key under the prefix, so one hash tag covers them', async () => {
    await stores.snapshots.commit({
      integrationId: 'int-{x}',
      expectedVersion: undefined,
      version: 1,
      lineage: 'L',
      projectId: 'p',
      snapshot: snap('a'),
      nowMs: 5,
      outbox: [entry('n1')],
    });
    await stores.outbox.markChannelDown('r', 1);
    await stores.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, undefined);
    await stores.initMarker.markInitialised(1);
    await stores.outbox.pop('n1', true);
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThanOrEqual(7);
    // An integration id with braces of its own does not move its key: the first tag wins.
    expect(keys).toContain(`${prefix}:state:snap:int-{x}`);
    expect(keys.filter((key) => hashTag(key) !== tag)).toEqual([]);
  });
});
