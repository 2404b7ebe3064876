/**
 * The Ampersand Platform API, read with ky. Each call has an explicit
 * per-attempt timeout, retries 429, 5xx and network errors with capped
 * exponential backoff (honouring Retry-After), and never retries 401, 403 or
 * 404. Bodies are read as they arrive, within a size cap and a byte budget
 * shared by the bodies read at once (AMPERSAND_MAX_BODY_MB), and returned as
 * parsed JSON; turning them into domain types is the core's job. The operations and their logs,
 * whose free text ends up in alerts, have the API key cut out of every string.
 */
import ky, { HTTPError, TimeoutError, type KyInstance } from 'ky';
import type { Logger } from 'pino';
import type { ApiProblem, Unchecked } from '../core/ampersand-payloads.js';
import { AmpersandApiError, type PollErrorReason, type ProblemDetails } from '../core/errors/ampersand-api-error.js';
import { toError } from '../core/errors/to-error.js';
import type { AmpersandClient, OperationsPageRequest } from '../ports.js';
import { createScrubber, type Scrubber } from '../scrub-secrets.js';
import { createByteBudget, type ByteBudget } from '../byte-budget.js';
import { createJsonArraySplitter, JsonBodyError, parseJsonBody } from '../core/json-array-splitter.js';

export interface AmpersandClientOptions {
  readonly apiUrl: string;
  readonly apiKey: string;
  /** The project every call reads: one client per watched project. */
  readonly projectId: string;
  readonly groupRef: string | undefined;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** Retries after the first attempt. */
  readonly retryLimit?: number;
  /** Upper bound of one backoff or Retry-After wait. */
  readonly maxRetryDelayMs?: number;
  /**
   * The bytes of bodies this process reads at once (AMPERSAND_MAX_BODY_MB), shared by every
   * client that reads listings; one of `maxBodyBytes` for this client alone when absent.
   */
  readonly bodyBudget?: ByteBudget;
  /** Characters of a list body kept whole before it is split into its elements (see defaultSplitAbove); 0 splits every body. */
  readonly splitAbove?: number;
  /** The fetch to use; the global one unless a test or proxy needs another. */
  readonly fetch?: typeof globalThis.fetch;
}

/** What a body_too_large message tells the operator to do. */
const raiseCap = 'raise AMPERSAND_MAX_BODY_MB, the memory budget for API bodies read at once';

/**
 * Bodies up to this many characters are parsed whole, by one JSON.parse: that
 * is the fastest, and every body the old 50 MiB cap accepted is read as it was.
 * A larger one (100,000 installations are about 206 MB) is split into its
 * elements as it arrives, so its text is never held whole beside its tree.
 */
const defaultSplitAbove = 64 * 1024 * 1024;

/** Paths whose last body size is remembered (one per integration listed, plus recent operations). */
const rememberedSizes = 10_000;

const RETRY_STATUS = [408, 429, 500, 502, 503, 504];

const STATUS_REASON: Readonly<Record<number, PollErrorReason>> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'rate_limited',
};

function reasonForStatus(status: number): PollErrorReason {
  // 0 is what an opaque redirect reports; 3xx what `redirect: 'manual'` gives in Node.
  if (status === 0 || (status >= 300 && status < 400)) return 'redirect';
  return STATUS_REASON[status] ?? (status >= 500 ? 'server_error' : 'client_error');
}

/** The API URL as it may be shown: scheme, host and path, never userinfo or a query. */
function displayUrl(apiUrl: string): string {
  try {
    const u = new URL(apiUrl);
    return `${u.protocol}//${u.host}${u.pathname}`.replace(/\/+$/, '');
  } catch {
    return '(unparsable)';
  }
}

/**
 * Reads the body chunk by chunk, within `max` bytes (`overCap`, if any, is
 * added to that error) and `timeoutMs` for the whole body, and hands each
 * chunk and the size read so far to `onChunk`. A throw of `onChunk` cancels
 * the read and is rethrown as it is.
 */
