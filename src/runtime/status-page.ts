/**
 * The data behind the status page (`GET /`): the stored snapshots, the outbox
 * and the Slack channel's state from Redis, and the upstream tracker's apiUp,
 * rendered by the pure core (status-report, status-page). Without Redis the
 * page still answers, at once or within 2 s, with a 503 that says the state is
 * unavailable; it never waits for a reconnect. The HTTP server shares one load
 * among the page loads that arrive while it runs.
 */
import type { Redis } from 'ioredis';
import type { StatusPageResult } from '../adapters/http-server.js';
import { buildStatusReport } from '../core/status-report.js';
import { renderStatusPage, type StatusPageSettings, type StatusPageView } from '../core/status-page.js';
import type { Logger, Outbox, SnapshotStore } from '../ports.js';
import type { UpstreamTracker } from '../../jobs/track-upstream.js';
import { delay } from './delay.js';

/** How long a page load waits for Redis before it answers that the state is unavailable. */
const loadTimeoutMs = 2000;

export interface StatusPageDeps {
  readonly redis: Pick<Redis, 'status'>;
  readonly snapshots: Pick<SnapshotStore, 'loadAll'>;
  readonly outbox: Pick<Outbox, 'size' | 'channelStatus'>;
  readonly upstream: Pick<UpstreamTracker, 'apiUp'>;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Where alerts go, as the page names it: the webhook's host (never its path), or `log`. */
  readonly slackTarget: string;
  readonly settings: StatusPageSettings;
}

/** Loads the state and renders the page: 200 with the state, 503 with a page saying why it is unavailable. */
export function createStatusPage(deps: StatusPageDeps): () => Promise<StatusPageResult> {
  const { redis, logger } = deps;
  const load = async (): Promise<StatusPageView> => {
    // Commands wait for a reconnect; a page load must not. The reasons are fixed sentences:
    // an error's message could name the Redis URL, and the page is for anyone who reaches the port.
    if (redis.status !== 'ready') return { available: false, reason: `the connection to Redis is ${redis.status}` };
    const reads = Promise.all([deps.snapshots.loadAll(), deps.outbox.size(), deps.outbox.channelStatus(), deps.upstream.apiUp()]);
    const result = await Promise.race([
      reads.then(
        (values) => ({ values }),
        (error: unknown) => ({ error }),
      ),
      delay(loadTimeoutMs).then(() => undefined),
    ]);
    if (result === undefined) return { available: false, reason: `Redis did not answer within ${loadTimeoutMs / 1000} s` };
    if ('error' in result) {
      logger.warn({ err: result.error }, 'status page: could not read the state from Redis');
      return { available: false, reason: 'reading it from Redis failed (the log says why)' };
    }
    const [stored, outboxSize, channel, apiUp] = result.values;
    return {
      available: true,
      report: buildStatusReport(stored),
      monitor: { apiUp, slack: { ...channel, target: deps.slackTarget, outboxSize } },
    };
  };
  return async () => {
    const view = await load();
    return { status: view.available ? 200 : 503, html: renderStatusPage(view, deps.settings, deps.now()) };
  };
}
