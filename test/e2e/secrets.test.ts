/**
 * The API key and the webhook URL must appear in no log line, error, metric or
 * Slack message, including when requests fail.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalServer } from '../../src/simulator/local-server.js';
import { installationSpec } from '../helpers/builders.js';
import { API_KEY, createHarness, freePort, sample, type Harness } from '../helpers/harness.js';
import { dumpPrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a', { healthStatus: 'unhealthy' })]);
});
afterEach(async () => {
  await h.stop();
});

describe('secrets', () => {
  it('never show in logs, metrics, /readyz or Slack messages, also when requests fail', async () => {
    const secretPath = new URL(h.slack.webhookUrl).pathname;
    // Slack fails first (5xx, then a hang), the API fails in every way it can.
    h.slack.inject({ kind: 'status', status: 500 }, { kind: 'hang' });
    h.ampersand.inject(
      'int-1',
      { kind: 'status', status: 401 },
      { kind: 'status', status: 403 },
      { kind: 'status', status: 500, problem: { title: `echo ${API_KEY}`, status: 500, detail: `key was ${API_KEY}` } },
      { kind: 'raw', contentType: 'application/json', body: 'not json' },
      { kind: 'hang' },
    );
    const { logs } = await h.start({ SLACK_TIMEOUT_SECONDS: '1', AMPERSAND_TIMEOUT_SECONDS: '1' });
    await waitFor('the baseline message to get through', () => h.slack.messages.length >= 1, 30_000);
    h.ampersand.setStickyFault({ kind: 'status', status: 500, problem: { title: API_KEY, status: 500, detail: API_KEY } });
    await waitFor('a failing poll after that', () => logs.text().includes(`HTTP 500 server_error`), 15_000);

    const everything = [logs.text(), await h.metrics(), (await h.get('/readyz')).body, ...h.slack.messages.map((m) => m.raw)].join('\n');
    expect(logs.text()).toContain('HTTP 401 unauthorized');
    expect(logs.text()).toContain('Slack');
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(secretPath);
    expect(everything).not.toContain('fakeWebhookSecret123');
    await expectNoSecret(h, logs.text());
  }, 60_000);

  it('never go to the origin a redirecting API points at, and its [] body resolves nothing', async () => {
    // A front for the fake Ampersand that proxies until told to redirect, with a body of
    // `[]`, to another loopback origin that answers `[]` to anyone and records what it got.
    const received: { apiKey: string | undefined }[] = [];
    const elsewhere = await startLocalServer((req, res) => {
      received.push({ apiKey: req.headers['x-api-key'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    let redirecting = false;
    const front = await startLocalServer((req, res) => {
      if (redirecting) {
        res.writeHead(302, { location: `http://localhost:${elsewhere.port}${req.url ?? '/'}`, 'content-type': 'application/json' }).end('[]');
        return;
      }
      const upstream = new URL(h.ampersand.url);
      fetch(`${upstream.origin}${req.url ?? '/'}`, { headers: { 'x-api-key': String(req.headers['x-api-key'] ?? '') } }).then(
        async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer())),
        () => res.destroy(),
      );
    });
    try {
      const { logs } = await h.start({ AMPERSAND_API_URL: `http://127.0.0.1:${front.port}/v1` });
      await waitFor('the baseline summary', () => h.slack.messages.length === 1);
      redirecting = true;
      await waitFor(
        'polls that fail with reason redirect',
        async () => (sample(await h.metrics(), 'ampersand_poll_errors_total', { integration_id: 'int-1', reason: 'redirect' }) ?? 0) >= 3,
      );
      // The failing polls open the one upstream alert; its text must not carry the key or resolve anything.
      await waitFor('the upstream alert', () => h.texts().some((t) => t.startsWith('[FIRING]') && t.includes('cannot read')), 15_000);

      expect(received).toEqual([]);
      expect(h.texts().some((t) => t.includes('RESOLVED'))).toBe(false);
      expect(sample(await h.metrics(), 'ampersand_installations', { integration_id: 'int-1', health_status: 'unhealthy' })).toBe(1);
      expect(logs.text()).toContain('redirect');
      await expectNoSecret(h, logs.text());
    } finally {
      await Promise.all([front.close(), elsewhere.close()]);
    }
  }, 60_000);

  describe('when the API echoes the key where a cut or an encoding could hide it', () => {
    // Realistic keys: one of letters and digits, one base64-like, whose URL-encoded form differs.
    it.each([
      ['an alphanumeric key', `sk_live_${'4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh'}`],
      ['a key with +, / and =', 'sk+live/4eC39HqLyjWDarjtT1zdp7dc=='],
    ])(
      'shows neither %s nor its first 8 characters anywhere',
      async (_name, key) => {
        const padded = (text: string): string => `${'y'.repeat(470)} key ${text} is not valid`;
        const encoded = encodeURIComponent(key);
        const lowerHex = encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
        const replies: [number, string, string][] = [
          [401, 'application/problem+json', JSON.stringify({ title: 'Unauthorized', status: 401, detail: padded(key), requestId: `${'r'.repeat(490)}${key}` })],
          [401, 'application/problem+json', JSON.stringify({ title: 'Unauthorized', status: 401, detail: `key ${encoded} is not valid` })],
          [
            401,
            'application/problem+json',
            JSON.stringify({ title: 'Unauthorized', status: 401, detail: `key=${lowerHex}&form=${new URLSearchParams({ k: key }).toString()}` }),
          ],
          [200, 'text/html', `<p>${key}</p>`],
          [503, 'application/problem+json', JSON.stringify({ title: padded(key), status: 503, detail: padded(encoded), retryable: false })],
        ];
        let served = 0;
        const api = await startLocalServer((_req, res) => {
          const [status, contentType, body] = replies[served % replies.length]!;
          served += 1;
          res.writeHead(status, { 'content-type': contentType }).end(body);
        });
        try {
          const { logs } = await h.start({ AMPERSAND_API_KEY: key, AMPERSAND_API_URL: `http://127.0.0.1:${api.port}/v1`, UPSTREAM_DEGRADED_AFTER_CYCLES: '1' });
          await waitFor('every hostile reply served', () => served >= replies.length, 20_000);
          await waitFor('the upstream alert', () => h.texts().some((t) => t.includes('cannot read')), 15_000);

          expect(logs.text()).toContain('HTTP 401 unauthorized');
          expect(logs.text()).toContain('response body is not JSON');
          await expectNoSecret(h, logs.text(), [key, key.slice(0, 8), encoded.slice(0, 8), lowerHex.slice(0, 8)]);
        } finally {
          await api.close();
        }
      },
      60_000,
    );
  });
});

describe('secrets in a configuration the service refuses', () => {
  const password = 'hunter2-pw-5e1f';
  it.each<[string, Record<string, string>, string, string]>([
    [
      'a user and password in AMPERSAND_API_URL',
      { AMPERSAND_API_URL: `http://monitor:${password}@127.0.0.1:9/v1` },
      'AMPERSAND_API_URL must not carry a user name or password',
      password,
    ],
    [
      'a user and password in SLACK_WEBHOOK_URL',
      { SLACK_WEBHOOK_URL: `https://monitor:${password}@hooks.slack.com/services/T0/B0/fakeWebhookSecret123` },
      'SLACK_WEBHOOK_URL must not carry a user name or password',
      password,
    ],
    ['an API key of two lines', { AMPERSAND_API_KEY: `${API_KEY}\nsecond-line-${password}` }, 'AMPERSAND_API_KEY must be printable ASCII', API_KEY],
  ])(
    'exits 2 at `npm start` on %s, naming the variable and showing no secret',
    async (_name, env, expected, secret) => {
      const child = spawn('npm', ['start', '--silent'], {
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...h.env({ METRICS_PORT: String(await freePort()) }), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      expect(code).toBe(2);
      expect(out).toContain(expected);
      for (const leak of [secret, password, 'second-line', 'fakeWebhookSecret123']) expect(out).not.toContain(leak);
      // It never got as far as Redis.
      expect(await dumpPrefix(h.redis, h.prefix)).toEqual([]);
    },
    20_000,
  );
});

/** Neither secret (nor any of `more`) in the logs, /metrics, /readyz, /healthz, the status page, Redis under the prefix, or a Slack payload. */
async function expectNoSecret(harness: Harness, logs: string, more: readonly string[] = []): Promise<void> {
  const redisDump = await dumpPrefix(harness.redis, harness.prefix);
  expect(redisDump.length).toBeGreaterThan(0);
  const everything = [
    logs,
    await harness.metrics(),
    (await harness.get('/readyz')).body,
    (await harness.get('/healthz')).body,
    (await harness.get('/')).body,
    ...redisDump,
    ...harness.slack.messages.map((m) => m.raw),
  ].join('\n');
  for (const secret of [API_KEY, ...more]) expect(everything).not.toContain(secret);
  expect(everything).not.toContain(new URL(harness.slack.webhookUrl).pathname);
  expect(everything).not.toContain('fakeWebhookSecret123');
}
