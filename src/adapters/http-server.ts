/**
 * The operator-facing HTTP endpoints:
 * - GET /         the status page: server-rendered HTML, read-only, with no
 *                 script and no external asset (a CSP of default-src 'none'
 *                 says so to the browser), 503 when the state is unavailable;
 * - GET /metrics  Prometheus text format from our own Registry, refreshed from
 *                 the shared state first;
 * - GET /healthz  200 while the process lives (liveness);
 * - GET /readyz   200 once Redis answers and the poll schedule is registered,
 *                 503 with the reason otherwise. Upstream (Ampersand) trouble is
 *                 reported in the body but never turns it 503, so Prometheus
 *                 keeps scraping the pod that tells about it.
 *
 * Anyone who reaches the port can send anything, and this server shares the
 * process with polling and alerting: every request gets an answer (400, 404,
 * 405, 408, 431), none can throw out of the handler, and slow or half-sent
 * requests are bounded by timeouts, a connection cap and a forced close at shutdown.
 * What a client can make the process hold is bounded too: concurrent scrapes
 * share one refresh and one rendering (and concurrent page loads one load), a connection with more than a few
 * unanswered requests is dropped, one whose answers are not read is dropped
 * after a timeout, at most a few large bodies (/ and /metrics) wait in memory
 * for clients that read slowly or not at all (a further one cuts the oldest
 * answer; answers that share one body, as concurrent scrapes do, count once),
 * and idle keep-alive connections make way for new ones.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { requestPath } from '../core/request-target.js';
import { toError } from '../core/errors/to-error.js';

export interface Readiness {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

/** The status page as loaded: 200 with the state, 503 when it cannot be read (the page says so). */
export interface StatusPageResult {
  readonly status: 200 | 503;
  readonly html: string;
}

export interface HttpServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Brings the state gauges up to date; a failure is logged and the last values are served. */
  readonly beforeScrape: () => Promise<void>;
  /** Metric families rendered outside the registry (the per-installation series), appended to its text as they are. */
  readonly exposition?: () => readonly Buffer[];
  readonly readiness: () => Promise<Readiness>;
  /** Loads the state and renders the status page; it answers within a few seconds, Redis or not. */
  readonly statusPage: () => Promise<StatusPageResult>;
  /** Time a client has to send a whole request (and its headers); 10 s unless a test shortens it. */
  readonly requestTimeoutMs?: number;
  /** How often Node checks those timeouts; its default (30 s) would let a stalled request outlive them threefold. */
  readonly timeoutCheckIntervalMs?: number;
  /** How long close() lets requests in flight finish before it drops every connection. */
  readonly closeGraceMs?: number;
  /** How long a connection may go without any traffic (its answers unread, say) while a request is open; 15 s unless a test shortens it. */
  readonly socketTimeoutMs?: number;
  /** MAX_UNREAD_BODIES unless a test lowers it. */
  readonly maxUnreadBodies?: number;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Prometheus, the kubelet's probes and an operator's curl need a handful of
 * connections; 256 leaves room for many scrapers and bounds what a flood can
 * hold (256 × 16 KiB of headers at most) without costing the poller file descriptors.
 */
export const MAX_CONNECTIONS = 256;
const CLOSE_GRACE_MS = 500;
/**
 * Unanswered requests one connection may have. Node parses every pipelined
 * request it has read before the first is answered; a client that sends more
 * than this without reading its answers is no scraper or probe, and dropping its
 * connection frees them all at once.
 */
export const MAX_UNANSWERED_PER_CONNECTION = 4;
/** Once this many connections are open, every new one closes the idle keep-alive ones, so idle clients never fill the cap. */
export const EVICT_IDLE_ABOVE = 192;
/** Prometheus scrapes every 15–60 s and reconnects when needed; idle connections are cheap to drop. Below the 10 s headers timeout, as Node asks. */
const KEEP_ALIVE_TIMEOUT_MS = 5000;
/**
 * Answers of / and /metrics whose body still waits in this process for its client,
 * at most; one more cuts the connection of the oldest. /metrics of 20,000
 * installations is about 40 MB: kept for each client that never reads, a few
 * dozen connections would hold gigabytes until their socket timeout. Prometheus
 * (two of them for HA) and a person's browser read theirs at once.
 */
