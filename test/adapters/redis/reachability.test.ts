/**
 * The start-up probe of a cluster or Sentinel target, against the shared standalone Redis:
 * a standalone Redis named as a cluster seed stops start-up with one line that
 * says so (the Cluster client would otherwise retry its slot map forever), and
 * never shows the password. The other way round (a cluster node as a plain
 * REDIS_URL) needs a cluster: test/faults/redis-cluster.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { probeRedisTarget } from '../../../src/adapters/redis/reachability.js';
import { freePort } from '../../helpers/private-redis.js';
import { REDIS_URL } from '../../helpers/redis.js';

const standalone = new URL(REDIS_URL);
const seed = { host: standalone.hostname, port: Number(standalone.port || 6379) };

describe('probeRedisTarget on a cluster target', () => {
  it('refuses a seed that is a standalone Redis, even when another seed is down, without the password', async () => {
    const closed = await freePort();
    const failure = await probeRedisTarget(
      { url: '', cluster: { nodes: [{ host: '127.0.0.1', port: closed }, seed], username: undefined, password: undefined, tls: false } },
      2000,
    );
    expect(failure?.shown).toBe(`redis+cluster://127.0.0.1:${closed},${seed.host}:${seed.port}`);
    // The line is about the misnamed node alone: that is what to fix.
    expect(failure?.reason).toBe(
      `${seed.host}:${seed.port}: it is not a Redis Cluster node (cluster_enabled:0): name it in REDIS_URL alone, without REDIS_CLUSTER_NODES`,
    );
  });

  it('says why each seed failed when none answers', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const failure = await probeRedisTarget(
      {
        url: '',
        cluster: {
          nodes: [
            { host: '127.0.0.1', port: a },
            { host: '127.0.0.1', port: b },
          ],
          username: undefined,
          password: 'hunter2',
          tls: false,
        },
      },
      2000,
    );
    expect(failure?.shown).toBe(`redis+cluster://:***@127.0.0.1:${a},127.0.0.1:${b}`);
    expect(failure?.reason).toMatch(new RegExp(`^127\\.0\\.0\\.1:${a}: .+; 127\\.0\\.0\\.1:${b}: .+$`));
    expect(JSON.stringify(failure)).not.toContain('hunter2');
  });

  it('accepts a standalone REDIS_URL as before', async () => {
    expect(await probeRedisTarget({ url: REDIS_URL, cluster: undefined }, 2000)).toBeUndefined();
  });
});

describe('probeRedisTarget on a Sentinel target', () => {
  it('says that no sentinel answered, naming the master group and the sentinels, without the password', async () => {
    const closed = await freePort();
    const failure = await probeRedisTarget(
      { url: 'redis://:hunter2@unused:6379', cluster: undefined, sentinel: { sentinels: [{ host: '127.0.0.1', port: closed }], name: 'ahm' } },
      2000,
    );
    expect(failure?.shown).toBe(`Sentinel master "ahm" via 127.0.0.1:${closed}`);
    expect(failure?.reason).toContain('All sentinels are unreachable');
    expect(JSON.stringify(failure)).not.toContain('hunter2');
  });

  it('refuses a standalone Redis named as a sentinel (it knows no master group)', async () => {
    const failure = await probeRedisTarget({ url: 'redis://unused:6379', cluster: undefined, sentinel: { sentinels: [seed], name: 'ahm' } }, 2000);
    expect(failure?.shown).toBe(`Sentinel master "ahm" via ${seed.host}:${seed.port}`);
    expect(failure?.reason).toContain("ERR unknown command 'sentinel'");
  });
});
