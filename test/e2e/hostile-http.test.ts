/**
 * The real service as a process (`npm start`, built output) under a corpus of
 * hostile requests over raw TCP on its metrics port. Whatever arrives there,
 * polling and alerting go on, and SIGTERM still exits 0 within 10 s.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, freePort, type Harness } from '../helpers/harness.js';
import { createPrivateRedis } from '../helpers/private-redis.js';
import { halfSentRequest, rawExchange } from '../helpers/raw-http.js';
import { killGroup, spawnWithOutput } from '../helpers/spawn.js';
import { sleep, waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a')]);
});
afterEach(async () => {
  await h.stop();
});

/** A connection that sends `count` pipelined scrapes and never reads an answer. */
function pipelineWithoutReading(port: number, count: number): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.pause();
  socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count));
  return socket;
}

async function startService(extra: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const { child, output } = spawnWithOutput('npm', ['start', '--silent'], {
    ...h.env({ METRICS_PORT: String(await freePort()), METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'info' }),
    ...extra,
  });
  await waitFor('the baseline', () => output().includes('baseline taken'), 20_000);
  return { child, port: Number(/"port":(\d+)/.exec(output())?.[1]), output };
}

const request = (method: string, target: string): string => `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

/** Each entry: what is sent, and the statuses expected back (in order). */
const CORPUS: [string, string, number[]][] = [
  ['empty path "//"', request('GET', '//'), [400]],
  ['"//["', request('GET', '//['), [400]],
  ['"/\\"', request('GET', '/\\'), [400]],
  ['"//:99999"', request('GET', '//:99999'), [400]],
  ['absolute-form', request('GET', 'http://monitor:9464/healthz'), [200]],
  ['the status page', request('GET', '/'), [200]],
  ['the status page, HEAD', request('HEAD', '/'), [200]],
  ['unparsable absolute-form', request('GET', 'http://[/metrics'), [400]],
  ['authority-form CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', [405]],
  ['asterisk-form OPTIONS', request('OPTIONS', '*'), [400]],
  ['POST', request('POST', '/metrics'), [405]],
  ['unknown path', request('GET', '/admin'), [404]],
  ['request line without a target', 'GET\r\n\r\n', [400]],
  ['request line with an unknown version', 'GET /healthz HTTP/7.3\r\nHost: x\r\n\r\n', [400]],
  ['binary garbage', '\u0000\u0001\u0002\u00ff\r\n\r\n', [400]],
  ['64 KB of headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, [431]],
  ['pipelined garbage', 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nBREW /pot HTCPCP/1.0\u0000\r\n\r\n', [200, 200, 400]],
];

describe('npm start, attacked on its metrics port', () => {
  it('answers every hostile request, keeps alerting, and exits 0 within 10 s of SIGTERM', async () => {
    const { child, port, output } = await startService();
    try {
      expect(port).toBeGreaterThan(0);

      // A transition made while the attack runs must still reach Slack.
      const stalled = await Promise.all([1, 2, 3].map(() => halfSentRequest(port)));
      h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
      const [answers, concurrent] = await Promise.all([
        Promise.all(CORPUS.map(([, bytes]) => rawExchange(port, bytes))),
        Promise.all(Array.from({ length: 200 }, () => rawExchange(port, request('GET', '/healthz')))),
      ]);
      expect(answers.map((a, i) => [CORPUS[i]?.[0], a.statuses])).toEqual(CORPUS.map(([name, , statuses]) => [name, statuses]));
      expect(concurrent.filter((c) => c.statuses[0] === 200)).toHaveLength(200);
      for (const s of stalled) s.destroy();

      await waitFor('the alert', () => h.texts().some((t) => t.startsWith('[FIRING:1]') && t.includes('Salesforce installation unhealthy')), 15_000);
      expect(child.exitCode).toBeNull();
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);

      // A request that never finishes must not hold shutdown past its deadline.
      const halfSent = await halfSentRequest(port);
      const started = Date.now();
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      halfSent.destroy();
      expect({ code, withinTenSeconds: Date.now() - started < 10_000 }).toEqual({ code: 0, withinTenSeconds: true });
    } finally {
      killGroup(child);
    }
    expect(output()).not.toContain('fatal');
  });
});

describe('npm start, flooded with pipelined scrapes that are never read', () => {
  it('stays up within a 96 MB heap, answers /healthz throughout, and keeps alerting', async () => {
    const { child, port, output } = await startService({ NODE_OPTIONS: '--max-old-space-size=96' });
    const attackers: Socket[] = [];
    try {
      h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
      // Bounded: 32 connections × 500 scrapes, sent once, for 5 rounds of one second.
      for (let i = 0; i < 32; i++) attackers.push(pipelineWithoutReading(port, 500));
      const probes: number[] = [];
      for (let round = 0; round < 5; round++) {
        await sleep(1000);
        probes.push((await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) })).status);
        for (let i = 0; i < 8; i++) attackers.push(pipelineWithoutReading(port, 500));
      }
      expect(probes).toEqual([200, 200, 200, 200, 200]);
      await waitFor('the alert', () => h.texts().some((t) => t.startsWith('[FIRING:1]') && t.includes('Salesforce installation unhealthy')), 15_000);
      for (const s of attackers) s.destroy();
      expect(child.exitCode).toBeNull();
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      for (const s of attackers) s.destroy();
      killGroup(child);
    }
    expect(output()).not.toMatch(/fatal|heap out of memory/i);
  });
});

describe('npm start, stopped while everything it waits for stalls', () => {
  it('exits 0 within 10 s of SIGTERM with a hanging poll, a Redis that stopped answering, a half-sent request and a pipelined backlog', async () => {
    const redis = await createPrivateRedis();
    await redis.start();
    // The Ampersand timeout outlasts the job grace, as the default (30 s) does.
    const { child, port, output } = await startService({ REDIS_URL: redis.url, AMPERSAND_TIMEOUT_SECONDS: '30' });
    try {
      h.ampersand.setStickyFault({ kind: 'hang' });
      await waitFor('a poll hanging', () => h.ampersand.requests.length > 0 && Date.now() - (h.ampersand.requests.at(-1)?.at ?? 0) > 1500, 10_000);
      const halfSent = await halfSentRequest(port);
      const halfSentClosed = new Promise<boolean>((resolve) => halfSent.once('close', () => resolve(true)));
      const backlog = pipelineWithoutReading(port, 3000);
      const started = Date.now();
      child.kill('SIGTERM');
      // Every step of shutdown after the job grace now waits for Redis, and so does a scrape.
      redis.signal('SIGSTOP');
      // Scrapes go on while the pod terminates: at most 4 a second, for at most 12 s.
      let scrapes = 0;
      const scraping = setInterval(() => {
        if (++scrapes <= 48) void rawExchange(port, request('GET', '/metrics'), 2000);
      }, 250);
      // HTTP goes first: a second into shutdown the port is closed and so is the half-sent request.
      await sleep(1000);
      expect(await Promise.race([halfSentClosed, sleep(0).then(() => false)])).toBe(true);
      expect((await rawExchange(port, request('GET', '/healthz'), 1000)).statuses).toEqual([]);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearInterval(scraping);
      halfSent.destroy();
      backlog.destroy();
      expect({ code, withinTenSeconds: Date.now() - started < 10_000 }).toEqual({ code: 0, withinTenSeconds: true });
    } finally {
      killGroup(child);
      await redis.stop();
    }
    expect(output()).toContain('releasing them');
  });
});
