/**
 * The first minute of `npm start` (built output): what an operator sees when
 * Redis is missing, and that the fatal line never carries a secret.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/private-redis.js';
import { connect, REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { spawnWithOutput } from '../helpers/spawn.js';

async function npmStart(env: Record<string, string>): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const { child, output } = spawnWithOutput('npm', ['start', '--silent'], env);
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(kill);
  return { code, output: output(), ms: Date.now() - started };
}

// No METRICS_PORT unless a case sets one: the others end before the HTTP server would bind (0 is refused by the config).
const base = { AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p', QUEUE_PREFIX: 'ahmtest-startup' };

describe('npm start', () => {
  describe('when Redis does not answer', () => {
    it('prints one line naming REDIS_URL with its password hidden and how to start Redis, and exits 1 within 10 s', async () => {
      const port = await freePort();
      const { code, output, ms } = await npmStart({ ...base, REDIS_URL: `redis://:hunter2-pw@127.0.0.1:${port}` });
      expect(code).toBe(1);
      expect(ms).toBeLessThan(10_000);
      const lines = output.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`REDIS_URL=redis://:***@127.0.0.1:${port}`);
      expect(lines[0]).toContain('Redis is not reachable');
      expect(lines[0]).toContain('redis-server');
      expect(output).not.toContain('hunter2-pw');
    });
  });

  describe('when Redis refuses the database of REDIS_URL', () => {
    it('prints one line naming REDIS_URL with its password hidden and the error, and exits 1', async () => {
      const url = new URL(REDIS_URL);
      url.pathname = '/99';
      const { code, output } = await npmStart({ ...base, REDIS_URL: url.href });
      expect(code).toBe(1);
      const lines = output.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`REDIS_URL=${url.href}`);
      expect(lines[0]).toContain('DB index is out of range');
    });
  });

  describe('when METRICS_PORT is taken', () => {
    it('prints one line naming METRICS_HOST and METRICS_PORT and exits 1 before any job ran', async () => {
      const taken = createServer();
      taken.listen(0, '127.0.0.1');
      await once(taken, 'listening');
      const port = (taken.address() as AddressInfo).port;
      const prefix = uniquePrefix();
      try {
        const { code, output } = await npmStart({
          ...base,
          REDIS_URL,
          QUEUE_PREFIX: prefix,
          METRICS_HOST: '127.0.0.1',
          METRICS_PORT: String(port),
          POLL_INTERVAL_SECONDS: '0.2',
        });
        expect(code).toBe(1);
        const lines = output.split('\n').filter((l) => l !== '');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`cannot listen on METRICS_HOST:METRICS_PORT (127.0.0.1:${port})`);
        expect(lines[0]).toContain('EADDRINUSE');
        // No schedule registered, no state written, no job run: nothing under the prefix.
        const redis = connect();
        try {
          expect(await redis.keys(`${prefix}:*`)).toEqual([]);
        } finally {
          redis.disconnect();
        }
      } finally {
        taken.close();
      }
    });
  });

  describe('when start-up fails on a value that holds a secret', () => {
    it('prints neither the API key nor the webhook URL', async () => {
      const webhook = 'http://127.0.0.1:9/services/T0AAAA111/B0BBBB222/abcdEFGHijklMNOPqrstUVWX';
      // A line break in the key: today Headers.append throws with the whole key in its message.
      const { code, output } = await npmStart({ ...base, REDIS_URL, AMPERSAND_API_KEY: 'amp-secret-1234\nsecond-line-5678', SLACK_WEBHOOK_URL: webhook });
      expect(code).not.toBe(0);
      for (const secret of ['amp-secret-1234', 'second-line-5678', 'abcdEFGHijklMNOPqrstUVWX', '/services/']) expect(output).not.toContain(secret);
    });
  });
});
