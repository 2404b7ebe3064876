import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAmpersandClient, type AmpersandClientOptions } from '../../src/adapters/ampersand-client.js';
import { startFakeAmpersand, type FakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
import { parseOperationLogs, parseOperationsPage } from '../../src/core/operation.js';
import { buildProblem, buildReadOperation } from '../../src/simulator/fixtures.js';
import { startLocalServer } from '../../src/simulator/local-server.js';
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';

const API_KEY = 'amp-secret-key-7f3a';

let fake: FakeAmpersand;

beforeEach(async () => {
  fake = await startFakeAmpersand({ apiKey: API_KEY, projectId: 'proj-1' });
  fake.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { groupRef: 'org-x' })]);
});

afterEach(async () => {
  await fake.close();
});

function client(overrides: Partial<AmpersandClientOptions> = {}) {
  return createAmpersandClient({
    apiUrl: fake.url,
    apiKey: API_KEY,
    projectId: 'proj-1',
    groupRef: undefined,
    timeoutMs: 2000,
    maxBodyBytes: 1024 * 1024,
    logger: captureLogs().logger,
    retryLimit: 3,
    maxRetryDelayMs: 2000,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<AmpersandApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AmpersandApiError)) throw new Error(`expected an AmpersandApiError, got ${String(error)}`);
  return error;
}

