/**
 * State written by the release before the versioned snapshot format
 * (test/fixtures/state-v1.json, from d67bbcf: a v1 snapshot of int-1 and two
 * notifications still pending because Slack was down) must be read by this
 * release as it is: no new baseline, no alert for what did not change, the
 * pending notifications delivered in order (as that release rendered them),
 * and the snapshot rewritten as v2. That release kept no alert states: they
 * are upgraded from the snapshot, so what it announced as bad is not
 * announced again, and its recovery still is.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAlertStates } from '../../src/core/alert-states.js';
import { FIXTURE_INSTALLATIONS, PREFIX_PLACEHOLDER, type DumpedKey } from '../fixtures/generate-state-v1.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { refOf } from '../helpers/slack.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURE = new URL('../fixtures/state-v1.json', import.meta.url);

/** Writes every key of the fixture under `prefix`, with the TTL it had left. */
async function restoreFixture(redis: Redis, prefix: string): Promise<DumpedKey[]> {
  const keys = JSON.parse(readFileSync(FIXTURE, 'utf8').replaceAll(PREFIX_PLACEHOLDER, prefix)) as DumpedKey[];
  for (const k of keys) {
    switch (k.type) {
      case 'string':
        await redis.set(k.key, k.value);
        break;
      case 'hash':
        await redis.hset(k.key, k.value);
        break;
      case 'list':
        await redis.rpush(k.key, ...k.value);
        break;
      case 'set':
        await redis.sadd(k.key, ...k.value);
        break;
      case 'zset':
        await redis.zadd(k.key, ...k.value.flatMap(([member, score]) => [score, member]));
        break;
      case 'stream':
        for (const [id, fields] of k.value) await redis.xadd(k.key, id, ...fields);
        break;
    }
    if (k.pttl > 0) await redis.pexpire(k.key, k.pttl);
  }
  return keys;
}

let h: Harness;

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', FIXTURE_INSTALLATIONS);
});

afterEach(async () => {
  await h.stop();
});

describe('state written by the release before the versioned snapshot format', () => {
  it('is read without a re-baseline or an alert, its pending notifications go out in order, and diffs still work', async () => {
    const restored = await restoreFixture(h.redis, h.prefix);
    const snapKey = `${h.prefix}:state:snap:int-1`;
    const v1 = await h.redis.hgetall(snapKey);
    // The fixture really is v1 (a 7-tuple per installation, no format version) with two notifications pending.
    expect(JSON.parse(v1['d'] ?? '')).toMatchObject({ a: expect.any(Array), b: expect.any(Array), c: expect.any(Array) });
    expect(JSON.parse(v1['d'] ?? '')).not.toHaveProperty('v');
    const pending = await h.redis.lrange(`${h.prefix}:state:outbox:ids`, 0, -1);
    expect(pending).toEqual([`int-1.${v1['l']}.1.1`, `int-1.${v1['l']}.2.1`]);
    expect(restored.length).toBeGreaterThan(pending.length);

    const { logs } = await h.start({ UPSTREAM_DEGRADED_AFTER_CYCLES: '1000' });
    const version = async (): Promise<number> => Number(await h.redis.hget(snapKey, 'v'));
    const storedFormat = async (): Promise<unknown> => (JSON.parse((await h.redis.hget(snapKey, 'd')) ?? 'null') as { v?: unknown } | null)?.v;

    // Two polls after the upgrade, and both pending notifications delivered.
    await waitFor('two polls to commit', async () => (await version()) >= Number(v1['v']) + 2);
    await waitFor(
      'the pending notifications to be delivered',
      async () => h.slack.messages.length >= 2 && (await h.redis.llen(`${h.prefix}:state:outbox:ids`)) === 0,
    );

    expect(h.slack.messages.map((m) => refOf(m.body))).toEqual(pending);
    expect(h.texts()).toEqual([
      '[BASELINE] Ampersand integration int-1: monitoring started, already needing attention: b (group "Customer b" org-b, salesforce) health_status is unhealthy',
      '[FIRING:1] Ampersand integration int-1: a (group "Customer a" org-a, salesforce) health_status healthy → unhealthy',
    ]);
    expect(await h.redis.hget(snapKey, 'l')).toBe(v1['l']);
    expect(await storedFormat()).toBe(2);
    const messages = logs.lines().map((l) => String(l['msg']));
    expect(messages.filter((m) => /baseline|unreadable/.test(m))).toEqual([]);
    expect(messages.filter((m) => m.startsWith('transition:'))).toEqual([]);

    // The alert states were upgraded in place: a and b, announced as unhealthy, are firing.
    const states = loadAlertStates((await h.redis.get(`${h.prefix}:state:alerts:int-1`)) ?? undefined, new Map(), new Date());
    expect(states.source).toBe('stored');
    expect([...states.states.keys()].sort()).toEqual(['a', 'b']);
    expect(messages.filter((m) => m.startsWith('no alert states stored'))).toHaveLength(1);

    // A change after the upgrade is diffed against the upgraded snapshot and alerted once.
    h.ampersand.update('int-1', 'c', { lastOperationStatus: 'failure' });
    await waitFor('the alert for the change', () => h.slack.messages.length === 3);
    expect(h.texts()[2]).toBe('[FIRING:1] integration int-1: Salesforce reads failing — Customer c (org-c)');
    expect(refOf(h.slack.messages[2]?.body ?? {})).toMatch(new RegExp(`^int-1\\.${v1['l']}\\.\\d+\\.1$`));
    const after = await version();
    await waitFor('two more polls', async () => (await version()) >= after + 2);
    expect(h.slack.messages).toHaveLength(3);
    expect(await storedFormat()).toBe(2);

    // a recovers: its recovery is sent, though the release before announced it; b, still unhealthy, says nothing.
    h.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    await waitFor('the recovery of a', () => h.slack.messages.length === 4);
    expect(h.texts()[3]).toBe('[RESOLVED:1] integration int-1: Salesforce recovered: unhealthy — Customer a (org-a)');
    const recovery = JSON.stringify(h.slack.messages[3]?.body.blocks);
    // Its start is not known (the release before did not keep it): "at least" since the upgrade.
    expect(recovery).toContain('Salesforce recovered: unhealthy for at least ');
    const done = await version();
    await waitFor('two more polls', async () => (await version()) >= done + 2);
    expect(h.slack.messages).toHaveLength(4);
  });
});
