/**
 * The HTTP server against what a hostile or broken client sends, over raw TCP
 * on a real port: every request gets an answer, none ends the process.
 */
import type { Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CONNECTIONS, startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/adapters/http-server.js';
import { captureLogs } from '../helpers/logger.js';
import { halfSentRequest, rawExchange } from '../helpers/raw-http.js';
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
    ...overrides,
  });
  return server;
}

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
    const pipelined = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n\u0000\u0001\u0002 garbage \r\n\r\n`);
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

  it('closes, after a short grace, even while a half-sent request holds a connection', async () => {
    const { port } = await start({ closeGraceMs: 100 });
    sockets.push(await halfSentRequest(port));
    const closed = await Promise.race([server!.close().then(() => 'closed'), sleep(5000).then(() => 'still open')]);
    server = undefined;
    expect(closed).toBe('closed');
  });
});
