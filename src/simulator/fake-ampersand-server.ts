/**
 * A local stand-in for the Ampersand Platform API: a real HTTP server (port 0
 * by default) that serves spec-conformant integrations, installations, and
 * each installation's operations (paginated, newest first) and their logs, and
 * can be told to fail in the ways the real one may (problem+json errors,
 * Retry-After, hangs, broken bodies). The demo runs it as its simulator; the
 * tests run it as their fake upstream.
 *
 * Operations follow the installations: an installation starts with a short
 * history of reads ending in its lastOperationStatus, and each change of that
 * status records the run that caused it (a failure with its provider's error
 * in the log), so whatever fails in the demo has a failed operation to show.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  knownProviderDisplayNames,
  buildInstallation,
  buildIntegration,
  buildProviderInfo,
  buildLog,
  buildOperation,
  buildOperationHistory,
  buildProblem,
  buildReadOperation,
  type InstallationPayload,
  type InstallationSpec,
  type OperationSpec,
} from './fixtures.js';
import { startLocalServer } from './local-server.js';
import type { ApiProviderInfo } from '../core/ampersand-payloads.js';

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
  /** The project integrations belong to unless setIntegration names another; any project with an integration is served. */
  readonly projectId: string;
  readonly port?: number;
  readonly host?: string;
  /** The time operations are recorded at; the wall clock unless a test fixes it. */
  readonly now?: () => Date;
  /** Renders each installation; buildInstallation (about 1 KB) unless given, e.g. buildDetailedInstallation (about 2 KB) for the bench. */
  readonly buildInstallation?: (spec: InstallationSpec) => InstallationPayload;
}

export interface FakeAmpersand {
  /** Base URL including /v1, as AMPERSAND_API_URL takes it. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The most requests for one integration's installations that were ever in flight at once. */
  maxConcurrentPerIntegration(): number;
  /**
   * Sets (or replaces) an integration; `name` is what listIntegrations calls it (its id unless given);
   * `projectId` the project it belongs to (the options' unless given; its installations' specs should say the same).
   */
  setIntegration(integrationId: string, provider: string, installations: readonly InstallationSpec[], name?: string, projectId?: string): void;
  removeIntegration(integrationId: string): void;
  installations(integrationId: string): InstallationSpec[];
  update(integrationId: string, installationId: string, changes: Partial<InstallationSpec>): void;
  remove(integrationId: string, installationId: string): void;
  add(integrationId: string, installation: InstallationSpec): void;
  /** The operations of an installation, newest first. */
  operations(installationId: string): OperationSpec[];
  /** Replaces the operations of an installation (served newest first by createTime, whatever the order given). */
  setOperations(installationId: string, operations: readonly OperationSpec[]): void;
  /** Queues faults that answer the next requests for `integrationId`'s installations ('*' for any request). */
  inject(integrationId: string, ...faults: Fault[]): void;
  /** Queues faults that answer the next requests for `installationId`'s operations. */
  injectOperations(installationId: string, ...faults: Fault[]): void;
  /** Queues faults that answer the next requests for `operationId`'s logs. */
  injectLogs(operationId: string, ...faults: Fault[]): void;
  /**
   * Sets the display name `GET /providers` gives a provider (undefined: none, so the spec's default, its id).
   * The catalog lists the providers of the integrations, named from knownProviderDisplayNames unless set here.
   */
  setProviderDisplayName(provider: string, displayName: string | undefined): void;
  /** Queues faults that answer the next requests for the providers' catalog (`GET /providers`). */
  injectProviders(...faults: Fault[]): void;
  /** Answers every request with this fault until cleared with undefined. */
  setStickyFault(fault: Fault | undefined): void;
  /** Answers every request for `projectId` (any path under /projects/{projectId}) with this fault until cleared with undefined. */
  setProjectFault(projectId: string, fault: Fault | undefined): void;
  /** Queues faults that answer the next requests for the installations of the whole project (listInstallationsForProject). */
  injectProjectInstallations(projectId: string, ...faults: Fault[]): void;
  close(): Promise<void>;
}

/** The spec's bounds and default of listOperations' pageSize. */
const PAGE_SIZE = { min: 1, max: 1000, default: 200 } as const;

const newestFirst = (a: OperationSpec, b: OperationSpec): number => Date.parse(b.createTime) - Date.parse(a.createTime);

/** An opaque page token, as the real API's are: the installation and the offset of the next page. */
const pageToken = (installationId: string, offset: number): string => Buffer.from(JSON.stringify([installationId, offset])).toString('base64url');

function readPageToken(token: string, installationId: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed[0] !== installationId || !Number.isInteger(parsed[1]) || (parsed[1] as number) < 0) return undefined;
    return parsed[1] as number;
  } catch {
    return undefined;
  }
}

