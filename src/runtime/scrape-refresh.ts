/**
 * What runs before each /metrics scrape: the state series are brought up to
 * date from the shared Redis state, so every replica exports every
 * integration. Only what changed since this replica's last scrape is read
 * (loadChanged, against the tokens of what the series were built from) and
 * rebuilt, in slices. Without Redis the scrape serves the last values rather
 * than waiting for it. Concurrent scrapes share one run (http-server.ts).
 */
import type { Redis } from 'ioredis';
import type { Metrics, Outbox, SnapshotStore } from '../ports.js';
import type { UpstreamTracker } from '../../jobs/track-upstream.js';
import { delay } from './delay.js';

/** How long a scrape waits for Redis before it serves the last values. */
const SCRAPE_REFRESH_TIMEOUT_MS = 2000;

export interface ScrapeRefreshDeps {
  readonly redis: Pick<Redis, 'status'>;
  readonly snapshots: Pick<SnapshotStore, 'loadChanged'>;
  readonly outbox: Pick<Outbox, 'size' | 'channelStatus' | 'droppedTotal'>;
  readonly upstream: Pick<UpstreamTracker, 'apiUp'>;
  readonly metrics: Pick<Metrics, 'refreshFromState' | 'stateTokens' | 'setOutboxSize' | 'setOutboxDropped' | 'setSlackStatus' | 'setApiUp'>;
  /** The `target` label of the webhook gauges: the host only, never the secret path. */
  readonly slackMetricTarget: string;
  /** The configured project, until a poll returned the API's projectId. */
  readonly projectId: string;
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
      deps.upstream.apiUp(),
      deps.outbox.channelStatus(),
      deps.outbox.droppedTotal(),
    ]);
    const result = await Promise.race([refresh, delay(SCRAPE_REFRESH_TIMEOUT_MS).then(() => undefined)]);
    if (result === undefined) throw new Error('Redis did not answer within 2 s');
    const [stored, outboxSize, apiUp, channelStatus, dropped] = result;
    await metrics.refreshFromState(stored);
    metrics.setOutboxSize(outboxSize);
    metrics.setOutboxDropped(dropped);
    metrics.setSlackStatus(channelStatus, deps.slackMetricTarget);
    // The label is the projectId the API returns once one poll succeeded, as on the other series.
    if (apiUp !== undefined) metrics.setApiUp(stored[0]?.projectId || deps.projectId, apiUp);
  };
}
