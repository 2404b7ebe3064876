/**
 * The key layout of the shared state in Redis. Every key is under
 * `{prefix}:state:`, so a hash-tagged prefix such as `{ahm}` puts them all in
 * one Redis Cluster slot, and the Lua scripts, which touch only the keys they
 * are given in KEYS, run there unchanged.
 *
 * Keys, under `{prefix}:state:`:
 *   snap:{integrationId}  hash  v (version), l (lineage), p (projectId), t (last success, ms), d (encoded snapshot),
 *                               h (version:digest of d, so that a snapshot that did not change is not written again)
 *   alerts:{integrationId} string the alert states of the integration's installations (core/alert-states.ts),
 *                               written in the same commit as its snapshot; absent until this release's first
 *                               commit (the release before kept none: loadAlertStates upgrades from the snapshot)
 *   episodes:{integrationId} hash installation id -> its episode log (core/episodes.ts), written by the commit
 *   episode-expiry:{integrationId} zset installation id scored by when its log may go (30 days after its last
 *                               episode ended; +inf while one is open): each commit drops a bounded number past it
 *   integrations          set   integration ids that have a snapshot
 *   outbox:ids            list  notification ids of the default route's lane, oldest first (the key of the
 *                               release before routes, which had one lane: its entries are the default route's)
 *   lane:{route}:ids      list  the same for the lane of each other route (monitor-config.ts `routes`)
 *   lanes                 set   the route names that have had a lane (kept after the route is removed): a lane
 *                               whose route left the configuration is moved to the default lane at start and
 *                               at every cycle (outbox.ts adoptLanes)
 *   outbox:entries        hash  id -> JSON OutboxEntry (core/outbox-entry.ts: v2, or v1 from the previous release)
 *   outbox:meta           hash  id -> priority, order key and destination of a waiting entry (core/outbox-order.ts)
 *   outbox:last           hash  order key (destination, project, integration) -> id of its newest waiting entry
 *   outbox:entries, outbox:meta, outbox:last and outbox:drops are shared by the lanes: an entry's id is
 *                               unique, its meta names its route, and an order key begins with the route
 *   outbox:drops          hash  total (messages dropped past SLACK_OUTBOX_MAX, any lane), and the waiting
 *                               "dropped" notice of each lane (scripts.ts, the outbox library)
 *   dead:ids, dead:entries      notifications that the channel refused or that outlived the retry horizon;
 *                               capped (oldest trimmed first) so a long fault cannot fill Redis
 *   slack                 hash  up (1/0), reason, since (ms), ok (last success, ms), seen (last
 *                               channel fault, ms): the default route's webhook health, shared so every
 *                               replica reports it in /readyz and /metrics and counts the retry horizon alike
 *   lane:{route}:slack    hash  the same for each other route's webhook
 *   upstream:{projectId}  hash  rev, s (JSON UpstreamState without `integrations`), i (JSON per-integration
 *                               entries): the monitor's own access to one watched project (its id as configured,
 *                               URI-encoded). `i` is a field of its own because an older release rewrites `s`
 *                               and would erase them.
 *   upstream              hash  the same, as releases that watched one project kept it: read (never written)
 *                               as the first watched project's until that project's own hash exists
 *   meta                  hash  created (ms): tells a Redis that lost its data
 *
 * The previous release also staged `retain:{uuid}` sets (expiring in 60 s);
 * retain no longer needs them.
 */
import { isDefaultDestination } from '../../core/outbox-entry.js';

export interface StateKeys {
  readonly integrations: string;
  readonly outboxIds: string;
  readonly outboxEntries: string;
  readonly outboxMeta: string;
  readonly outboxLast: string;
  readonly outboxDrops: string;
  readonly deadIds: string;
  readonly deadEntries: string;
  readonly slack: string;
  /** The upstream state of releases that watched one project; read only. */
  readonly upstream: string;
  readonly meta: string;
  /** The upstream state of one watched project. */
  upstreamOf(this: void, projectId: string): string;
  /** The snapshot hash of one integration. A closure, so it can be passed to `map`. */
  snapshot(this: void, integrationId: string): string;
  /** The alert states of one integration, a string beside its snapshot. */
  alerts(this: void, integrationId: string): string;
  /** The set of route names that have had an outbox lane. */
  readonly lanes: string;
  /** The list of a route's outbox lane: `outbox:ids` for the default route ("default", or "slack" before routes: the key of that release). */
  laneIds(this: void, route: string): string;
  /** The webhook health hash of a route: `slack` for the default route. */
  laneChannel(this: void, route: string): string;
  /** The episode logs of one integration's installations. */
  episodes(this: void, integrationId: string): string;
  /** When each of those logs may be dropped. */
  episodeExpiry(this: void, integrationId: string): string;
}

export function stateKeys(prefix: string): StateKeys {
  const base = `${prefix}:state:`;
  return {
    lanes: `${base}lanes`,
    laneIds: (route) => (isDefaultDestination(route) ? `${base}outbox:ids` : `${base}lane:${route}:ids`),
    laneChannel: (route) => (isDefaultDestination(route) ? `${base}slack` : `${base}lane:${route}:slack`),
    integrations: `${base}integrations`,
    outboxIds: `${base}outbox:ids`,
    outboxEntries: `${base}outbox:entries`,
    outboxMeta: `${base}outbox:meta`,
    outboxLast: `${base}outbox:last`,
    outboxDrops: `${base}outbox:drops`,
    deadIds: `${base}dead:ids`,
    deadEntries: `${base}dead:entries`,
    slack: `${base}slack`,
    upstream: `${base}upstream`,
    meta: `${base}meta`,
    // Encoded: a brace in a project name must not make a hash tag of its own (Redis Cluster).
    upstreamOf: (projectId) => `${base}upstream:${encodeURIComponent(projectId)}`,
    snapshot: (integrationId) => `${base}snap:${integrationId}`,
    alerts: (integrationId) => `${base}alerts:${integrationId}`,
    episodes: (integrationId) => `${base}episodes:${integrationId}`,
    episodeExpiry: (integrationId) => `${base}episode-expiry:${integrationId}`,
  };
}
