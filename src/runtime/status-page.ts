/**
 * The data behind the status page (`GET /`): the stored snapshots, the outbox
 * and the Slack channel's state from Redis, and the upstream tracker's apiUp,
 * rendered by the pure core (status-report, status-page). Without Redis the
 * page still answers, at once or within 2 s, with a 503 that says the state is
 * unavailable; it never waits for a reconnect. The HTTP server shares one load
 * among the page loads that arrive while it runs.
 */
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { StatusPageResult } from '../adapters/http-server.js';
import { buildStatusReport } from '../core/status-report.js';
import { mutesAt, type MuteRules } from '../core/silences.js';
import { episodeStart } from '../core/episodes.js';
import type { StatusReport } from '../core/status-report.js';
import { lastErrorKey, renderStatusPage, statusPageMaxRows, type StatusPageSettings, type StatusPageView } from '../core/status-page.js';
import type { Logger, Outbox, SnapshotStore } from '../ports.js';
import type { UpstreamTracker } from '../../jobs/track-upstream.js';
import { delay } from './delay.js';
import { readLanes, type RouteLane } from './scrape-refresh.js';

/** How long a page load waits for Redis before it answers that the state is unavailable. */
const loadTimeoutMs = 2000;

export interface StatusPageDeps {
  readonly redis: Pick<RedisClient, 'status'>;
  readonly snapshots: Pick<SnapshotStore, 'loadAll' | 'loadEpisodes'>;
  readonly outbox: Pick<Outbox, 'size' | 'channelStatus'>;
  readonly upstream: Pick<UpstreamTracker, 'apiUp'>;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Where alerts go, as the page names it: the webhook's host (never its path), or `log`. */
  readonly slackTarget: string;
  /** The outbox lane of each other route, shown by name; none without routes. */
  readonly routeLanes?: readonly RouteLane[];
  readonly settings: StatusPageSettings;
  /** The silences and maintenance windows of the monitor configuration file: the page says which installation they mute. */
  readonly muting?: MuteRules;
}

/**
 * The last failing operation's first error line of each installation the page
 * shows with a failed last operation, from the episode log: one read per
 * integration, of the shown installations only (at most statusPageMaxRows).
 */
async function lastErrors(snapshots: Pick<SnapshotStore, 'loadEpisodes'>, report: StatusReport, maxRows: number): Promise<Map<string, string>> {
  const wanted = new Map<string, string[]>();
  for (const row of report.installations.slice(0, maxRows)) {
    if (!row.problems.includes('last_operation_status')) continue;
    wanted.set(row.integrationId, [...(wanted.get(row.integrationId) ?? []), row.installationId]);
  }
  const errors = new Map<string, string>();
  await Promise.all(
    [...wanted].map(async ([integrationId, ids]) => {
      for (const [installationId, episodes] of await snapshots.loadEpisodes(integrationId, ids)) {
        const latest = episodes
          .filter((e) => e.condition === 'operation_failing' && e.error !== undefined)
          .sort((a, b) => episodeStart(b) - episodeStart(a))[0];
        if (latest?.error !== undefined) errors.set(lastErrorKey(integrationId, installationId), latest.error);
      }
    }),
  );
  return errors;
}

/** Loads the state and renders the page: 200 with the state, 503 with a page saying why it is unavailable. */
export function createStatusPage(deps: StatusPageDeps): () => Promise<StatusPageResult> {
  const { redis, logger } = deps;
  const load = async (): Promise<StatusPageView> => {
    // Commands wait for a reconnect; a page load must not. The reasons are fixed sentences:
    // an error's message could name the Redis URL, and the page is for anyone who reaches the port.
    if (redis.status !== 'ready') return { available: false, reason: `the connection to Redis is ${redis.status}` };
    const maxRows = deps.settings.maxRows ?? statusPageMaxRows;
    const reads = Promise.all([
      deps.snapshots.loadAll(),
      deps.outbox.size(),
      deps.outbox.channelStatus(),
      deps.upstream.apiUp(),
      readLanes(deps.routeLanes ?? []),
    ]).then(async ([stored, outboxSize, channel, apiUp, lanes]) => {
      const { silences = [], windows = [] } = deps.muting ?? {};
      const report = buildStatusReport(stored, { mutes: mutesAt(silences, windows, deps.now()) });
      return [report, outboxSize, channel, apiUp, await lastErrors(deps.snapshots, report, maxRows), lanes] as const;
    });
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
    const [report, outboxSize, channel, apiUp, errors, lanes] = result.values;
    const routes = lanes.map((lane) => ({ ...lane.status, name: lane.name, target: lane.target, outboxSize: lane.size }));
    return {
      available: true,
      report,
      monitor: { apiUp, slack: { ...channel, target: deps.slackTarget, outboxSize }, ...(routes.length === 0 ? {} : { routes }) },
      lastErrors: errors,
    };
  };
  return async () => {
    const view = await load();
    return { status: view.available ? 200 : 503, html: renderStatusPage(view, deps.settings, deps.now()) };
  };
}
