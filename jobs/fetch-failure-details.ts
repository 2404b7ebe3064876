/**
 * Fetches why an installation's last operation failed, for the alert that
 * says so: the newest failed operation (paging through the installation's
 * operations, a bounded number of pages) and that operation's error lines.
 *
 * It is cheap and soft by design, since an alert without details beats a late
 * alert or none: each cycle may start at most `perCycle` look-ups (counted per
 * cycle id, in this process), each look-up has its own timeout over all its
 * requests, and a failure of the API, a body that cannot be used or a timeout
 * gives `undefined` (or the operation without its error lines, when only the
 * logs failed) and one warn line, never an exception.
 */
import { AmpersandApiError } from '../src/core/errors/ampersand-api-error.js';
import { firstLine } from '../src/core/errors/to-error.js';
import {
  failureDetails,
  latestFailedOperation,
  parseOperationLogs,
  parseOperationsPage,
  type FailureDetails,
  type OperationSummary,
} from '../src/core/operation.js';
import { summarizeWarnings, type ParseWarning } from '../src/core/parse-warnings.js';
import type { AmpersandClient, AmpersandProjects, Logger } from '../src/ports.js';

export const failureDetailsDefaults = {
  /** Look-ups per cycle (the issue's FAILURE_DETAILS_PER_CYCLE). */
  perCycle: 20,
  /** One look-up, its pages and its logs together. */
  timeoutMs: 10_000,
  /** Operations per page: a failure that alerts is among the newest. */
  pageSize: 50,
  /** Pages read before a look-up gives up finding a failed operation. */
  maxPages: 4,
} as const;

export interface FailureDetailsFetcherDeps {
  /** The client of the installation's project. */
  readonly ampersand: AmpersandProjects<Pick<AmpersandClient, 'listOperations' | 'getOperationLogs'>>;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Look-ups each cycle may start; 0 turns them off. */
  readonly perCycle?: number;
  readonly timeoutMs?: number;
  /** 1 to 1000, the spec's bounds. */
  readonly pageSize?: number;
  readonly maxPages?: number;
  /** Makes the signal that ends one look-up after `ms`: AbortSignal.timeout, unless a test aborts it by hand. */
  readonly timeoutSignal?: (ms: number) => AbortSignal;
}

export interface FailureDetailsRequest {
  /** The cycle whose budget the look-up is counted in: the poll job's cycleId. */
  readonly cycleId: string;
  /** The watched project (as configured) of the installation: its operations are read there. */
  readonly projectId: string;
  readonly integrationId: string;
  readonly installationId: string;
}

export interface FailureDetailsFetcher {
  /**
   * The details of the installation's newest failed operation, or undefined
   * when the cycle's budget is spent, none of the operations read failed, or
   * the look-up failed (logged). Never rejects. `signal` cancels it (a job
   * shutting down) on top of its own timeout.
   */
  fetch(request: FailureDetailsRequest, signal?: AbortSignal): Promise<FailureDetails | undefined>;
  /** Look-ups the cycle may still start. */
  remaining(cycleId: string): number;
}

/** Budgets of this many recent cycles are kept; an older cycle that comes back starts a new one. */
const KEPT_CYCLES = 16;

/** A body the core could not use: its message is the parser's, secret-free. */
class UnusableBody extends Error {
  override readonly name = 'UnusableBody';
}