async function forEachChunk(
  response: Response,
  limits: { readonly max: number; readonly timeoutMs: number; readonly what: string; readonly overCap: string },
  onChunk: (value: Uint8Array, size: number) => void,
): Promise<number> {
  const { max, timeoutMs, what } = limits;
  let size = 0;
  if (!response.body) return size;
  // Typed here: the Response of undici's types reads `any` chunks.
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel().catch(() => undefined);
  }, timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) throw new AmpersandApiError(`${what}: response body not complete within ${timeoutMs} ms`, 'timeout', response.status);
      if (done) return size;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel();
        const why = limits.overCap === '' ? '' : ` (${limits.overCap})`;
        throw new AmpersandApiError(`${what}: response body is over the ${max}-byte cap${why}`, 'body_too_large', response.status);
      }
      try {
        onChunk(value, size);
      } catch (error) {
        await reader.cancel().catch(() => undefined);
        throw error;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a body, aborting once it passes `max` bytes (a huge body cannot exhaust
 * memory) or once `timeoutMs` has passed (ky's timeout ends when headers arrive,
 * so a body that trickles forever needs its own).
 */
async function readCapped(response: Response, max: number, what: string, timeoutMs: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await response.body?.cancel();
    throw new AmpersandApiError(`${what}: response body of ${declared} bytes is over the ${max}-byte cap`, 'body_too_large', response.status);
  }
  const chunks: Uint8Array[] = [];
  await forEachChunk(response, { max, timeoutMs, what, overCap: '' }, (value) => {
    chunks.push(value);
  });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AmpersandApiError(`${what}: response body is not valid UTF-8`, 'invalid_body', response.status);
  }
}

/**
 * Reads a JSON body as it arrives, within `max` bytes and `timeoutMs` (as
 * readCapped), and within the process's byte budget: it reserves what the body
 * will need first (its Content-Length when that is the size of what will be
 * read, else `expected`, the size the same resource had last time) and holds
 * it until parsed. A top-level array is parsed element by element
 * (core/json-array-splitter.ts), so neither its bytes nor its text are ever
 * held whole once it passes `splitAbove` characters. Returns the parsed value and the body's size in bytes.
 */
async function readJson(
  response: Response,
  limits: {
    readonly max: number;
    readonly timeoutMs: number;
    readonly budget: ByteBudget;
    readonly expected: number;
    readonly contentType: string;
    readonly splitAbove: number;
  },
  what: string,
): Promise<{ value: unknown; bytes: number }> {
  const { max, timeoutMs, budget } = limits;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await response.body?.cancel();
    throw new AmpersandApiError(`${what}: response body of ${declared} bytes is over the ${max}-byte cap (${raiseCap})`, 'body_too_large', response.status);
  }
  // A compressed body's Content-Length is not what is read (fetch decompresses): the last size is a better guess.
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const lease = await budget.reserve(Number.isFinite(declared) && !encoded ? declared : limits.expected);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // Bytes kept until the body passes splitAbove; after that it is decoded and split as it arrives.
  let kept: Uint8Array[] | undefined = [];
  const splitter = createJsonArraySplitter();
  const split = (chunk: Uint8Array): void => splitter.push(decoder.decode(chunk, { stream: true }));
  const invalid = (error: unknown): AmpersandApiError =>
    error instanceof JsonBodyError
      ? new AmpersandApiError(`${what}: response body is not JSON (content-type ${limits.contentType}; ${error.summary})`, 'invalid_body', response.status)
      : new AmpersandApiError(`${what}: response body is not valid UTF-8`, 'invalid_body', response.status);
  try {
    const size = await forEachChunk(response, { max, timeoutMs, what, overCap: raiseCap }, (value, read) => {
      if (read > lease.held) lease.grow(read - lease.held);
      try {
        if (kept === undefined) split(value);
        else if (read <= limits.splitAbove) kept.push(value);
        else {
          for (const chunk of kept) split(chunk);
          kept = undefined;
          split(value);
        }
      } catch (error) {
        throw invalid(error);
      }
    });
    try {
      // A small body: one decode and one JSON.parse, the fastest there is.
      if (kept !== undefined) return { value: parseJsonBody(decoder.decode(Buffer.concat(kept))), bytes: size };
      splitter.push(decoder.decode());
      return { value: splitter.end(), bytes: size };
    } catch (error) {
      throw invalid(error);
    }
  } finally {
    lease.release();
  }
}

