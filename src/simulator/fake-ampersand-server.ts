/**
 * A local stand-in for the Ampersand Platform API: a real HTTP server (port 0
 * by default) that serves spec-conformant integrations and installations, and
 * can be told to fail in the ways the real one may (problem+json errors,
 * Retry-After, hangs, broken bodies). The demo runs it as its simulator; the
 * tests run it as their fake upstream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildInstallation, buildIntegration, buildProblem, type InstallationPayload, type InstallationSpec } from './fixtures.js';
import { startLocalServer } from './local-server.js';

/** One injected answer in place of the normal one. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string>; readonly problem?: Record<string, unknown> }
  | { readonly kind: 'hang' }
  | { readonly kind: 'raw'; readonly status?: number; readonly contentType: string; readonly body: Buffer | string; readonly chunked?: boolean }
  /** Sends the headers and the start of a body, then nothing more. */
  | { readonly kind: 'trickle'; readonly contentType: string; readonly start: string };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly apiKey: string | undefined;
  readonly at: number;
}

export interface FakeAmpersandOptions {
  readonly apiKey: string;
  readonly projectId: string;
  readonly port?: number;
  readonly host?: string;
  /** Renders each installation; buildInstallation (about 1 KB) unless given, e.g. buildDetailedInstallation (about 2 KB) for the bench. */
  readonly buildInstallation?: (spec: InstallationSpec) => InstallationPayload;
}

export interface FakeAmpersand {
  /** Base URL including /v1, as AMPERSAND_API_URL takes it. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The most requests for one integration's installations that were ever in flight at once. */
  maxConcurrentPerIntegration(): number;
  setIntegration(integrationId: string, provider: string, installations: readonly InstallationSpec[]): void;
  removeIntegration(integrationId: string): void;
  installations(integrationId: string): InstallationSpec[];
  update(integrationId: string, installationId: string, changes: Partial<InstallationSpec>): void;
  remove(integrationId: string, installationId: string): void;
  add(integrationId: string, installation: InstallationSpec): void;
  /** Queues faults that answer the next requests for `integrationId` ('*' for any request). */
  inject(integrationId: string, ...faults: Fault[]): void;
  /** Answers every request with this fault until cleared with undefined. */
  setStickyFault(fault: Fault | undefined): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, JSON.stringify(body), headers);
}

function sendJson(res: ServerResponse, status: number, json: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    'content-length': Buffer.byteLength(json),
    ...headers,
  });
  res.end(json);
}

/**
 * A list as JSON.stringify writes it, byte for byte, built one item at a time:
 * a list of 100,000 installations (about 200 MB) never exists as one string.
 */
function serializeList<T>(items: readonly T[], render: (item: T) => unknown): Buffer {
  const parts = items.map((item, i) => Buffer.from(`${i === 0 ? '' : ','}${JSON.stringify(render(item))}`));
  return Buffer.concat([Buffer.from('['), ...parts, Buffer.from(']')]);
}

interface FakeIntegration {
  readonly provider: string;
  readonly installations: InstallationSpec[];
  /**
   * The serialized listing per groupRef filter ('' for none): the whole list
   * when the integration is set or changed, a filtered one on first request.
   * A large list is then served as fast as the socket takes it, so the time a
   * client measures (the bench's) is its own, not the fake's, and a change is
   * served from the next request on.
   */
  readonly bodies: Map<string, Buffer>;
}