describe('createAmpersandClient', () => {
  describe('listInstallations', () => {
    it('sends X-Api-Key to the documented path and returns the body', async () => {
      const body = await client().listInstallations('int-1');
      expect(Array.isArray(body) && body.map((i: { id: string }) => i.id)).toEqual(['a', 'b']);
      expect(fake.requests).toEqual([
        expect.objectContaining({ method: 'GET', path: '/v1/projects/proj-1/integrations/int-1/installations', apiKey: API_KEY, query: '' }),
      ]);
    });

    it('sends groupRef as a query parameter', async () => {
      const body = await client({ groupRef: 'org-x' }).listInstallations('int-1');
      expect(Array.isArray(body) && body.length).toBe(1);
      expect(fake.requests[0]?.query).toBe('?groupRef=org-x');
    });
  });

  describe('listInstallationsForProject', () => {
    it("reads every installation of the client's project from the documented path, with its groupRef", async () => {
      fake.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2', groupRef: 'org-x' })]);
      try {
        const all = await client().listInstallationsForProject();
        expect(Array.isArray(all) && all.map((i: { id: string }) => i.id)).toEqual(['a', 'b', 'x']);
        const grouped = await client({ groupRef: 'org-x' }).listInstallationsForProject();
        expect(Array.isArray(grouped) && grouped.map((i: { id: string }) => i.id)).toEqual(['b', 'x']);
        expect(fake.requests.map((r) => `${r.path}${r.query}`)).toEqual([
          '/v1/projects/proj-1/installations',
          '/v1/projects/proj-1/installations?groupRef=org-x',
        ]);
      } finally {
        fake.removeIntegration('int-2');
      }
    });

    it("reads another project's installations with that project's client", async () => {
      fake.setIntegration('int-9', 'zendesk', [installationSpec('z', { integrationId: 'int-9', projectId: 'proj-2' })], 'Zendesk', 'proj-2');
      try {
        const body = await client({ projectId: 'proj-2' }).listInstallationsForProject();
        expect(Array.isArray(body) && body.map((i: { id: string }) => i.id)).toEqual(['z']);
      } finally {
        fake.removeIntegration('int-9');
      }
    });
  });

  describe('when the API fails for a while', () => {
    it.each([500, 502, 503, 504, 429])('retries %i with backoff and then succeeds', async (status) => {
      fake.inject('int-1', { kind: 'status', status }, { kind: 'status', status });
      const body = await client().listInstallations('int-1');
      expect(Array.isArray(body)).toBe(true);
      expect(fake.requests).toHaveLength(3);
    });

    it('waits for Retry-After before the next attempt', async () => {
      fake.inject('int-1', { kind: 'status', status: 429, headers: { 'retry-after': '1' } });
      await client().listInstallations('int-1');
      const [first, second] = fake.requests;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    });

    it('waits for the retryAfter of a problem body when there is no Retry-After header', async () => {
      const retryAfter = new Date(Date.now() + 1200).toISOString();
      fake.inject('int-1', { kind: 'status', status: 503, problem: buildProblem(503, 'Busy', 'try later', { retryAfter, retryable: true }) });
      await client().listInstallations('int-1');
      const [first, second] = fake.requests;
      expect(fake.requests).toHaveLength(2);
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
    });

    it('still reports the HTTP error when the last attempt carries a problem retryAfter', async () => {
      const problem = buildProblem(503, 'Busy', 'try later', { retryAfter: new Date(Date.now() + 100).toISOString() });
      fake.inject('int-1', ...Array.from({ length: 2 }, () => ({ kind: 'status' as const, status: 503, problem })));
      const error = await failure(client({ retryLimit: 1 }).listInstallations('int-1'));
      expect(error.reason).toBe('server_error');
      expect(error.problem?.retryAfter).toBe(problem['retryAfter']);
    });

    it('gives up after the retry limit with reason server_error', async () => {
      fake.inject('int-1', ...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })));
      const error = await failure(client().listInstallations('int-1'));
      expect(error.reason).toBe('server_error');
      expect(fake.requests).toHaveLength(4);
    });

    it('believes a problem body that says retryable: false', async () => {
      fake.inject('int-1', {
        kind: 'status',
        status: 503,
        problem: buildProblem(503, 'Maintenance', 'down for maintenance', { retryable: false, requestId: 'req-42' }),
      });
      const error = await failure(client().listInstallations('int-1'));
      expect(fake.requests).toHaveLength(1);
      expect(error.problem).toEqual({ title: 'Maintenance', detail: 'down for maintenance', requestId: 'req-42', retryable: false, retryAfter: undefined });
      expect(error.message).toContain('requestId req-42');
    });
  });

  describe('when the configuration is wrong', () => {
    it.each([
      [401, 'unauthorized', 'AMPERSAND_API_KEY'],
      [403, 'forbidden', 'AMPERSAND_API_KEY'],
      [404, 'not_found', 'AMPERSAND_PROJECT_ID'],
    ])('does not retry %i and names the setting to check', async (status, reason, setting) => {
      fake.inject('int-1', { kind: 'status', status });
      const error = await failure(client().listInstallations('int-1'));
      expect(fake.requests).toHaveLength(1);
      expect(error.reason).toBe(reason);
      expect(error.isConfigurationError).toBe(true);
      expect(error.message).toContain(setting);
    });

    it('names AMPERSAND_API_URL on a 404 when the URL lacks /v1', async () => {
      const error = await failure(client({ apiUrl: fake.url.replace(/\/v1$/, '') }).listInstallations('int-1'));
      expect(error.reason).toBe('not_found');
      expect(error.message).toContain(
        `check AMPERSAND_API_URL (${fake.url.replace(/\/v1$/, '')} — it usually ends in /v1), AMPERSAND_PROJECT_ID and AMPERSAND_INTEGRATION_IDS`,
      );
    });

    describe('when the API answers with a redirect', () => {
      it.each([301, 302, 303, 307, 308])('does not follow a %i, so another origin never sees the key nor serves the list', async (status) => {
        // The target answers [] to anyone, as a hijacked or mistyped host would.
        const seen: (string | undefined)[] = [];
        const target = await startLocalServer((req, res) => {
          seen.push(req.headers['x-api-key'] as string | undefined);
          res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
        });
        const redirector = await startLocalServer((_req, res) => {
          res
            .writeHead(status, {
              location: `http://localhost:${target.port}/v1/projects/proj-1/integrations/int-1/installations`,
              'content-type': 'application/json',
            })
            .end('[]');
        });
        try {
          const error = await failure(client({ apiUrl: `http://127.0.0.1:${redirector.port}/v1` }).listInstallations('int-1'));
          expect(error.reason).toBe('redirect');
          expect(error.isConfigurationError).toBe(true);
          expect(error.message).toContain(`redirect to http://localhost:${target.port}`);
          expect(error.message).toContain('AMPERSAND_API_URL');
          expect(seen).toEqual([]);
        } finally {
          await Promise.all([target.close(), redirector.close()]);
        }
      });
    });

    it('reports a wrong API key as unauthorized without repeating the key', async () => {
      const error = await failure(client({ apiKey: 'wrong-key-123' }).listInstallations('int-1'));
      expect(error.reason).toBe('unauthorized');
      expect(error.message).not.toContain('wrong-key-123');
      expect(JSON.stringify(error)).not.toContain('wrong-key-123');
    });
  });

  describe('when the response cannot be used', () => {
    it('times out a hanging request with reason timeout', async () => {
      fake.inject('int-1', { kind: 'hang' });
      const started = Date.now();
      const error = await failure(client({ timeoutMs: 300 }).listInstallations('int-1'));
      expect(error.reason).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it.each<[string, Buffer | string, string]>([
      ['truncated JSON', '[{"id":', 'not JSON'],
      ['HTML', '<html>oops</html>', 'not JSON'],
      ['invalid UTF-8', Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]), 'not valid UTF-8'],
    ])('rejects %s with reason invalid_body', async (_name, body, message) => {
      fake.inject('int-1', { kind: 'raw', contentType: 'application/json', body });
      const error = await failure(client().listInstallations('int-1'));
      expect(error.reason).toBe('invalid_body');
      expect(error.message).toContain(message);
    });

    it('stops reading a chunked body once it passes the cap', async () => {
      fake.inject('int-1', { kind: 'raw', contentType: 'application/json', body: `[${'"x",'.repeat(100_000)}"x"]`, chunked: true });
      const error = await failure(client({ maxBodyBytes: 100_000 }).listInstallations('int-1'));
      expect(error.reason).toBe('body_too_large');
      expect(error.message).toContain('response body is over the 100000-byte cap');
    });

    it('times out a body that starts and never ends', async () => {
      fake.inject('int-1', { kind: 'trickle', contentType: 'application/json', start: '[{"id":"a",' });
      const started = Date.now();
      const error = await failure(client({ timeoutMs: 400 }).listInstallations('int-1'));
      expect(error.reason).toBe('timeout');
      expect(error.message).toContain('response body not complete within 400 ms');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('rejects a body over the size cap with reason body_too_large', async () => {
      fake.inject('int-1', { kind: 'raw', contentType: 'application/json', body: `[${'"x",'.repeat(100_000)}"x"]` });
      const error = await failure(client({ maxBodyBytes: 100_000 }).listInstallations('int-1'));
      expect(error.reason).toBe('body_too_large');
    });
  });

  describe('when a body is read as it arrives', () => {
    /** A client of a local server whose handler answers every listing. */
    async function withServer<T>(
      handler: Parameters<typeof startLocalServer>[0],
      run: (c: ReturnType<typeof client>, server: Awaited<ReturnType<typeof startLocalServer>>) => Promise<T>,
      overrides: Partial<AmpersandClientOptions> = {},
    ): Promise<T> {
      const server = await startLocalServer(handler);
      try {
        return await run(client({ apiUrl: `http://127.0.0.1:${server.port}/v1`, retryLimit: 0, ...overrides }), server);
      } finally {
        await server.close();
      }
    }

    /** Writes `parts` as separate writes of one chunked 200 response. */
    const inParts =
      (parts: readonly (string | Buffer)[], headers: Record<string, string> = {}): Parameters<typeof startLocalServer>[0] =>
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        for (const part of parts) res.write(part);
        res.end();
      };

    it('parses a list whose characters and escapes are cut between writes', async () => {
      const text = JSON.stringify([{ id: 'é-日本-😀', name: 'a "quoted", [bracketed] {name}\\' }, { id: 'b' }]);
      const bytes = Buffer.from(text);
      const parts = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
      for (const splitAbove of [0, 10, undefined]) {
        const body = await withServer(inParts(parts), (c) => c.listInstallations('int-1'), splitAbove === undefined ? {} : { splitAbove });
        expect(body).toEqual(JSON.parse(text));
      }
    });

    it('rejects invalid UTF-8 cut between writes as invalid_body', async () => {
      const error = await withServer(inParts(['[{"id":"', Buffer.from([0xe6]), Buffer.from([0x28]), '"}]']), (c) => failure(c.listInstallations('int-1')));
      expect(error.reason).toBe('invalid_body');
      expect(error.message).toContain('not valid UTF-8');
    });

    it('rejects an element that is not JSON without waiting for the rest of a body that never ends', async () => {
      const error = await withServer(
        (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('[{"id":"a"},{"id": nope},');
          // The rest never comes: only the element already read can end the poll before the timeout.
        },
        (c) => failure(c.listInstallations('int-1')),
        // Split from the first byte (the service does so for bodies over 64 MiB).
        { timeoutMs: 30_000, splitAbove: 0 },
      );
      expect(error.reason).toBe('invalid_body');
      expect(error.message).toContain('response body is not JSON (content-type application/json; SyntaxError');
    });

    describe.each([
      ['split as it arrives', 0],
      ['read whole', undefined],
    ])('when a hostile body is %s', (_name, splitAbove) => {
      const options = splitAbove === undefined ? {} : { splitAbove };

      it.each<[string, string, string]>([
        ['truncated JSON', '[{"id":"a"},{"id":"b","name":"x', 'not JSON'],
        ['a truncated escape', '[{"id":"a\\', 'not JSON'],
        ['a trailing comma', '[{"id":"a"},]', 'not JSON'],
        ['text after the array', '[{"id":"a"}] <html>', 'not JSON'],
      ])('rejects %s with reason invalid_body', async (_case, body, message) => {
        fake.inject('int-1', { kind: 'raw', contentType: 'application/json', body, chunked: true });
        const error = await failure(client(options).listInstallations('int-1'));
        expect(error.reason).toBe('invalid_body');
        expect(error.message).toContain(message);
      });

      it('reads an element with a 2 MB string whole', async () => {
        const long = 'x'.repeat(2_000_000);
        fake.inject('int-1', { kind: 'raw', contentType: 'application/json', body: JSON.stringify([{ id: 'a', note: long }, { id: 'b' }]), chunked: true });
        const body = await client({ ...options, maxBodyBytes: 4_000_000 }).listInstallations('int-1');
        expect(body).toEqual([{ id: 'a', note: long }, { id: 'b' }]);
      });

      it('neither crashes nor overflows the stack on an element nested 100,000 deep', async () => {
        fake.inject('int-1', { kind: 'raw', contentType: 'application/json', body: `[${'['.repeat(100_000)}${']'.repeat(100_000)}]`, chunked: true });
        const outcome = await client(options)
          .listInstallations('int-1')
          .then(
            (body) => (Array.isArray(body) ? 'parsed' : 'other'),
            (error: unknown) => (error instanceof AmpersandApiError ? error.reason : 'thrown'),
          );
        // V8 parses it or gives up with a RangeError, which is the same invalid body.
        expect(['parsed', 'invalid_body']).toContain(outcome);
      });
    });

    it('reads a gzip-compressed list', async () => {
      const list = [installationSpec('a'), installationSpec('b')];
      const body = await withServer(
        (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify(list)));
        },
        (c) => c.listInstallations('int-1'),
      );
      expect(body).toEqual(list);
    });

    it('stops a gzip body whose small Content-Length hides a body over the cap', async () => {
      const big = gzipSync(`[${'"x",'.repeat(500_000)}"x"]`);
      expect(big.length).toBeLessThan(100_000);
      const error = await withServer(
        (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(big.length) }).end(big);
        },
        (c) => failure(c.listInstallations('int-1')),
        { maxBodyBytes: 100_000 },
      );
      expect(error.reason).toBe('body_too_large');
    });

    it.each([
      ['with a Content-Length', false],
      ['without a Content-Length', true],
    ])('fails a body over the budget %s as body_too_large, naming the variable to raise', async (_name, chunked) => {
      fake.inject('int-1', { kind: 'raw', contentType: 'application/json', body: `[${'"x",'.repeat(100_000)}"x"]`, chunked });
      const error = await failure(client({ maxBodyBytes: 100_000 }).listInstallations('int-1'));
      expect(error.reason).toBe('body_too_large');
      expect(error.message).toContain('raise AMPERSAND_MAX_BODY_MB');
    });

    it('reads two bodies that together pass the budget one after the other', async () => {
      const body = (id: string): string => JSON.stringify([{ id: id.padEnd(590, '.') }]);
      let releaseFirst = (): void => undefined;
      let secondSent = (): void => undefined;
      const secondFinished = new Promise<void>((resolve) => (secondSent = resolve));
      const result = await withServer(
        (req, res) => {
          const text = req.url?.includes('/int-1/') ? body('first') : body('second');
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
          if (req.url?.includes('/int-1/')) {
            // Half the first body now, the rest when the test says so: the client holds its reservation meanwhile.
            res.write(text.slice(0, 100));
            releaseFirst = () => res.end(text.slice(100));
          } else {
            res.on('finish', () => secondSent());
            res.end(text);
          }
        },
        async (c) => {
          const first = c.listInstallations('int-1');
          await new Promise((resolve) => setTimeout(resolve, 50));
          const second = c.listInstallations('int-2');
          await secondFinished;
          let secondDone = false;
          void second.then(() => (secondDone = true));
          // Its whole body has been sent, but 600 + 600 bytes do not fit in 1,000: it waits for the first.
          for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
          const waited = !secondDone;
          releaseFirst();
          return { waited, bodies: await Promise.all([first, second]) };
        },
        { maxBodyBytes: 1_000 },
      );
      expect(result.waited).toBe(true);
      expect(result.bodies.map((b) => (b as { id: string }[])[0]?.id.replace(/\.+$/, ''))).toEqual(['first', 'second']);
    });
  });

  describe('when a server echoes the API key', () => {
    // A realistic key, and one whose URL-encoded form differs from it.
    const liveKey = 'sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh';
    const slashKey = 'sk+live/ABCDEFGH=IJ';

    /** The error as it would be logged or stored, with neither the key nor its first 8 characters. */
    function expectNoKey(error: AmpersandApiError, key: string): void {
      const shown = [error.message, JSON.stringify(error), JSON.stringify(error.problem ?? {})].join('\n');
      expect(shown).not.toContain(key);
      expect(shown).not.toContain(key.slice(0, 8));
      expect(shown).not.toContain(encodeURIComponent(key).slice(0, 8));
    }

    async function failingWith(key: string, handler: Parameters<typeof startLocalServer>[0]): Promise<AmpersandApiError> {
      const server = await startLocalServer(handler);
      try {
        return await failure(client({ apiUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: key, retryLimit: 0 }).listInstallations('int-1'));
      } finally {
        await server.close();
      }
    }

    it('scrubs a problem detail before cutting it, so a key past the 500th character leaves no prefix behind', async () => {
      const error = await failingWith(liveKey, (_req, res) => {
        res.writeHead(401, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            title: `Unauthorized ${'t'.repeat(495)}${liveKey}`,
            detail: `${'y'.repeat(470)} key ${liveKey} is not valid`,
            requestId: `${'r'.repeat(496)}${liveKey}`,
          }),
        );
      });
      expect(error.reason).toBe('unauthorized');
      expect(error.problem?.detail).toBe(`${'y'.repeat(470)} key [redacted] is not valid`);
      expectNoKey(error, liveKey);
    });

    it.each([
      ['encodeURIComponent', encodeURIComponent(slashKey)],
      ['lower-case percent hex', encodeURIComponent(slashKey).toLowerCase().replace('abcdefgh', 'ABCDEFGH').replace('ij', 'IJ')],
      ['form encoding', new URLSearchParams({ k: slashKey }).toString().slice(2)],
    ])('scrubs the key URL-encoded (%s)', async (_name, echoed) => {
      const error = await failingWith(slashKey, (_req, res) => {
        res.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'Unauthorized', detail: `key ${echoed} is not valid` }));
      });
      expect(error.message).toContain('key [redacted] is not valid');
      expectNoKey(error, slashKey);
    });

    it('does not quote an HTML body that carries the key when it is not JSON', async () => {
      const error = await failingWith(liveKey, (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<p>${liveKey}</p>`);
      });
      expect(error.reason).toBe('invalid_body');
      expect(error.message).toContain('response body is not JSON (content-type text/html; SyntaxError');
      expectNoKey(error, liveKey);
    });

    it('scrubs a network error message before cutting it', async () => {
      const failingFetch: typeof fetch = () => Promise.reject(new TypeError('fetch failed', { cause: new Error(`${'x'.repeat(400)} ${liveKey}`) }));
      const error = await failure(client({ apiKey: liveKey, retryLimit: 0, fetch: failingFetch }).listInstallations('int-1'));
      expect(error.reason).toBe('network');
      expectNoKey(error, liveKey);
    });
  });

  it('reports a refused connection as network', async () => {
    const url = fake.url;
    await fake.close();
    const error = await failure(client({ apiUrl: url, retryLimit: 1, maxRetryDelayMs: 50 }).listInstallations('int-1'));
    expect(error.reason).toBe('network');
    fake = await startFakeAmpersand({ apiKey: API_KEY, projectId: 'proj-1' });
  });

  it('lists the integrations of the project', async () => {
    fake.setIntegration('int-2', 'hubspot', []);
    const body = await client().listIntegrations();
    expect(Array.isArray(body) && body.map((i: { id: string }) => i.id)).toEqual(['int-1', 'int-2']);
  });

  describe('listOperations and getOperationLogs', () => {
    const OPERATIONS_PATH = '/v1/projects/proj-1/integrations/int-1/installations/a/operations';

    /** Installation a with `count` reads, newest first, the newest failed. */
    function withOperations(count: number): void {
      const inst = fake.installations('int-1').find((i) => i.id === 'a')!;
      const start = Date.parse('2026-03-01T12:00:00Z');
      fake.setOperations(
        'a',
        Array.from({ length: count }, (_, i) => buildReadOperation(inst, `op-${i}`, i === 0 ? 'failure' : 'success', new Date(start - i * 60_000))),
      );
    }

    it('sends X-Api-Key, pageSize and pageToken to the documented path, and pages until done', async () => {
      withOperations(5);
      const c = client();
      const ids: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = parseOperationsPage(await c.listOperations('int-1', 'a', { pageSize: 2, ...(pageToken === undefined ? {} : { pageToken }) }));
        if (!page.ok) throw new Error(page.error);
        ids.push(...page.operations.map((o) => o.id));
        pageToken = page.nextPageToken;
      } while (pageToken !== undefined);
      expect(ids).toEqual(['op-0', 'op-1', 'op-2', 'op-3', 'op-4']);
      expect(fake.requests).toHaveLength(3);
      expect(fake.requests.every((r) => r.method === 'GET' && r.path === OPERATIONS_PATH && r.apiKey === API_KEY)).toBe(true);
      expect(fake.requests[0]?.query).toBe('?pageSize=2');
      expect(new URLSearchParams(fake.requests[1]?.query).get('pageSize')).toBe('2');
      expect(new URLSearchParams(fake.requests[1]?.query).get('pageToken')).toEqual(expect.any(String));
    });

    it('asks for no page size unless told, leaving the API its default', async () => {
      await client().listOperations('int-1', 'a', {});
      expect(fake.requests[0]?.query).toBe('');
    });

    it("reads an operation's logs from the documented path", async () => {
      withOperations(1);
      const body = await client().getOperationLogs('op-0');
      expect(fake.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/v1/projects/proj-1/operations/op-0/logs', apiKey: API_KEY })]);
      expect(parseOperationLogs(body, 'op-0')).toMatchObject({
        ok: true,
        errorLines: [expect.stringContaining('INVALID_SESSION_ID'), 'Read of account failed: INVALID_SESSION_ID: Session expired or invalid'],
      });
    });

    it.each([
      ['an unknown operation', (c: ReturnType<typeof client>) => c.getOperationLogs('nope'), 'the operation is not known to this project'],
      ['an unknown installation', (c: ReturnType<typeof client>) => c.listOperations('int-1', 'nope', {}), 'the installation may have been removed'],
    ])('reports %s as not_found, without retrying and without blaming the settings', async (_name, call, hint) => {
      const error = await failure(call(client()));
      expect(error.reason).toBe('not_found');
      expect(error.status).toBe(404);
      expect(error.message).toContain(hint);
      expect(error.message).not.toContain('AMPERSAND_INTEGRATION_IDS');
      expect(fake.requests).toHaveLength(1);
    });

    it('reports a problem+json answer with its title, detail and requestId', async () => {
      fake.injectLogs('op-0', {
        kind: 'status',
        status: 503,
        problem: buildProblem(503, 'Maintenance', 'logs are being moved', { retryable: false, requestId: 'req-77' }),
      });
      const error = await failure(client().getOperationLogs('op-0'));
      expect(error.reason).toBe('server_error');
      expect(error.problem).toMatchObject({ title: 'Maintenance', detail: 'logs are being moved', requestId: 'req-77', retryable: false });
      expect(error.message).toContain('GET /projects/proj-1/operations/op-0/logs: HTTP 503 server_error — Maintenance — logs are being moved');
      expect(fake.requests).toHaveLength(1);
    });

    it("reports the API's 400 for a page token it never gave out as client_error", async () => {
      const error = await failure(client().listOperations('int-1', 'a', { pageToken: 'forged' }));
      expect(error.reason).toBe('client_error');
      expect(error.message).toContain('invalid query parameter pageToken');
    });

    it('retries the operations of an installation after a 503, like every call', async () => {
      fake.injectOperations('a', { kind: 'status', status: 503 });
      const body = await client().listOperations('int-1', 'a', {});
      expect(parseOperationsPage(body).ok).toBe(true);
      expect(fake.requests).toHaveLength(2);
    });

    it('stops reading logs over the size cap', async () => {
      fake.injectLogs('op-0', {
        kind: 'raw',
        contentType: 'application/json',
        body: `[${'{"severity":"ERROR","message":{"msg":"x"}},'.repeat(5000)}1]`,
        chunked: true,
      });
      const error = await failure(client({ maxBodyBytes: 100_000 }).getOperationLogs('op-0'));
      expect(error.reason).toBe('body_too_large');
    });

    it('fails as a timeout when the caller aborts', async () => {
      fake.injectLogs('op-0', { kind: 'hang' });
      const controller = new AbortController();
      const pending = failure(client().getOperationLogs('op-0', controller.signal));
      controller.abort();
      const error = await pending;
      expect(error.reason).toBe('timeout');
      expect(error.message).toContain('aborted');
    });

    it.each([
      ['an empty operation id', (c: ReturnType<typeof client>) => c.getOperationLogs('')],
      ['a dot-dot operation id, which URL parsing would resolve', (c: ReturnType<typeof client>) => c.getOperationLogs('..')],
      ['an installation id that is a dot segment', (c: ReturnType<typeof client>) => c.listOperations('int-1', '.', {})],
      ['an operation id with a lone surrogate', (c: ReturnType<typeof client>) => c.getOperationLogs('op\ud800')],
    ])('refuses %s without a request', async (_name, call) => {
      const error = await failure(call(client()));
      expect(error.reason).toBe('client_error');
      expect(fake.requests).toEqual([]);
    });

    it.each([0, 1001, 2.5])('refuses a page size of %s without a request', async (pageSize) => {
      await expect(client().listOperations('int-1', 'a', { pageSize })).rejects.toThrow(RangeError);
      expect(fake.requests).toEqual([]);
    });

    describe('when the API key comes back', () => {
      const liveKey = 'sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh';

      async function serving<T>(handler: Parameters<typeof startLocalServer>[0], call: (c: ReturnType<typeof client>) => Promise<T>): Promise<T> {
        const server = await startLocalServer(handler);
        try {
          return await call(client({ apiUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: liveKey, retryLimit: 0 }));
        } finally {
          await server.close();
        }
      }

      it('cuts it out of every string of a log body, keys included', async () => {
        const body = await serving(
          (_req, res) => {
            res.writeHead(200, { 'content-type': 'application/json' }).end(
              JSON.stringify([
                {
                  timestamp: '2026-03-01T12:00:00Z',
                  severity: 'ERROR',
                  message: { msg: `request with X-Api-Key: ${liveKey}`, details: { [liveKey]: [liveKey] } },
                },
              ]),
            );
          },
          (c) => c.getOperationLogs('op-0'),
        );
        expect(JSON.stringify(body)).not.toContain(liveKey.slice(0, 8));
        expect(parseOperationLogs(body, 'op-0')).toMatchObject({ errorLines: ['request with X-Api-Key: [redacted]'] });
      });

      it('cuts it out of an operation result', async () => {
        const body = await serving(
          (_req, res) => {
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ results: [{ id: 'op-0', status: 'failure', result: `bad key ${liveKey}` }], pagination: { done: true } }));
          },
          (c) => c.listOperations('int-1', 'a', {}),
        );
        expect(JSON.stringify(body)).toContain('bad key [redacted]');
        expect(JSON.stringify(body)).not.toContain(liveKey.slice(0, 8));
      });

      it('cuts it out of a problem detail', async () => {
        const error = await serving(
          (_req, res) => {
            res
              .writeHead(404, { 'content-type': 'application/problem+json' })
              .end(JSON.stringify({ title: 'Not Found', detail: `no logs for key ${liveKey}` }));
          },
          (c) => failure(c.getOperationLogs('op-0')),
        );
        expect(error.message).toContain('no logs for key [redacted]');
        expect([error.message, JSON.stringify(error)].join('\n')).not.toContain(liveKey.slice(0, 8));
      });
    });
  });
});
