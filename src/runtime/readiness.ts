/**
 * The /readyz answer: ready while Redis answers and the poll schedule is
 * registered. The upstream and the Slack webhooks (SLACK_WEBHOOK_URL's under
 * `slack`, each route's under `routes`, by name) are reported but do not make
 * the replica unready: restarting it fixes none of them, and, as with
 * Alertmanager, readiness is about the process, not a receiver.
 */
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { Readiness } from '../adapters/http-server.js';
import type { Outbox } from '../ports.js';
import type { UpstreamTracker } from '../../jobs/track-upstream.js';
import { delay } from './delay.js';
import type { RouteLane } from './scrape-refresh.js';

export interface ReadinessDeps {
  readonly redis: Pick<RedisClient, 'status' | 'ping'>;
  readonly outbox: Pick<Outbox, 'channelStatus'>;
  readonly upstream: Pick<UpstreamTracker, 'report'>;
  readonly scheduleRegistered: () => boolean;
  /** The notifier's target: `log` when SLACK_WEBHOOK_URL is unset. */
  readonly notifierTarget: string;
  /** The outbox lane of each other route; none without routes. */
  readonly routeLanes?: readonly RouteLane[];
}

export function createReadiness(deps: ReadinessDeps): () => Promise<Readiness> {
  const { redis } = deps;
  return async () => {
    const redisOk = redis.status === 'ready' && (await pingWithin(redis, 1000));
    const upstreamReport = redisOk ? await deps.upstream.report() : { state: 'unknown (Redis unreachable)' };
    const scheduleRegistered = deps.scheduleRegistered();
    const reasons = [
      redisOk ? undefined : `Redis is not answering (connection ${redis.status})`,
      scheduleRegistered ? undefined : 'the poll schedule is not registered',
    ];
    const reason = reasons.filter((r) => r !== undefined).join('; ');
    return {
      ready: reason === '',
      ...(reason === '' ? {} : { reason }),
      redis: redisOk ? 'ok' : 'unreachable',
      schedule: scheduleRegistered ? 'registered' : 'missing',
      upstream: upstreamReport,
      slack:
        deps.notifierTarget === 'log' ? 'SLACK_WEBHOOK_URL unset: alerts are logged' : redisOk ? await slackReport(deps.outbox) : 'unknown (Redis unreachable)',
      ...(deps.routeLanes === undefined || deps.routeLanes.length === 0
        ? {}
        : {
            routes: Object.fromEntries(
              await Promise.all(
                deps.routeLanes.map(async (lane) => [lane.name, redisOk ? await slackReport(lane.outbox) : 'unknown (Redis unreachable)'] as const),
              ),
            ),
          }),
    };
  };
}

/**
 * The webhook's state for the /readyz body. A broken webhook does not make the
 * replica unready (restarting it fixes nothing), as for a rejected Ampersand key.
 */
async function slackReport(outbox: Pick<Outbox, 'channelStatus'>): Promise<Record<string, unknown>> {
  const s = await outbox.channelStatus();
  const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    state: s.up === undefined ? 'unknown' : s.up ? 'ok' : 'configuration_error',
    ...(s.up === false ? { reason: `${s.reason ?? 'unknown'}; delivery is paused, alerts are kept in order`, downSince: iso(s.downSinceMs) } : {}),
    ...(s.lastSuccessMs === undefined ? {} : { lastSuccess: iso(s.lastSuccessMs) }),
    deadLetters: s.deadLetters,
  };
}

async function pingWithin(redis: Pick<RedisClient, 'ping'>, ms: number): Promise<boolean> {
  return Promise.race([
    redis.ping().then(
      () => true,
      () => false,
    ),
    delay(ms).then(() => false),
  ]);
}