export const MAX_UNREAD_BODIES = 8;
const SOCKET_TIMEOUT_MS = 15_000;
const ENDPOINTS = ['/', '/metrics', '/healthz', '/readyz'];
/**
 * The status page's headers: it loads nothing (no script, no image, no font, no
 * frame, no form), is never framed, never cached, and never read as anything but HTML.
 */
const STATUS_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { registry, logger } = options;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // Responses not yet closed, per socket: clientError must not write a raw 400
  // into the middle of a pipelined response that is still being produced.
  const responses = new WeakMap<Duplex, Set<ServerResponse>>();
  const unfinished = (socket: Duplex): ServerResponse[] => [...(responses.get(socket) ?? [])].filter((r) => !r.writableEnded);
  // Keep-alive connections with no request open: the first to go when connections run short.
  const idle = new Set<Socket>();
  const open = new Set<Socket>();
  // Every scrape that arrives while one is being produced gets that one: a flood costs one refresh.
  // As bytes, made once: a socket writes a Buffer from where it is, and copies a string it cannot send at once.
  // The families from `exposition` are the cached buffers themselves: a 100 MB scrape is written, never copied into one.
  const scrape = coalesce(async (): Promise<Buffer[]> => {
    await options.beforeScrape().catch((error: unknown) => logger.warn({ err: error }, 'could not refresh metrics from Redis; serving the last values'));
    return [Buffer.from(await registry.metrics()), ...(options.exposition?.() ?? [])];
  });
  const readiness = coalesce(options.readiness);
  // Page loads that arrive while one is loaded get that one: one Redis read, one rendering.
  const statusPage = coalesce(async () => {
    const { status, html } = await options.statusPage();
    return { status, body: Buffer.from(html) };
  });
  // Large answers whose body is still (partly) in this process, oldest first, with their connection and
  // their body. Answers that share one body (concurrent scrapes given one rendering) hold it once.
  const unread = new Map<ServerResponse, { readonly socket: Duplex; readonly body: object }>();
  const distinctBodies = (): number => new Set([...unread.values()].map((u) => u.body)).size;
  const maxUnreadBodies = options.maxUnreadBodies ?? MAX_UNREAD_BODIES;
  /** Sends a large body; past maxUnreadBodies distinct bodies still waiting for their clients, the oldest answer's connection is cut. */
  const sendBody = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string | number>,
    body: Buffer | readonly Buffer[],
  ): void => {
    if (res.headersSent || res.destroyed) return;
    const parts = Buffer.isBuffer(body) ? [body] : body;
    res.writeHead(status, { ...headers, 'content-length': parts.reduce((n, b) => n + b.length, 0) });
    // HEAD: the length of the body, not the body.
    if (req.method !== 'HEAD') for (const part of parts) res.write(part);
    res.end();
    // Taken by the kernel already (a small body, or a client that reads): nothing is held.
    if (res.writableLength === 0) return;
    unread.set(res, { socket: req.socket, body });
    res.once('close', () => unread.delete(res));
    for (const [oldest, { socket }] of unread) {
      if (distinctBodies() <= maxUnreadBodies) break;
      unread.delete(oldest);
      logger.debug({ unread: maxUnreadBodies }, 'HTTP client does not read its large answers; the oldest such connection is cut');
      socket.destroy();
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, contentType: string, body: string): void => {
      // The client may be gone, or an earlier branch answered already.
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': contentType });
      res.end(body);
    };
    const json = (status: number, body: unknown): void => send(status, 'application/json', JSON.stringify(body));

    const path = requestPath(req.url ?? '');
    if (path === undefined) return json(400, { error: 'bad request target' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(405, { error: 'method not allowed' });
    }
    switch (path) {
      case '/':
        statusPage()
          .then(
            ({ status, body }) => sendBody(req, res, status, STATUS_PAGE_HEADERS, body),
            (error: unknown) => {
              logger.error({ err: error }, 'status page rendering failed');
              send(500, 'text/plain; charset=utf-8', 'status page rendering failed\n');
            },
          )
          .catch((error: unknown) => logger.error({ err: error }, 'status page response failed'));
        return;
      case '/healthz':
        return json(200, { status: 'ok' });
      case '/readyz':
        readiness()
          .then(
            (r) => json(r.ready ? 200 : 503, r),
            (error: unknown) => json(503, { ready: false, reason: toError(error).message }),
          )
          .catch((error: unknown) => logger.error({ err: error }, 'readiness response failed'));
        return;
      case '/metrics':
        scrape()
          .then(
            (body) => sendBody(req, res, 200, { 'content-type': registry.contentType }, body),
            (error: unknown) => {
              logger.error({ err: error }, 'metrics rendering failed');
              json(500, { error: 'metrics rendering failed' });
            },
          )
          .catch((error: unknown) => logger.error({ err: error }, 'metrics response failed'));
        return;
      default:
        return json(404, { error: 'not found', endpoints: ENDPOINTS });
    }
  };

  const server: Server = createServer(
    { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: options.timeoutCheckIntervalMs ?? 1000 },
    (req, res) => {
      const socket = req.socket;
      // Requests parsed from the rest of a read after the connection was dropped.
      if (socket.destroyed) return;
      const pending = responses.get(socket) ?? new Set<ServerResponse>();
      responses.set(socket, pending.add(res));
      idle.delete(socket);
      if (pending.size > MAX_UNANSWERED_PER_CONNECTION) {
        logger.debug({ unanswered: pending.size }, 'HTTP connection pipelines more requests than it reads answers; dropped');
        socket.destroy();
        return;
      }
      res.once('close', () => {
        pending.delete(res);
        if (pending.size === 0 && !socket.destroyed) idle.add(socket);
      });
      // A write to a socket the client reset must not become an unhandled 'error'.
      res.on('error', (err) => logger.debug({ err }, 'HTTP response error'));
      req.on('error', (err) => logger.debug({ err }, 'HTTP request error'));
      try {
        handle(req, res);
      } catch (error) {
        logger.error({ err: error }, 'HTTP handler failed');
        try {
          if (!res.headersSent && !res.destroyed) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'internal error' }));
          } else {
            res.destroy();
          }
        } catch {
          res.destroy();
        }
      }
    },
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  // No traffic either way while a request is open (its answer unread, the kernel buffers full):
  // without this, Node keeps such a connection, and what it holds, forever.
  server.timeout = options.socketTimeoutMs ?? SOCKET_TIMEOUT_MS;

  // What llhttp cannot parse, or a client too slow to send its headers. Node's
  // default answers 400 to all of them; 431 and 408 tell the client why.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, reason] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request'];
    const answer = (): void => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    // Garbage pipelined behind good requests: answer those first, then the garbage.
    const inFlight = unfinished(socket);
    if (inFlight.length === 0) return answer();
    Promise.all(inFlight.map((r) => new Promise((resolve) => r.once('close', resolve)))).then(answer, () => socket.destroy());
  });
  // CONNECT (authority-form) bypasses the request handler; without this listener Node just drops it.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('connection', (socket: Socket) => {
    socket.on('error', (err) => logger.debug({ err }, 'HTTP socket error'));
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      idle.delete(socket);
    });
    // Connections beyond the cap are refused before we see them: make room while there is still some.
    if (open.size > EVICT_IDLE_ABOVE) {
      for (const s of idle) s.destroy();
      idle.clear();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  server.on('error', (error) => logger.error({ err: error }, 'HTTP server error'));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A half-sent or slow request would otherwise hold close() open until the process's
      // 9.5 s deadline turns a clean SIGTERM into exit 1.
      const force = setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? CLOSE_GRACE_MS);
      await closed;
      clearTimeout(force);
    },
  };
}

/** Shares one run of `run` among every caller that arrives while it is in flight. */
function coalesce<T>(run: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () =>
    (inFlight ??= run().finally(() => {
      inFlight = undefined;
    }));
}
