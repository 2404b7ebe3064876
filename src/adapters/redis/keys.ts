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
 *   outbox:ids            list  notification ids, oldest first
 *   outbox:entries        hash  id -> JSON OutboxEntry (core/outbox-entry.ts: v2, or v1 from the previous release)
 *   outbox:meta           hash  id -> priority, order key and destination of a waiting entry (core/outbox-order.ts)
 *   outbox:last           hash  order key (destination, project, integration) -> id of its newest waiting entry
 *   outbox:drops          hash  total (messages dropped past SLACK_OUTBOX_MAX), and the waiting "dropped" notice
 *                               of each destination (scripts.ts, the outbox library)
 *   dead:ids, dead:entries      notifications that the channel refused or that outlived the retry horizon;
 *                               capped (oldest trimmed first) so a long fault cannot fill Redis
 *   slack                 hash  up (1/0), reason, since (ms), ok (last success, ms), seen (last
 *                               channel fault, ms): the webhook's health, shared so every replica
 *                               reports it in /readyz and /metrics and counts the retry horizon alike
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
  /** The episode logs of one integration's installations. */
  episodes(this: void, integrationId: string): string;
  /** When each of those logs may be dropped. */
  episodeExpiry(this: void, integrationId: string): string;
}

export function stateKeys(prefix: string): StateKeys {
  const base = `${prefix}:state:`;
  return {
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
