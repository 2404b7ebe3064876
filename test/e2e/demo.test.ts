/**
 * `npm run demo` on a machine with no Redis running: it brings its own, and
 * leaves nothing behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeRedis } from '../../src/adapters/redis/reachability.js';
import { freePort } from '../helpers/private-redis.js';
import { uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

describe('npm run demo', () => {
  describe('when REDIS_URL does not answer and redis-server is on the PATH', () => {
    it('runs a private redis-server, serves metrics, and removes the server and its directory on SIGTERM', async () => {
      const closed = await freePort();
      const child = spawn('npm', ['run', 'demo', '--silent'], {
        env: {
          PATH: process.env['PATH'],
          HOME: process.env['HOME'],
          REDIS_URL: `redis://127.0.0.1:${closed}`,
          METRICS_PORT: String(await freePort()),
          POLL_INTERVAL_SECONDS: '0.5',
          QUEUE_PREFIX: uniquePrefix(),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await waitFor('the demo banner', () => out.includes('Slack messages are printed below'), 20_000);
        const metricsPort = Number(/metrics: +http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(out)?.[1]);
        const [, redisUrl, dir] = /Redis: +(redis:\/\/127\.0\.0\.1:\d+), a private redis-server \(pid \d+, dir ([^)]+)\)/.exec(out) ?? [];
        expect(redisUrl).toBeDefined();
        expect(existsSync(dir ?? '')).toBe(true);
        await waitFor(
          'installation series in /metrics',
          async () => (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).includes('ampersand_installation_health_status{'),
          15_000,
        );

        child.kill('SIGTERM');
        const [code] = (await once(child, 'exit')) as [number | null];
        expect(code).toBe(0);
        expect(await probeRedis(redisUrl ?? '', 1000)).toBeDefined();
        expect(existsSync(dir ?? '')).toBe(false);
        expect(out).not.toMatch(/ReplyError|at .*node_modules\/ioredis/);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });

  describe('when a signal arrives while the private redis-server starts', () => {
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    it.each(['SIGTERM', 'SIGHUP'] as const)('on %s stops the redis-server and removes its directory', async (signal) => {
      const child = spawn(process.execPath, ['dist/src/simulator/main.js'], {
        env: {
          PATH: process.env['PATH'],
          HOME: process.env['HOME'],
          REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
          METRICS_PORT: String(await freePort()),
          QUEUE_PREFIX: uniquePrefix(),
        },
        stdio: 'ignore',
      });
      let redisPid = 0;
      let dir = '';
      try {
        await waitFor(
          'the redis-server child',
          () => {
            const found = (() => {
              try {
                return execFileSync('pgrep', ['-P', String(child.pid), 'redis-server'])
                  .toString()
                  .trim();
              } catch {
                return '';
              }
            })();
            redisPid = Number(found.split('\n')[0] || 0);
            // redis-server works in its --dir once it has read its arguments.
            try {
              dir = readlinkSync(`/proc/${redisPid}/cwd`);
            } catch {
              return false;
            }
            return redisPid > 0 && dir.includes('ahm-demo-redis-');
          },
          10_000,
        );
        expect(existsSync(dir)).toBe(true);
        child.kill(signal);
        const [code] = (await once(child, 'exit')) as [number | null];
        expect({ code, redisAlive: alive(redisPid), dirLeft: existsSync(dir) }).toEqual({ code: 0, redisAlive: false, dirLeft: false });
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        if (redisPid > 0 && alive(redisPid)) process.kill(redisPid, 'SIGKILL');
      }
    });
  });

  describe('when REDIS_URL does not answer and no redis-server is on the PATH', () => {
    it('prints one line naming REDIS_URL and how to start Redis, and exits 1', async () => {
      const closed = await freePort();
      const emptyPath = mkdtempSync(join(tmpdir(), 'ahm-no-redis-'));
      try {
        const child = spawn(process.execPath, ['dist/src/simulator/main.js'], {
          env: { PATH: emptyPath, HOME: process.env['HOME'], REDIS_URL: `redis://:pw-hidden@127.0.0.1:${closed}`, METRICS_PORT: String(await freePort()) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        const [code] = (await once(child, 'exit')) as [number | null];
        clearTimeout(kill);
        expect(code).toBe(1);
        const lines = out.split('\n').filter((l) => l !== '');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`Redis is not reachable at REDIS_URL=redis://:***@127.0.0.1:${closed}`);
        expect(lines[0]).toContain('no redis-server on the PATH');
        expect(out).not.toContain('pw-hidden');
      } finally {
        rmSync(emptyPath, { recursive: true, force: true });
      }
    });
  });
});