function checkOption(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/** Rejects with the signal's reason once it aborts, whatever `work` does: a client that ignores its signal cannot hold a look-up. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // The loser of the race must not become an unhandled rejection.
  work.catch(() => undefined);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

export function createFailureDetailsFetcher(deps: FailureDetailsFetcherDeps): FailureDetailsFetcher {
  const perCycle = checkOption('perCycle', deps.perCycle ?? failureDetailsDefaults.perCycle, 0);
  const timeoutMs = checkOption('timeoutMs', deps.timeoutMs ?? failureDetailsDefaults.timeoutMs, 1);
  const pageSize = checkOption('pageSize', deps.pageSize ?? failureDetailsDefaults.pageSize, 1, 1000);
  const maxPages = checkOption('maxPages', deps.maxPages ?? failureDetailsDefaults.maxPages, 1);
  const timeoutSignal = deps.timeoutSignal ?? ((ms: number) => AbortSignal.timeout(ms));
  /** Per cycle id: look-ups started, and whether running out was logged. Oldest cycle first. */
  const budgets = new Map<string, { used: number; toldSpent: boolean }>();

  function budgetOf(cycleId: string): { used: number; toldSpent: boolean } {
    let budget = budgets.get(cycleId);
    if (budget === undefined) {
      budget = { used: 0, toldSpent: false };
      budgets.set(cycleId, budget);
      for (const oldest of budgets.keys()) {
        if (budgets.size <= KEPT_CYCLES) break;
        budgets.delete(oldest);
      }
    }
    return budget;
  }

  const noteOddities = (log: Logger, what: string, warnings: readonly ParseWarning[]): void => {
    if (warnings.length > 0) log.info({ warnings: warnings.slice(0, 5) }, `${what}: kept as is: ${summarizeWarnings(warnings, 5, 'item')}`);
  };

  /** The newest failed operation among the first maxPages pages, or undefined; throws what the client throws, or UnusableBody. */
  async function findFailedOperation(
    client: Pick<AmpersandClient, 'listOperations'>,
    request: FailureDetailsRequest,
    signal: AbortSignal,
    log: Logger,
  ): Promise<OperationSummary | undefined> {
    const tokens = new Set<string>();
    let pageToken: string | undefined;
    let read = 0;
    for (let page = 1; page <= maxPages; page += 1) {
      const body = await client.listOperations(
        request.integrationId,
        request.installationId,
        { pageSize, ...(pageToken === undefined ? {} : { pageToken }) },
        signal,
      );
      const parsed = parseOperationsPage(body);
      if (!parsed.ok) throw new UnusableBody(`operations page ${page} cannot be used: ${parsed.error}`);
      noteOddities(log, `operations page ${page}`, parsed.warnings);
      read += parsed.operations.length;
      // The issue has the API list newest first, so the first page with a failure holds the newest one.
      const failed = latestFailedOperation(parsed.operations);
      if (failed !== undefined) return failed;
      pageToken = parsed.nextPageToken;
      if (pageToken === undefined) break;
      if (tokens.has(pageToken)) {
        log.info(`operations page ${page} gave a page token already followed; stopping there`);
        break;
      }
      tokens.add(pageToken);
    }
    log.info(
      { operationsRead: read },
      `no failed operation among the ${read} newest operations${pageToken === undefined ? '' : ` (${maxPages} page(s) read)`}; the alert goes without failure details`,
    );
    return undefined;
  }

  return {
    remaining: (cycleId) => Math.max(0, perCycle - (budgets.get(cycleId)?.used ?? 0)),

    async fetch(request, signal) {
      const log = deps.logger.child({ integrationId: request.integrationId, installationId: request.installationId, cycleId: request.cycleId });
      const budget = budgetOf(request.cycleId);
      if (budget.used >= perCycle) {
        if (!budget.toldSpent) {
          budget.toldSpent = true;
          log.info(`failure details: the ${perCycle} look-up(s) of cycle ${request.cycleId} are spent; later alerts of this cycle go without details`);
        }
        return undefined;
      }
      const client = deps.ampersand.forProject(request.projectId);
      if (client === undefined) {
        log.warn(`failure details: project ${request.projectId} is not watched; the alert goes without them`);
        return undefined;
      }
      budget.used += 1;

      const timeout = timeoutSignal(timeoutMs);
      const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
      const started = deps.now().getTime();
      let operation: OperationSummary | undefined;
      try {
        return await untilAborted(
          (async () => {
            operation = await findFailedOperation(client, request, combined, log);
            if (operation === undefined) return undefined;
            const logs = parseOperationLogs(await client.getOperationLogs(operation.id, combined), operation.id);
            if (!logs.ok) throw new UnusableBody(`logs of operation ${operation.id} cannot be used: ${logs.error}`);
            noteOddities(log, `logs of operation ${operation.id}`, logs.warnings);
            const details = failureDetails(operation, logs);
            log.debug({ operationId: operation.id, durationMs: deps.now().getTime() - started }, 'failure details fetched');
            return details;
          })(),
          combined,
        );
      } catch (error) {
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : signal?.aborted ? 'cancelled' : firstLine(error);
        const fields = {
          durationMs: deps.now().getTime() - started,
          reason:
            error instanceof AmpersandApiError ? error.reason : timeout.aborted ? 'timeout' : error instanceof UnusableBody ? 'invalid_body' : 'internal_error',
          // A bug, not the API: its stack is worth the space.
          ...(error instanceof AmpersandApiError || error instanceof UnusableBody || combined.aborted ? {} : { err: error }),
        };
        if (operation !== undefined) {
          log.warn(
            { ...fields, operationId: operation.id },
            `failure details of installation ${request.installationId}: the log of operation ${operation.id} could not be read (${why}); sent without its error lines`,
          );
          return failureDetails(operation);
        }
        log.warn(fields, `failure details of installation ${request.installationId} not fetched (${why}); the alert goes without them`);
        return undefined;
      }
    },
  };
}
