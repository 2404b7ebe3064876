/**
 * What runs before each /metrics scrape: the state series are brought up to
 * date from the shared Redis state, so every replica exports every
 * integration. Only what changed since this replica's last scrape is read
 * (loadChanged, against the tokens of what the series were built from) and
 * rebuilt, in slices. Without Redis the scrape serves the last values rather
 * than waiting for it. Concurrent scrapes share one run (http-server.ts).
 */
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { ChannelStatus, Metrics, Outbox, SnapshotStore } from '../ports.js';
import type { UpstreamTracker } from '../../jobs/track-upstream.js';
import { delay } from './delay.js';

/** How long a scrape waits for Redis before it serves the last values. */
const SCRAPE_REFRESH_TIMEOUT_MS = 2000;

export interface ScrapeRefreshDeps {
  readonly redis: Pick<RedisClient, 'status'>;
  readonly snapshots: Pick<SnapshotStore, 'loadChanged'>;
  readonly outbox: Pick<Outbox, 'size' | 'channelStatus' | 'droppedTotal'>;
  readonly upstream: Pick<UpstreamTracker, 'apiUpByProject'>;
  readonly metrics: Pick<Metrics, 'refreshFromState' | 'stateTokens' | 'setOutboxSize' | 'setOutboxDropped' | 'setSlackStatus' | 'setApiUp'>;
  /** The `target` label of the webhook gauges: the host only, never the secret path. */
  readonly slackMetricTarget: string;
  /**
   * The watched projects, as configured. With one, ampersand_api_up's label is the projectId the API
   * returns once a poll succeeded, as on the other series; with several, each project's id as configured.
   */
  readonly projects: readonly string[];
  /** The outbox lane of each other route, and its webhook's host (the `target` label); none without routes. */
  readonly routeLanes?: readonly RouteLane[];
}

/** A route's outbox lane as the scrape, /readyz and the status page read it: by name, and its webhook's host. */
export interface RouteLane {
  readonly name: string;
  /** The webhook's host only, never its secret path. */
  readonly target: string;
  readonly outbox: Pick<Outbox, 'size' | 'channelStatus'>;
}

/** The size and webhook state of each lane, read together. */
export function readLanes(lanes: readonly RouteLane[]): Promise<{ name: string; target: string; size: number; status: ChannelStatus }[]> {
  return Promise.all(
    lanes.map(async (lane) => {
      const [size, status] = await Promise.all([lane.outbox.size(), lane.outbox.channelStatus()]);
      return { name: lane.name, target: lane.target, size, status };
    }),
  );
}

/** Brings the state series up to date from Redis; throws (and the scrape serves the last values) when Redis does not answer within 2 s. */
export function createScrapeRefresh(deps: ScrapeRefreshDeps): () => Promise<void> {
  const { redis, metrics } = deps;
  return async () => {
    // Commands wait for a reconnect; a scrape must not.
    if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
    const refresh = Promise.all([
      deps.snapshots.loadChanged(metrics.stateTokens()),
      deps.outbox.size(),
      deps.upstream.apiUpByProject(),
      deps.outbox.channelStatus(),
      deps.outbox.droppedTotal(),
      readLanes(deps.routeLanes ?? []),
    ]);
    const result = await Promise.race([refresh, delay(SCRAPE_REFRESH_TIMEOUT_MS).then(() => undefined)]);
    if (result === undefined) throw new Error('Redis did not answer within 2 s');
    const [stored, outboxSize, apiUp, channelStatus, dropped, lanes] = result;
    await metrics.refreshFromState(stored);
    metrics.setOutboxSize(outboxSize);
    metrics.setOutboxDropped(dropped);
    metrics.setSlackStatus(channelStatus, deps.slackMetricTarget);
    for (const lane of lanes) {
      metrics.setOutboxSize(lane.size, lane.name);
      metrics.setSlackStatus(lane.status, lane.target, lane.name);
    }
    for (const [projectId, up] of apiUp) {
      if (up === undefined) continue;
      // One project: the projectId the API returns once one poll succeeded, as on the other series.
      const label = deps.projects.length === 1 ? stored[0]?.projectId || projectId : projectId;
      metrics.setApiUp(label, up);
    }
  };
}
