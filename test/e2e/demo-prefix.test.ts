/**
 * `npm run demo` clears its Redis prefix at start: only a prefix it wrote
 * itself. QUEUE_PREFIX=ahm exported in a shell that also points REDIS_URL at
 * a monitor's Redis must not wipe that monitor's state.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/private-redis.js';
import { REDIS_URL, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const redis = connect();
const prefixes: string[] = [];

afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deletePrefix(redis, prefix);
});

afterAll(() => {
  redis.disconnect();
});

/** Runs the built demo until it prints its banner (then stops it with SIGTERM) or exits; its exit code and output. */
async function runDemo(prefix: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['dist/src/simulator/main.js'], {
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: String(await freePort()),
      POLL_INTERVAL_SECONDS: '0.5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('Slack messages are printed below')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out };
}

describe('npm run demo and its QUEUE_PREFIX', () => {
  it('refuses a prefix holding keys it did not write, with one line and exit 2, and deletes nothing', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    await redis.hset(`${prefix}:state:snap:int-1`, 'v', '7', 'd', '{"v":2}');
    const { code, out } = await runDemo(prefix);
    expect(code).toBe(2);
    expect(out.trim().split('\n')).toEqual([
      `demo failed: QUEUE_PREFIX=${prefix} holds 1 key(s) the demo did not write (a monitor's state?); the demo clears its prefix at start, so it refuses this one: unset QUEUE_PREFIX (the demo's default is ahm-demo) or choose an unused one`,
    ]);
    expect(await redis.hget(`${prefix}:state:snap:int-1`, 'v')).toBe('7');
  });

  it('clears the state of its own earlier run and starts again', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const first = await runDemo(prefix);
    expect(first.code).toBe(0);
    expect(await redis.exists(`${prefix}:demo-owned`)).toBe(1);
    await redis.set(`${prefix}:left-over`, 'x');
    const second = await runDemo(prefix);
    expect(second.code).toBe(0);
    expect(await redis.exists(`${prefix}:left-over`)).toBe(0);
  });
});