/** A 400 InputValidationProblem naming the query parameter that is wrong, as the spec describes it. */
function invalidQuery(name: string, value: string, detail: string): Record<string, unknown> {
  return {
    ...buildProblem(400, 'Bad Request', `invalid query parameter ${name}`, { retryable: false }),
    issues: [{ type: 'about:blank', title: 'Invalid parameter', detail, in: 'query', name, value }],
  };
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
  readonly projectId: string;
  readonly provider: string;
  readonly name: string;
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

type Route =
  | { readonly kind: 'providers' }
  | { readonly kind: 'integrations'; readonly projectId: string }
  | { readonly kind: 'project-installations'; readonly projectId: string }
  | { readonly kind: 'installations'; readonly projectId: string; readonly integrationId: string }
  | { readonly kind: 'operations'; readonly projectId: string; readonly integrationId: string; readonly installationId: string }
  | { readonly kind: 'logs'; readonly projectId: string; readonly operationId: string };

const ROUTES: readonly [RegExp, (p: readonly string[]) => Route][] = [
  [/^\/v1\/providers$/, () => ({ kind: 'providers' })],
  [/^\/v1\/projects\/([^/]+)\/integrations$/, ([projectId = '']) => ({ kind: 'integrations', projectId })],
  [/^\/v1\/projects\/([^/]+)\/installations$/, ([projectId = '']) => ({ kind: 'project-installations', projectId })],
  [
    /^\/v1\/projects\/([^/]+)\/integrations\/([^/]+)\/installations$/,
    ([projectId = '', integrationId = '']) => ({ kind: 'installations', projectId, integrationId }),
  ],
  [
    /^\/v1\/projects\/([^/]+)\/integrations\/([^/]+)\/installations\/([^/]+)\/operations$/,
    ([projectId = '', integrationId = '', installationId = '']) => ({ kind: 'operations', projectId, integrationId, installationId }),
  ],
  [/^\/v1\/projects\/([^/]+)\/operations\/([^/]+)\/logs$/, ([projectId = '', operationId = '']) => ({ kind: 'logs', projectId, operationId })],
];

/** The route of a path, its segments decoded; undefined for a path the fake does not serve (or cannot decode). */
function matchRoute(pathname: string): Route | undefined {
  for (const [pattern, route] of ROUTES) {
    const match = pattern.exec(pathname);
    if (!match) continue;
    try {
      return route(match.slice(1).map((segment) => decodeURIComponent(segment)));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const operationsFaultKey = (installationId: string): string => `\u0000operations ${installationId}`;
const projectInstallationsFaultKey = (projectId: string): string => `\u0000project installations ${projectId}`;
const logsFaultKey = (operationId: string): string => `\u0000logs ${operationId}`;
const providersFaultKey = '\u0000providers';

export async function startFakeAmpersand(options: FakeAmpersandOptions): Promise<FakeAmpersand> {
  const integrations = new Map<string, FakeIntegration>();
  const render = options.buildInstallation ?? buildInstallation;
  const put = (integrationId: string, provider: string, name: string, installations: InstallationSpec[], projectId: string): void => {
    integrations.set(integrationId, { projectId, provider, name, installations, bodies: new Map([['', serializeList(installations, render)]]) });
  };
  const projectFaults = new Map<string, Fault>();
  const knownProject = (projectId: string): boolean => projectId === options.projectId || [...integrations.values()].some((i) => i.projectId === projectId);
  /** Per installation id, newest first. */
  const operations = new Map<string, OperationSpec[]>();
  /** Per installation id, the number of the last operation recorded, for the next id. */
  const operationCount = new Map<string, number>();
  const now = options.now ?? (() => new Date());
  const faults = new Map<string, Fault[]>();
  const requests: RecordedRequest[] = [];
  let sticky: Fault | undefined;
  const inFlight = new Map<string, number>();
  let maxConcurrent = 0;

  const takeFault = (integrationId: string | undefined, projectId: string | undefined): Fault | undefined => {
    if (sticky) return sticky;
    const projectFault = projectId === undefined ? undefined : projectFaults.get(projectId);
    if (projectFault) return projectFault;
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

  /** The installation `installationId` of `integrationId`, if the fake has it. */
  /** Display names set by setProviderDisplayName; a provider set to undefined has none. */
  const providerDisplayNames = new Map<string, string | undefined>();
  /** `GET /providers`: a CatalogType keyed by provider name, of the providers of the integrations. */
  const providerCatalog = (): Record<string, ApiProviderInfo> => {
    const catalog: Record<string, ApiProviderInfo> = {};
    for (const provider of new Set([...integrations.values()].map((i) => i.provider))) {
      const name = providerDisplayNames.has(provider) ? providerDisplayNames.get(provider) : knownProviderDisplayNames[provider];
      catalog[provider] = buildProviderInfo(provider, name);
    }
    return catalog;
  };

  const findInstallation = (integrationId: string, installationId: string): InstallationSpec | undefined =>
    integrations.get(integrationId)?.installations.find((i) => i.id === installationId);

  /** The installation an operation belongs to, and the operation. */
  const findOperation = (operationId: string): { installation: InstallationSpec; operation: OperationSpec } | undefined => {
    for (const { installations } of integrations.values()) {
      for (const installation of installations) {
        const operation = operations.get(installation.id)?.find((o) => o.id === operationId);
        if (operation) return { installation, operation };
      }
    }
    return undefined;
  };

  const servePage = (res: ServerResponse, url: URL, installation: InstallationSpec): void => {
    const sizeParam = url.searchParams.get('pageSize');
    const size = sizeParam === null ? PAGE_SIZE.default : Number(sizeParam);
    if (!/^\d+$/.test(sizeParam ?? '0') || size < PAGE_SIZE.min || size > PAGE_SIZE.max) {
      return send(res, 400, invalidQuery('pageSize', sizeParam ?? '', `pageSize must be an integer from ${PAGE_SIZE.min} to ${PAGE_SIZE.max}`));
    }
    const tokenParam = url.searchParams.get('pageToken');
    const all = operations.get(installation.id) ?? [];
    const offset = tokenParam === null ? 0 : readPageToken(tokenParam, installation.id);
    if (offset === undefined || offset > all.length)
      return send(res, 400, invalidQuery('pageToken', tokenParam ?? '', 'pageToken is not one this API gave out'));
    const end = offset + size;
    const done = end >= all.length;
    return send(res, 200, {
      results: all.slice(offset, end).map((op) => buildOperation(installation, op)),
      pagination: done ? { done } : { done, nextPageToken: pageToken(installation.id, end) },
    });
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
    const route = matchRoute(url.pathname);
    const integrationId = route?.kind === 'installations' ? route.integrationId : undefined;
    if (integrationId !== undefined) {
      const n = (inFlight.get(integrationId) ?? 0) + 1;
      inFlight.set(integrationId, n);
      maxConcurrent = Math.max(maxConcurrent, n);
      res.on('close', () => inFlight.set(integrationId, (inFlight.get(integrationId) ?? 1) - 1));
    }
    if (route?.kind === 'providers' && req.method === 'GET') {
      // Only its own faults (and a sticky one): a fault queued for "any request" is meant for the polls.
      const fault = sticky ?? faults.get(providersFaultKey)?.shift();
      if (fault) return answerFault(res, fault);
      // The spec needs no API key for the catalog; it is a global list, not a project's.
      return send(res, 200, providerCatalog());
    }
    const faultKey =
      route?.kind === 'operations'
        ? operationsFaultKey(route.installationId)
        : route?.kind === 'logs'
          ? logsFaultKey(route.operationId)
          : route?.kind === 'project-installations'
            ? projectInstallationsFaultKey(route.projectId)
            : integrationId;
    const fault = takeFault(faultKey, route === undefined || route.kind === 'providers' ? undefined : route.projectId);
    if (fault) return answerFault(res, fault);

    if (req.method !== 'GET' || !route || route.kind === 'providers')
      return send(res, 404, buildProblem(404, 'Not Found', `no route for ${req.method} ${url.pathname}`));
    if (apiKey !== options.apiKey) return send(res, 401, buildProblem(401, 'Unauthorized', 'invalid API key', { retryable: false }));
    if (!knownProject(route.projectId)) return send(res, 404, buildProblem(404, 'Not Found', 'project not found'));
    /** The project's integration of that id: another project's is not found here, as in the real API. */
    const integrationOf = (id: string): FakeIntegration | undefined => {
      const found = integrations.get(id);
      return found?.projectId === route.projectId ? found : undefined;
    };

    switch (route.kind) {
      case 'integrations':
        return send(
          res,
          200,
          [...integrations].filter(([, i]) => i.projectId === route.projectId).map(([id, i]) => buildIntegration(route.projectId, id, i.provider, i.name)),
        );
      case 'project-installations': {
        // Every installation of every integration of the project, one unpaginated array (listInstallationsForProject).
        const groupRef = url.searchParams.get('groupRef');
        const all = [...integrations.values()]
          .filter((i) => i.projectId === route.projectId)
          .flatMap((i) => i.installations.filter((inst) => groupRef === null || inst.groupRef === groupRef));
        return sendJson(res, 200, serializeList(all, render));
      }
      case 'installations': {
        const integration = integrationOf(route.integrationId);
        if (!integration) return send(res, 404, buildProblem(404, 'Not Found', `integration ${route.integrationId} not found`));
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
      }
      case 'operations': {
        const installation = integrationOf(route.integrationId) && findInstallation(route.integrationId, route.installationId);
        if (!installation) return send(res, 404, buildProblem(404, 'Not Found', `installation ${route.installationId} not found`, { retryable: false }));
        return servePage(res, url, installation);
      }
      case 'logs': {
        const found = findOperation(route.operationId);
        // Another project's operation is not found in this one.
        if (!found || integrationOf(found.installation.integrationId) === undefined)
          return send(res, 404, buildProblem(404, 'Not Found', 'Operation not found for the given operation ID.', { retryable: false }));
        return send(
          res,
          200,
          found.operation.logs.map((l) => buildLog(found.operation.id, l)),
        );
      }
    }
  };

  const server = await startLocalServer(handle, options);

  /** Gives an installation the reads it has run so far, unless it has operations already. */
  const startHistory = (installation: InstallationSpec): void => {
    if (operations.has(installation.id)) return;
    const history = buildOperationHistory(installation, now());
    operations.set(installation.id, history);
    operationCount.set(installation.id, history.length);
  };

  /**
   * Records the run behind a change of lastOperationStatus: a run in progress
   * ends with the new status; otherwise a new run starts now.
   */
  const recordRun = (installation: InstallationSpec, status: string): void => {
    const list = operations.get(installation.id) ?? [];
    const [newest, ...older] = list;
    if (newest?.status === 'in_progress' && status !== 'in_progress') {
      operations.set(installation.id, [buildReadOperation(installation, newest.id, status, new Date(newest.createTime)), ...older]);
      return;
    }
    const n = (operationCount.get(installation.id) ?? 0) + 1;
    operationCount.set(installation.id, n);
    operations.set(installation.id, [buildReadOperation(installation, `op-${installation.id}-${n}`, status, now()), ...list]);
  };

  const mustGet = (integrationId: string): FakeIntegration => {
    const integration = integrations.get(integrationId);
    if (!integration) throw new Error(`fake Ampersand has no integration ${integrationId}`);
    return integration;
  };

  return {
    url: `http://${server.host}:${server.port}/v1`,
    requests,
    maxConcurrentPerIntegration: () => maxConcurrent,
    setIntegration(integrationId, provider, installations, name = integrationId, projectId = options.projectId) {
      put(integrationId, provider, name, [...installations], projectId);
      installations.forEach(startHistory);
    },
    removeIntegration(integrationId) {
      integrations.delete(integrationId);
    },
    installations: (integrationId) => [...mustGet(integrationId).installations],
    update(integrationId, installationId, changes) {
      const { provider, name, installations, projectId } = mustGet(integrationId);
      const next = installations.map((i) => {
        if (i.id !== installationId) return i;
        const updated = { ...i, ...changes };
        if (updated.lastOperationStatus !== undefined && updated.lastOperationStatus !== i.lastOperationStatus) recordRun(updated, updated.lastOperationStatus);
        return updated;
      });
      put(integrationId, provider, name, next, projectId);
    },
    remove(integrationId, installationId) {
      const { provider, name, installations, projectId } = mustGet(integrationId);
      put(
        integrationId,
        provider,
        name,
        installations.filter((i) => i.id !== installationId),
        projectId,
      );
      operations.delete(installationId);
    },
    add(integrationId, installation) {
      const { provider, name, installations, projectId } = mustGet(integrationId);
      put(integrationId, provider, name, [...installations, installation], projectId);
      startHistory(installation);
    },
    operations: (installationId) => [...(operations.get(installationId) ?? [])],
    setOperations(installationId, list) {
      operations.set(installationId, [...list].sort(newestFirst));
      operationCount.set(installationId, Math.max(operationCount.get(installationId) ?? 0, list.length));
    },
    inject(integrationId, ...newFaults) {
      faults.set(integrationId, [...(faults.get(integrationId) ?? []), ...newFaults]);
    },
    injectOperations(installationId, ...newFaults) {
      const key = operationsFaultKey(installationId);
      faults.set(key, [...(faults.get(key) ?? []), ...newFaults]);
    },
    injectLogs(operationId, ...newFaults) {
      const key = logsFaultKey(operationId);
      faults.set(key, [...(faults.get(key) ?? []), ...newFaults]);
    },
    setProviderDisplayName(provider, displayName) {
      providerDisplayNames.set(provider, displayName);
    },
    injectProviders(...newFaults) {
      faults.set(providersFaultKey, [...(faults.get(providersFaultKey) ?? []), ...newFaults]);
    },
    setStickyFault(fault) {
      sticky = fault;
    },
    setProjectFault(projectId, fault) {
      if (fault === undefined) projectFaults.delete(projectId);
      else projectFaults.set(projectId, fault);
    },
    injectProjectInstallations(projectId, ...newFaults) {
      const key = projectInstallationsFaultKey(projectId);
      faults.set(key, [...(faults.get(key) ?? []), ...newFaults]);
    },
    close: () => server.close(),
  };
}