/** Where a redirect points, as its origin only (a path or query could carry anything). */
function redirectTarget(response: Response): string {
  const location = response.headers.get('location');
  if (location === null) return '';
  try {
    return ` to ${new URL(location, response.url || 'http://invalid').origin}`;
  } catch {
    return '';
  }
}

/** Reads an RFC 9457 problem body, if that is what the error response carries; its strings scrubbed, then cut to 500 characters. */
async function readProblem(response: Response, max: number, scrub: Scrubber): Promise<ProblemDetails | undefined> {
  const str = (value: unknown): string | undefined => (typeof value === 'string' ? scrub(value, 500) : undefined);
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) return undefined;
  try {
    const body: unknown = JSON.parse(await readCapped(response, Math.min(max, 64 * 1024), 'problem', 5000));
    if (typeof body !== 'object' || body === null) return undefined;
    const b = body as Unchecked<ApiProblem>;
    return {
      title: str(b['title']),
      detail: str(b['detail']),
      requestId: str(b['requestId']),
      retryable: typeof b['retryable'] === 'boolean' ? b['retryable'] : undefined,
      retryAfter: str(b['retryAfter']),
    };
  } catch {
    return undefined;
  }
}

/**
 * Replaces every string in a parsed JSON value (keys too) by its scrubbed form,
 * in place, without recursion: a body nested ten thousand deep must not
 * overflow the stack.
 */
function scrubStrings(value: unknown, scrub: Scrubber): unknown {
  if (typeof value === 'string') return scrub(value);
  const stack: unknown[] = [value];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (Array.isArray(node)) {
      node.forEach((item: unknown, i) => {
        if (typeof item === 'string') node[i] = scrub(item);
        else if (typeof item === 'object' && item !== null) stack.push(item);
      });
    } else if (typeof node === 'object' && node !== null) {
      const obj = node as Record<string, unknown>;
      for (const [key, item] of Object.entries(obj)) {
        const cleanKey = scrub(key);
        if (cleanKey !== key) delete obj[key];
        if (typeof item === 'string') obj[cleanKey] = scrub(item);
        else {
          obj[cleanKey] = item;
          if (typeof item === 'object' && item !== null) stack.push(item);
        }
      }
    }
  }
  return value;
}

/**
 * An id as one URL path segment. An empty id, a dot segment ("." or "..", which
 * URL parsing resolves, encoded or not, so the request would go to another
 * path) or one that is not well-formed text (encodeURIComponent throws) cannot
 * name a resource: it fails before any request.
 */
function pathSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..') throw new AmpersandApiError(`${what} is empty or a dot segment; not requested`, 'client_error');
  try {
    return encodeURIComponent(value);
  } catch {
    throw new AmpersandApiError(`${what} is not well-formed text (a lone surrogate); not requested`, 'client_error');
  }
}

/** The query of one operations page; a page size outside the spec's 1–1000 is a caller's bug. */
function pageParams(page: OperationsPageRequest): Record<string, string> {
  const params: Record<string, string> = {};
  if (page.pageSize !== undefined) {
    if (!Number.isInteger(page.pageSize) || page.pageSize < 1 || page.pageSize > 1000) {
      throw new RangeError(`pageSize must be an integer from 1 to 1000, got ${page.pageSize}`);
    }
    params['pageSize'] = String(page.pageSize);
  }
  if (page.pageToken !== undefined) params['pageToken'] = page.pageToken;
  return params;
}

