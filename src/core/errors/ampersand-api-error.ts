/**
 * A failed call to the Ampersand API, reduced to what decides retries,
 * metrics and logs. It deliberately keeps no reference to ky's request,
 * options or response: those hold the X-Api-Key header, and a logger that
 * serialises an error's properties would print it.
 */
import type { ApiProblem } from '../ampersand-payloads.js';

/** The `reason` label of ampersand_poll_errors_total. */
export const ERROR_REASONS = [
  'timeout',
  'network',
  'unauthorized',
  'forbidden',
  'not_found',
  'rate_limited',
  'server_error',
  'client_error',
  'invalid_body',
  'body_too_large',
  /** Not the API: an exception in our own poll or cycle (Redis refused a command, a bug, corrupt state). */
  'internal_error',
  // A 3xx: not followed, since fetch would forward X-Api-Key to wherever it points.
  'redirect',
] as const;
export type PollErrorReason = (typeof ERROR_REASONS)[number];

/** Reasons that are the operator's configuration to fix, not a passing fault (a redirect means AMPERSAND_API_URL is not the API's). */
const CONFIGURATION_REASONS: ReadonlySet<PollErrorReason> = new Set(['unauthorized', 'forbidden', 'not_found', 'redirect']);

/**
 * What is kept of a spec ApiProblem body: the fields a log line or a retry
 * decision reads, each undefined when the body had no usable value for it.
 * `retryAfter` is an RFC 3339 time after which the request may be retried.
 */
export type ProblemDetails = { readonly [K in 'title' | 'detail' | 'requestId' | 'retryable' | 'retryAfter']: ApiProblem[K] | undefined };

export class AmpersandApiError extends Error {
  override readonly name = 'AmpersandApiError';
  readonly reason: PollErrorReason;
  readonly status: number | undefined;
  readonly problem: ProblemDetails | undefined;

  constructor(message: string, reason: PollErrorReason, status?: number, problem?: ProblemDetails) {
    super(message);
    this.reason = reason;
    this.status = status;
    this.problem = problem;
  }

  /** 401, 403, 404 and 3xx mean the API key, URL, project or integration id is wrong: no retry can help. */
  get isConfigurationError(): boolean {
    return CONFIGURATION_REASONS.has(this.reason);
  }
}

/**
 * Wraps an unexpected exception of a poll or cycle as a failed poll, so that
 * the upstream tracker counts it. Only the error's class and first line are
 * kept: a message cut short cannot carry a whole payload into the logs.
 */
export function internalError(error: unknown): AmpersandApiError {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const firstLine = text.split('\n', 1)[0] ?? '';
  return new AmpersandApiError(`internal error: ${firstLine.length > 200 ? `${firstLine.slice(0, 199)}…` : firstLine}`, 'internal_error');
}
