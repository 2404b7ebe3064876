/**
 * The HTTP server against what a hostile or broken client sends, over raw TCP
 * on a real port: every request gets an answer, none ends the process.
 */
import { connect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EVICT_IDLE_ABOVE,
  MAX_CONNECTIONS,
  MAX_UNANSWERED_PER_CONNECTION,
  startHttpServer,
  type HttpServer,
  type HttpServerOptions,
} from '../../src/adapters/http-server.js';
import { captureLogs } from '../helpers/logger.js';
import { halfSentRequest, rawExchange, statusesOf } from '../helpers/raw-http.js';
import { sleep } from '../helpers/wait.js';

let server: HttpServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function start(overrides: Partial<HttpServerOptions> = {}): Promise<HttpServer> {
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    registry: new Registry(),
    logger: captureLogs().logger,
    beforeScrape: async () => undefined,
    readiness: async () => ({ ready: true }),
    statusPage: async () => ({ status: 200, html: '<!doctype html><title>status</title>' }),
    ...overrides,
  });
  return server;
}

/**
 * Sends `bytes` and reads nothing, like a client that pipelines requests and stalls.
 * `readAll` then reads what the server sent and whether it has closed the connection
 * (a paused socket cannot see a close).
 */
async function nonReading(port: number, bytes: string): Promise<{ readAll(waitMs: number): Promise<{ answers: number; closed: boolean }> }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.pause();
  sockets.push(socket);
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  const closed = new Promise<true>((resolve) => socket.once('close', () => resolve(true)));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(bytes);
  return {
    async readAll(waitMs) {
      socket.resume();
      const ended = await within(waitMs, closed);
      return { answers: statusesOf(response).length, closed: ended === true };
    },
  };
}

/** Opens a keep-alive connection, reads the answer to one /healthz, and leaves the connection idle. */
async function idleKeepAlive(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('data', () => resolve());
    socket.once('close', () => reject(new Error('closed before answering')));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  return socket;
}

const within = <T>(ms: number, p: Promise<T>): Promise<T | 'timed out'> => Promise.race([p, sleep(ms).then(() => 'timed out' as const)]);