export function createAmpersandClient(options: AmpersandClientOptions): AmpersandClient {
  const { apiKey, logger, maxBodyBytes } = options;
  const retryLimit = options.retryLimit ?? 3;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
  // Whatever a server echoes back, the key never leaves this module in a message: every
  // server-supplied string goes through this before it is cut or shown.
  const scrub = createScrubber([apiKey]);
  const budget = options.bodyBudget ?? createByteBudget(maxBodyBytes);
  // The size each path's body had last time: what a body without a usable Content-Length reserves.
  const lastSizes = new Map<string, number>();
  const rememberSize = (path: string, bytes: number): void => {
    lastSizes.delete(path);
    lastSizes.set(path, bytes);
    // Operations and logs have a path per installation or operation: only the recent ones are kept.
    if (lastSizes.size > rememberedSizes) {
      const oldest = lastSizes.keys().next().value;
      if (oldest !== undefined) lastSizes.delete(oldest);
    }
  };

  const shownUrl = displayUrl(options.apiUrl);
  const notFoundHint = /\/v\d+$/.test(shownUrl)
    ? `check AMPERSAND_API_URL (${shownUrl}), AMPERSAND_PROJECT_ID and AMPERSAND_INTEGRATION_IDS`
    : `check AMPERSAND_API_URL (${shownUrl} — it usually ends in /v1), AMPERSAND_PROJECT_ID and AMPERSAND_INTEGRATION_IDS`;

  const http: KyInstance = ky.create({
    prefixUrl: options.apiUrl,
    // Never follow a redirect: undici drops only Authorization on a cross-origin one, so
    // X-Api-Key would go to whatever host a 30x names, and its body would be taken as the list.
    redirect: 'manual',
    headers: { 'X-Api-Key': apiKey, Accept: 'application/json' },
    timeout: options.timeoutMs,
    throwHttpErrors: true,
    retry: {
      limit: retryLimit,
      methods: ['get'],
      statusCodes: RETRY_STATUS,
      // Retry-After is honoured on every retried status, not only ky's default three.
      afterStatusCodes: RETRY_STATUS,
      maxRetryAfter: maxRetryDelayMs,
      backoffLimit: maxRetryDelayMs,
      jitter: true,
      // An Ampersand problem body that says `retryable: false` is believed.
      shouldRetry: async ({ error }) => {
        if (error instanceof HTTPError && RETRY_STATUS.includes(error.response.status)) {
          const problem = await readProblem(error.response.clone(), maxBodyBytes, scrub);
          if (problem?.retryable === false) return false;
        }
        return undefined;
      },
    },
    hooks: {
      // A problem body may say when to retry (`retryAfter`); the header, when present, wins.
      afterResponse: [
        async (_request, _options, response, state) => {
          if (!RETRY_STATUS.includes(response.status) || response.headers.has('retry-after') || state.retryCount >= retryLimit) return undefined;
          const at = Date.parse((await readProblem(response.clone(), maxBodyBytes, scrub))?.retryAfter ?? '');
          if (Number.isNaN(at)) return undefined;
          return ky.retry({ delay: Math.min(Math.max(0, at - Date.now()), maxRetryDelayMs), code: 'PROBLEM_RETRY_AFTER' });
        },
      ],
      beforeRetry: [
        ({ request, error, retryCount }) => {
          const status = error instanceof HTTPError ? error.response.status : undefined;
          logger.debug({ path: new URL(request.url).pathname, status, retryCount, errorName: error.name }, 'retrying Ampersand request');
        },
      ],
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  /** `notFound` replaces the configuration hint of a 404 where a 404 means the thing is gone, not a wrong setting. */
  async function getJson(path: string, searchParams: Record<string, string>, signal: AbortSignal | undefined, notFound?: string): Promise<unknown> {
    return getAt(`projects/${encodeURIComponent(options.projectId)}${path}`, `GET /projects/${options.projectId}${path}`, searchParams, signal, notFound);
  }

  /** GET `relative` (to AMPERSAND_API_URL), described as `what` in errors; the body as JSON. */
  async function getAt(
    relative: string,
    what: string,
    searchParams: Record<string, string>,
    signal: AbortSignal | undefined,
    notFound?: string,
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await http.get(relative, {
        searchParams,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw await toApiError(error, what, notFound);
    }
    try {
      // Keyed without the query: the same listing with another page token is about as large.
      const { value, bytes } = await readJson(
        response,
        {
          max: maxBodyBytes,
          timeoutMs: options.timeoutMs,
          budget,
          expected: lastSizes.get(relative) ?? 0,
          contentType: scrub(response.headers.get('content-type') ?? 'none', 100),
          splitAbove: options.splitAbove ?? defaultSplitAbove,
        },
        what,
      );
      rememberSize(relative, bytes);
      return value;
    } catch (error) {
      if (error instanceof AmpersandApiError) throw error;
      throw await toApiError(error, what, notFound);
    }
  }

  async function toApiError(error: unknown, what: string, notFound = notFoundHint): Promise<AmpersandApiError> {
    if (error instanceof HTTPError) {
      const { status } = error.response;
      const reason = reasonForStatus(status);
      const problem = await readProblem(error.response, maxBodyBytes, scrub);
      const hint =
        reason === 'unauthorized'
          ? 'the API key (AMPERSAND_API_KEY) was rejected'
          : reason === 'forbidden'
            ? 'the API key (AMPERSAND_API_KEY) may not read this project'
            : reason === 'not_found'
              ? notFound
              : reason === 'redirect'
                ? `the API answered with a redirect${redirectTarget(error.response)}, which is not followed so that the API key goes nowhere else; check AMPERSAND_API_URL (${shownUrl})`
                : undefined;
      const parts = [
        `${what}: HTTP ${status} ${reason}`,
        problem?.title,
        problem?.detail,
        hint,
        problem?.requestId ? `requestId ${problem.requestId}` : undefined,
      ].filter((p): p is string => p !== undefined && p !== '');
      return new AmpersandApiError(scrub(parts.join(' — ')), reason, status, problem);
    }
    if (error instanceof TimeoutError) {
      return new AmpersandApiError(`${what}: no response within ${options.timeoutMs} ms`, 'timeout');
    }
    if (error instanceof Error && error.name === 'AbortError') {
      return new AmpersandApiError(`${what}: aborted`, 'timeout');
    }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const { message } = toError(error);
    return new AmpersandApiError(scrub(`${what}: network error (${message}${cause})`, 500), 'network');
  }

  const groupParams: Record<string, string> = options.groupRef === undefined ? {} : { groupRef: options.groupRef };

  return {
    listInstallations: (integrationId, signal) => getJson(`/integrations/${encodeURIComponent(integrationId)}/installations`, groupParams, signal),
    listInstallationsForProject: (signal) => getJson('/installations', groupParams, signal),
    listIntegrations: (signal) => getJson('/integrations', {}, signal),
    // Not under the project, and the spec needs no key for it: the same client (and key header) is harmless on the same host.
    listProviders: (signal) => getAt('providers', 'GET /providers', {}, signal),
    async listOperations(integrationId, installationId, page, signal) {
      const path = `/integrations/${pathSegment(integrationId, 'integration id')}/installations/${pathSegment(installationId, 'installation id')}/operations`;
      const body = await getJson(path, pageParams(page), signal, 'the installation may have been removed');
      return scrubStrings(body, scrub);
    },
    async getOperationLogs(operationId, signal) {
      const path = `/operations/${pathSegment(operationId, 'operation id')}/logs`;
      return scrubStrings(await getJson(path, {}, signal, 'the operation is not known to this project'), scrub);
    },
  };
}
