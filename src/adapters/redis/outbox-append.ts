/**
 * The arguments of an append to the outbox (the outbox library of scripts.ts):
 * each entry with its meta (core/outbox-order.ts), and, for an alert digest,
 * the newest waiting entry of its integration merged with it
 * (mergeAlertNotifications) when that is a digest too. The merge is worked
 * out here, where the core can be called, from what one read found; the
 * script applies it only if that entry is still the newest waiting one,
 * unchanged and not the head, and appends the entry as it is otherwise, so a
 * stale read never loses or doubles a message.
 */
import type { RedisClient } from './redis-client.js';
import { mergeAlertNotifications } from '../../core/alert-notification.js';
import { decodeOutboxEntry, encodeOutboxEntry, type OutboxEntry } from '../../core/outbox-entry.js';
import { encodeOutboxMeta, outboxOrderKey } from '../../core/outbox-order.js';
import type { StateKeys } from './keys.js';
import type { StateScripts } from './scripts.js';

/** Default of SLACK_OUTBOX_MAX: entries waiting before the oldest low-priority ones are dropped (about 17 minutes of Slack at 1 message a second). */
export const DEFAULT_OUTBOX_MAX = 1_000;

/** The waiting entry `entry` would be merged into, and the merge; undefined when it cannot be merged. */
function mergeWith(entry: OutboxEntry, target: [string, string] | [] | undefined): { id: string; expected: string; merged: OutboxEntry } | undefined {
  if (target === undefined || target.length === 0) return undefined;
  const [id, expected] = target;
  const decoded = decodeOutboxEntry(expected);
  if (!decoded.ok || decoded.entry.destination !== entry.destination) return undefined;
  const [older, newer] = [decoded.entry.notification, entry.notification];
  if (older.kind !== 'alerts' || newer.kind !== 'alerts') return undefined;
  const merged = mergeAlertNotifications(older, newer);
  // The merged entry keeps the waiting one's id and place, and its retry horizon.
  return merged === undefined ? undefined : { id, expected, merged: { ...decoded.entry, notification: merged } };
}

/**
 * The outbox library's arguments for appending `entries` at `nowMs` (one read
 * of the newest waiting entries first, only when an alert digest may be merged).
 */
export async function outboxAppendArgs(
  redis: RedisClient & StateScripts,
  keys: StateKeys,
  entries: readonly OutboxEntry[],
  nowMs: number,
  outboxMax: number | undefined,
  coalesce = true,
): Promise<string[]> {
  // Without coalescing no entry has a merge target: nothing is read, everything is appended.
  const mergeKeys = entries.map((e) => (coalesce && e.notification.kind === 'alerts' ? outboxOrderKey(e) : undefined));
  const wanted = mergeKeys.filter((k): k is string => k !== undefined);
  const found = wanted.length === 0 ? [] : await redis.ahmReadLastEntries(keys.outboxLast, keys.outboxEntries, keys.outboxIds, ...wanted);
  const targets = new Map(wanted.map((k, i) => [k, found[i]]));
  const args = [outboxMax === undefined ? '' : String(outboxMax), String(nowMs), new Date(nowMs).toISOString()];
  for (const [i, entry] of entries.entries()) {
    const key = mergeKeys[i];
    const merge = key === undefined ? undefined : mergeWith(entry, targets.get(key));
    args.push(
      entry.id,
      encodeOutboxMeta(entry),
      encodeOutboxEntry(entry),
      merge?.id ?? '',
      merge?.expected ?? '',
      merge === undefined ? '' : encodeOutboxMeta(merge.merged),
      merge === undefined ? '' : encodeOutboxEntry(merge.merged),
    );
  }
  return args;
}
