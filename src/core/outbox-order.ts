/**
 * The order of the outbox and what may be merged in it. Pure: the stores ask
 * it about each entry they append (the Redis store writes the answer beside
 * the entry, as its "meta", for its Lua scripts to read).
 *
 * - Priority: the monitor's own messages ("cannot read Ampersand", the
 *   "dropped" notice) and messages that carry a recovery or a reminder are
 *   `high`: they go behind the head and the high entries already waiting,
 *   never behind a backlog of other integrations' alerts. Everything else is
 *   `low`, first come first served. The head itself never moves: it may be
 *   being sent, and its delivery job is named after it.
 * - One integration's messages keep their order (its order key): a high entry
 *   never passes a waiting entry of its own integration; it goes right behind
 *   the newest one instead. So a recovery never arrives before its firing.
 * - Coalescing: when the newest waiting entry of an integration (not the head)
 *   is an alert digest ('alerts'), the next digest of that integration is
 *   merged into it (mergeAlertNotifications) rather than queued, so a
 *   flapping integration cannot grow the outbox faster than Slack drains it.
 * - The cap folds the oldest low entries into one "dropped" notice.
 */
import type { Notification } from './notification.js';
import { isDefaultDestination, V1_DESTINATION, type OutboxEntry } from './outbox-entry.js';

export type OutboxPriority = 'high' | 'low';

/** The priority of a notification in the outbox (see the module comment). */
export function outboxPriority(n: Notification): OutboxPriority {
  switch (n.kind) {
    case 'upstream':
    case 'dropped':
      return 'high';
    case 'alerts':
      return n.items.some((it) => it.event !== 'fire') || (n.mass ?? []).some((m) => m.event === 'resolve') ? 'high' : 'low';
    case 'transitions':
      return n.items.some((it) => it.severity === 'recovery') ? 'high' : 'low';
    case 'baseline':
      return 'low';
  }
}

/**
 * The key of the integration whose messages keep their order among
 * themselves: destination, project and integration, URI-encoded (so it holds
 * no tab); undefined for the messages of no one integration (the upstream
 * messages, the "dropped" notice), which keep only their priority's order.
 */
export function outboxOrderKey(entry: OutboxEntry): string | undefined {
  const n = entry.notification;
  if (n.kind === 'upstream' || n.kind === 'dropped') return undefined;
  // The default route keeps the name the release before routes gave it, so that the order keys it
  // stored still order (and merge with) this release's entries of the same integration.
  const route = isDefaultDestination(entry.destination) ? V1_DESTINATION : entry.destination;
  return [route, n.projectId, n.integrationId].map(encodeURIComponent).join('|');
}

/**
 * What a store keeps beside an entry for its order: `h` or `l`, the order key
 * (empty when none) and the destination, tab-separated:
 * `l\tslack|p|int-1\tslack`. The destination comes last and may hold anything.
 */
export function encodeOutboxMeta(entry: OutboxEntry): string {
  return `${outboxPriority(entry.notification) === 'high' ? 'h' : 'l'}\t${outboxOrderKey(entry) ?? ''}\t${entry.destination}`;
}