export async function startFakeAmpersand(options: FakeAmpersandOptions): Promise<FakeAmpersand> {
  const integrations = new Map<string, FakeIntegration>();
  const render = options.buildInstallation ?? buildInstallation;
  const put = (integrationId: string, provider: string, installations: InstallationSpec[]): void => {
    integrations.set(integrationId, { provider, installations, bodies: new Map([['', serializeList(installations, render)]]) });
  };
  const faults = new Map<string, Fault[]>();
  const requests: RecordedRequest[] = [];
  let sticky: Fault | undefined;
  const inFlight = new Map<string, number>();
  let maxConcurrent = 0;

  const takeFault = (integrationId: string | undefined): Fault | undefined => {
    if (sticky) return sticky;
    for (const key of [integrationId, '*']) {
      if (key === undefined) continue;
      const queue = faults.get(key);
      if (queue && queue.length > 0) return queue.shift();
    }
    return undefined;
  };

  const answerFault = (res: ServerResponse, fault: Fault): void => {
    switch (fault.kind) {
      case 'hang':
        server.hold(res);
        return;
      case 'raw':
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType });
        // Written apart from end(), the body goes out chunked, with no Content-Length to go by.
        if (fault.chunked) res.write(fault.body);
        res.end(fault.chunked ? undefined : fault.body);
        return;
      case 'trickle':
        res.writeHead(200, { 'content-type': fault.contentType });
        res.write(fault.start);
        server.hold(res);
        return;
      case 'status':
        send(res, fault.status, fault.problem ?? buildProblem(fault.status, 'Injected fault', `status ${fault.status}`), fault.headers);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const apiKey = req.headers['x-api-key'];
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
      at: Date.now(),
    });
    const match = /^\/v1\/projects\/([^/]+)\/integrations(?:\/([^/]+)\/installations)?$/.exec(url.pathname);
    const integrationId = match?.[2] === undefined ? undefined : decodeURIComponent(match[2]);
    if (integrationId !== undefined) {
      const n = (inFlight.get(integrationId) ?? 0) + 1;
      inFlight.set(integrationId, n);
      maxConcurrent = Math.max(maxConcurrent, n);
      res.on('close', () => inFlight.set(integrationId, (inFlight.get(integrationId) ?? 1) - 1));
    }
    const fault = takeFault(integrationId);
    if (fault) return answerFault(res, fault);

    if (req.method !== 'GET' || !match) return send(res, 404, buildProblem(404, 'Not Found', `no route for ${req.method} ${url.pathname}`));
    if (apiKey !== options.apiKey) return send(res, 401, buildProblem(401, 'Unauthorized', 'invalid API key', { retryable: false }));
    if (decodeURIComponent(match[1] ?? '') !== options.projectId) return send(res, 404, buildProblem(404, 'Not Found', 'project not found'));

    if (integrationId === undefined) {
      return send(
        res,
        200,
        [...integrations].map(([id, i]) => buildIntegration(options.projectId, id, i.provider)),
      );
    }
    const integration = integrations.get(integrationId);
    if (!integration) return send(res, 404, buildProblem(404, 'Not Found', `integration ${integrationId} not found`));
    const groupRef = url.searchParams.get('groupRef');
    const key = groupRef === null ? '' : `=${groupRef}`;
    let body = integration.bodies.get(key);
    if (body === undefined) {
      body = serializeList(
        integration.installations.filter((i) => i.groupRef === groupRef),
        render,
      );
      integration.bodies.set(key, body);
    }
    return sendJson(res, 200, body);
  };

  const server = await startLocalServer(handle, options);

  const mustGet = (integrationId: string): FakeIntegration => {
    const integration = integrations.get(integrationId);
    if (!integration) throw new Error(`fake Ampersand has no integration ${integrationId}`);
    return integration;
  };

  return {
    url: `http://${server.host}:${server.port}/v1`,
    requests,
    maxConcurrentPerIntegration: () => maxConcurrent,
    setIntegration(integrationId, provider, installations) {
      put(integrationId, provider, [...installations]);
    },
    removeIntegration(integrationId) {
      integrations.delete(integrationId);
    },
    installations: (integrationId) => [...mustGet(integrationId).installations],
    update(integrationId, installationId, changes) {
      const { provider, installations } = mustGet(integrationId);
      put(
        integrationId,
        provider,
        installations.map((i) => (i.id === installationId ? { ...i, ...changes } : i)),
      );
    },
    remove(integrationId, installationId) {
      const { provider, installations } = mustGet(integrationId);
      put(
        integrationId,
        provider,
        installations.filter((i) => i.id !== installationId),
      );
    },
    add(integrationId, installation) {
      const { provider, installations } = mustGet(integrationId);
      put(integrationId, provider, [...installations, installation]);
    },
    inject(integrationId, ...newFaults) {
      faults.set(integrationId, [...(faults.get(integrationId) ?? []), ...newFaults]);
    },
    setStickyFault(fault) {
      sticky = fault;
    },
    close: () => server.close(),
  };
}