const get = (target: string, method = 'GET'): string => `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

describe('startHttpServer', () => {
  describe('when the target cannot be parsed', () => {
    it.each(['//', '//[', '/\\', '//:99999', 'http://[', '*', 'metrics'])('answers 400 to %s and keeps serving', async (target) => {
      const { port } = await start();
      expect((await rawExchange(port, get(target))).statuses).toEqual([400]);
      expect((await rawExchange(port, get('/healthz'))).statuses).toEqual([200]);
    });
  });

  it('serves an absolute-form target by its path', async () => {
    const { port } = await start();
    expect((await rawExchange(port, get('http://monitor:9464/healthz'))).statuses).toEqual([200]);
  });

  it('answers 404 to an unknown path and 405 with Allow to other methods', async () => {
    const { port } = await start();
    expect((await rawExchange(port, get('/nope'))).statuses).toEqual([404]);
    const post = await rawExchange(port, get('/metrics', 'POST'));
    expect(post.statuses).toEqual([405]);
    expect(post.response.toLowerCase()).toContain('allow: get, head');
    expect((await rawExchange(port, get('*', 'OPTIONS'))).statuses).toEqual([400]);
  });

  it('answers 405 to CONNECT with an authority-form target', async () => {
    const { port } = await start();
    const connect = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(connect.statuses).toEqual([405]);
    expect(connect.closed).toBe(true);
  });

  it('answers 431 to 64 KB of headers', async () => {
    const { port } = await start();
    const big = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(big.statuses).toEqual([431]);
  });

  it('answers 400 to a malformed request line and to pipelined garbage after a good request', async () => {
    const { port } = await start();
    expect((await rawExchange(port, 'GET\r\n\r\n')).statuses).toEqual([400]);
    const pipelined = await rawExchange(
      port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n\u0000\u0001\u0002 garbage \r\n\r\n`,
    );
    expect(pipelined.statuses).toEqual([200, 200, 400]);
  });

  it('answers 500 when a handler throws synchronously', async () => {
    const { port } = await start({
      readiness: () => {
        throw new Error('boom');
      },
    });
    expect((await rawExchange(port, get('/readyz'))).statuses).toEqual([500]);
    expect((await rawExchange(port, get('/healthz'))).statuses).toEqual([200]);
  });

  it('answers 408 and closes a request that does not finish within the request timeout', async () => {
    const { port } = await start({ requestTimeoutMs: 300, timeoutCheckIntervalMs: 100 });
    const slow = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 5000);
    expect(slow.statuses).toEqual([408]);
    expect(slow.closed).toBe(true);
  });

  it(`drops connections beyond ${MAX_CONNECTIONS} and serves again once they are gone`, async () => {
    const { port } = await start();
    for (let i = 0; i < MAX_CONNECTIONS; i++) sockets.push(await halfSentRequest(port));
    await sleep(100);
    const extra = await rawExchange(port, get('/healthz'));
    expect(extra).toMatchObject({ statuses: [], closed: true });
    for (const s of sockets.splice(0)) s.destroy();
    await sleep(100);
    expect((await rawExchange(port, get('/healthz'))).statuses).toEqual([200]);
  });

  describe('when many scrapes arrive at once', () => {
    it('refreshes and renders once for all of them, and checks readiness once', async () => {
      let refreshes = 0;
      let checks = 0;
      let release = (): void => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { port } = await start({
        beforeScrape: async () => {
          refreshes++;
          await gate;
        },
        readiness: async () => {
          checks++;
          await gate;
          return { ready: true };
        },
      });
      const answers = Promise.all([
        ...Array.from({ length: 40 }, () => rawExchange(port, get('/metrics'), 5000)),
        ...Array.from({ length: 40 }, () => rawExchange(port, get('/readyz'), 5000)),
      ]);
      await sleep(300);
      release();
      expect((await answers).map((a) => a.statuses)).toEqual(Array.from({ length: 80 }, () => [200]));
      expect({ refreshes, checks }).toEqual({ refreshes: 1, checks: 1 });
    });
  });

  describe('the status page at /', () => {
    const page = '<!doctype html><html><head><title>ok</title></head><body><p>élan &amp; more</p></body></html>';

    it('answers GET with the page and headers that let it load nothing, never be framed, cached or sniffed', async () => {
      const { port } = await start({ statusPage: async () => ({ status: 200, html: page }) });
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(page);
      expect(Object.fromEntries([...res.headers].filter(([name]) => name !== 'date' && name !== 'connection' && name !== 'keep-alive'))).toEqual({
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(Buffer.byteLength(page)),
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
    });

    it('answers HEAD with the same status and headers and no body', async () => {
      const { port } = await start({ statusPage: async () => ({ status: 200, html: page }) });
      const head = await rawExchange(port, get('/', 'HEAD'));
      expect(head.statuses).toEqual([200]);
      const [headers, body] = head.response.split('\r\n\r\n');
      expect(headers?.toLowerCase()).toContain(`content-length: ${Buffer.byteLength(page)}`);
      expect(headers?.toLowerCase()).toContain("content-security-policy: default-src 'none'");
      expect(body).toBe('');
    });

    it('answers 503 with the page that says the state is unavailable', async () => {
      const { port } = await start({ statusPage: async () => ({ status: 503, html: '<p>unavailable</p>' }) });
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect({ status: res.status, body: await res.text(), csp: res.headers.get('content-security-policy') }).toMatchObject({
        status: 503,
        body: '<p>unavailable</p>',
        csp: expect.stringContaining("default-src 'none'"),
      });
    });

    it('answers 500 when the page cannot be made, and keeps serving', async () => {
      const { port } = await start({ statusPage: () => Promise.reject(new Error('boom')) });
      expect((await rawExchange(port, get('/'))).statuses).toEqual([500]);
      expect((await rawExchange(port, get('/healthz'))).statuses).toEqual([200]);
    });

    it('loads the page once for every request that arrives while it is loaded', async () => {
      let loads = 0;
      let release = (): void => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { port } = await start({
        statusPage: async () => {
          loads++;
          await gate;
          return { status: 200, html: page };
        },
      });
      const answers = Promise.all(Array.from({ length: 40 }, (_, i) => rawExchange(port, get('/', i % 2 === 0 ? 'GET' : 'HEAD'), 5000)));
      await sleep(300);
      release();
      expect((await answers).map((a) => a.statuses)).toEqual(Array.from({ length: 40 }, () => [200]));
      expect(loads).toBe(1);
      // A later request loads it afresh.
      expect((await rawExchange(port, get('/'))).statuses).toEqual([200]);
      expect(loads).toBe(2);
    });

    it('is listed among the endpoints of a 404', async () => {
      const { port } = await start();
      const res = await fetch(`http://127.0.0.1:${port}/nope`);
      expect(((await res.json()) as { endpoints: string[] }).endpoints).toEqual(['/', '/metrics', '/healthz', '/readyz']);
    });
  });

  describe('when a client pipelines requests and never reads the answers', () => {
    it(`drops the connection past ${MAX_UNANSWERED_PER_CONNECTION} unanswered requests, never refreshes twice at once, and keeps serving`, async () => {
      let refreshing = 0;
      let mostAtOnce = 0;
      const { port } = await start({
        beforeScrape: async () => {
          mostAtOnce = Math.max(mostAtOnce, ++refreshing);
          await sleep(200);
          refreshing--;
        },
      });
      const attackers = await Promise.all(Array.from({ length: 32 }, () => nonReading(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(500))));
      expect((await rawExchange(port, get('/healthz'))).statuses).toEqual([200]);
      await sleep(500);
      const outcomes = await Promise.all(attackers.map((a) => a.readAll(3000)));
      expect(outcomes.filter((o) => o.closed && o.answers <= MAX_UNANSWERED_PER_CONNECTION)).toHaveLength(attackers.length);
      expect(mostAtOnce).toBe(1);
      expect((await rawExchange(port, get('/metrics'))).statuses).toEqual([200]);
    });

    it('keeps the large answers of at most maxUnreadBodies such clients in memory, cutting the oldest, and keeps serving', async () => {
      // Answers larger than the loopback buffers (about 16 MB each), as /metrics of thousands of installations:
      // kept for every client that never reads, a few dozen of them would hold gigabytes.
      class HugeRegistry extends Registry {
        override async metrics(): Promise<string> {
          return '# padding\n'.repeat(1_600_000);
        }
      }
      const page = `<!doctype html>${'<p>padding</p>'.repeat(1_200_000)}`;
      const { port } = await start({ registry: new HugeRegistry(), statusPage: async () => ({ status: 200, html: page }), maxUnreadBodies: 2 });
      const stalled = [];
      for (const target of ['/metrics', '/', '/metrics', '/', '/metrics']) {
        stalled.push(await nonReading(port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`));
        // One at a time, so that which is oldest is clear.
        await sleep(150);
      }
      const outcomes = await Promise.all(stalled.map((s) => s.readAll(1500)));
      // The three oldest were cut; the two newest get their whole answers and stay open.
      expect(outcomes.map((o) => o.closed)).toEqual([true, true, true, false, false]);
      expect(outcomes.slice(3).map((o) => o.answers)).toEqual([1, 1]);
      const fresh = await fetch(`http://127.0.0.1:${port}/`);
      expect({ status: fresh.status, length: (await fresh.text()).length }).toEqual({ status: 200, length: page.length });
    });

    it('counts the answers of concurrent scrapes, which share one body, once: none of them is cut', async () => {
      class HugeRegistry extends Registry {
        override async metrics(): Promise<string> {
          return '# padding\n'.repeat(1_600_000);
        }
      }
      // The first scrape's refresh waits until every request has arrived, so all four share its one rendering.
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const { port } = await start({ registry: new HugeRegistry(), beforeScrape: () => held, maxUnreadBodies: 2 });
      const stalled = [];
      for (let i = 0; i < 4; i++) stalled.push(await nonReading(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'));
      await sleep(100);
      release();
      await sleep(300);
      const outcomes = await Promise.all(stalled.map((s) => s.readAll(1500)));
      expect(outcomes).toEqual(Array.from({ length: 4 }, () => ({ answers: 1, closed: false })));
    });

    it('drops the connection once its unread answers have made no progress for the socket timeout', async () => {
      // Answers larger than the loopback buffers: the server's writes stall until the client reads.
      class HugeRegistry extends Registry {
        override async metrics(): Promise<string> {
          return '# padding\n'.repeat(2_000_000);
        }
      }
      const { port } = await start({ registry: new HugeRegistry(), socketTimeoutMs: 500, timeoutCheckIntervalMs: 100 });
      const stalled = await nonReading(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(2000);
      // Had it been kept, the whole answer would arrive now and the connection stay open for the next request.
      expect(await stalled.readAll(3000)).toMatchObject({ closed: true });
    });
  });

  it(`lets a new client in while ${MAX_CONNECTIONS} idle keep-alive connections are held open`, async () => {
    const { port } = await start();
    const held: Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const s = await idleKeepAlive(port).catch(() => undefined);
      if (s) held.push(s);
    }
    const fresh = await rawExchange(port, get('/healthz'));
    expect(fresh.statuses).toEqual([200]);
    // The idle ones were closed to make room, never more than the threshold kept at once.
    expect(held.filter((s) => !s.destroyed && s.readyState === 'open').length).toBeLessThanOrEqual(EVICT_IDLE_ABOVE);
  });

  it('closes, after a short grace, even while a half-sent request holds a connection', async () => {
    const { port } = await start({ closeGraceMs: 100 });
    sockets.push(await halfSentRequest(port));
    const closed = await Promise.race([server!.close().then(() => 'closed'), sleep(5000).then(() => 'still open')]);
    server = undefined;
    expect(closed).toBe('closed');
  });
});
