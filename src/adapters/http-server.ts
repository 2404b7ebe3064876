/**
 * The operator-facing HTTP endpoints:
 * - GET /metrics  Prometheus text format from our own Registry, refreshed from
 *                 the shared state first;
 * - GET /healthz  200 while the process lives (liveness);
 * - GET /readyz   200 once Redis answers and the poll schedule is registered,
 *                 503 with the reason otherwise. Upstream (Ampersand) trouble is
 *                 reported in the body but never turns it 503, so Prometheus
 *                 keeps scraping the pod that tells about it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface Readiness {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

export interface HttpServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Brings the state gauges up to date; a failure is logged and the last values are served. */
  readonly beforeScrape: () => Promise<void>;
  readonly readiness: () => Promise<Readiness>;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { registry, logger } = options;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    switch (path) {
      case '/healthz':
        return json(200, { status: 'ok' });
      case '/readyz':
        options.readiness().then(
          (r) => json(r.ready ? 200 : 503, r),
          (error: unknown) => json(503, { ready: false, reason: error instanceof Error ? error.message : String(error) }),
        );
        return;
      case '/metrics':
        options
          .beforeScrape()
          .catch((error: unknown) => logger.warn({ err: error }, 'could not refresh metrics from Redis; serving the last values'))
          .then(() => registry.metrics())
          .then(
            (text) => {
              res.writeHead(200, { 'content-type': registry.contentType });
              res.end(text);
            },
            (error: unknown) => {
              logger.error({ err: error }, 'metrics rendering failed');
              json(500, { error: 'metrics rendering failed' });
            },
          );
        return;
      default:
        return json(404, { error: 'not found', endpoints: ['/metrics', '/healthz', '/readyz'] });
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
