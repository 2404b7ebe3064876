/**
 * The arguments of an append to the outbox (the outbox library of scripts.ts):
 * each entry with its meta (core/outbox-order.ts) and its lane (the route it
 * goes to, keys.ts laneIds), and, for an alert digest,
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
import type { LaneHead } from '../../ports.js';
import type { StateKeys } from './keys.js';
import type { StateScripts } from './scripts.js';

/** Default of SLACK_OUTBOX_MAX: entries waiting before the oldest low-priority ones are dropped (about 17 minutes of Slack at 1 message a second). */
export const DEFAULT_OUTBOX_MAX = 1_000;

/** The waiting entry `entry` would be merged into, and the merge; undefined when it cannot be merged. */
function mergeWith(
  keys: StateKeys,
  entry: OutboxEntry,
  target: [string, string] | [] | undefined,
): { id: string; expected: string; merged: OutboxEntry } | undefined {
  if (target === undefined || target.length === 0) return undefined;
  const [id, expected] = target;
  const decoded = decodeOutboxEntry(expected);
  if (!decoded.ok || keys.laneIds(decoded.entry.destination) !== keys.laneIds(entry.destination)) return undefined;
  const [older, newer] = [decoded.entry.notification, entry.notification];
  if (older.kind !== 'alerts' || newer.kind !== 'alerts') return undefined;
  const merged = mergeAlertNotifications(older, newer);
  // The merged entry keeps the waiting one's id and place, and its retry horizon.
  return merged === undefined ? undefined : { id, expected, merged: { ...decoded.entry, notification: merged } };
}

/** Where the including script has its lane lists in KEYS (1-based): the default lane's, and the first of the others. */
export interface LaneKeySlots {
  readonly defaultLane: number;
  readonly firstOther: number;
}

/** The outbox library's arguments, and the lists of the lanes other than the default one, to put in KEYS from `slots.firstOther`. */
export interface OutboxAppend {
  readonly laneKeys: readonly string[];
  readonly args: readonly string[];
}

/**
 * The outbox library's arguments for appending `entries` at `nowMs`, each to
 * the lane of its destination (one read of the newest waiting entries first,
 * only when an alert digest may be merged).
 */
export async function outboxAppendArgs(
  redis: RedisClient & StateScripts,
  keys: StateKeys,
  entries: readonly OutboxEntry[],
  nowMs: number,
  outboxMax: number | undefined,
  coalesce: boolean,
  slots: LaneKeySlots,
): Promise<OutboxAppend> {
  const laneKeys: string[] = [];
  const slotOf = (destination: string): number => {
    const key = keys.laneIds(destination);
    if (key === keys.outboxIds) return slots.defaultLane;
    if (!laneKeys.includes(key)) laneKeys.push(key);
    return slots.firstOther + laneKeys.indexOf(key);
  };
  const slotsOf = entries.map((e) => slotOf(e.destination));
  // Without coalescing no entry has a merge target: nothing is read, everything is appended.
  const mergeKeys = entries.map((e) => (coalesce && e.notification.kind === 'alerts' ? outboxOrderKey(e) : undefined));
  const wanted = mergeKeys.flatMap((k, i) => (k === undefined ? [] : [{ key: k, lane: keys.laneIds(entries[i]?.destination ?? '') }]));
  let found: ([string, string] | [])[] = [];
  if (wanted.length > 0) {
    // The read names its lanes in its own KEYS: the last and entries hashes, then each lane once.
    const lanes = [...new Set(wanted.map((w) => w.lane))];
    const pairs = wanted.flatMap((w) => [w.key, String(3 + lanes.indexOf(w.lane))]);
    found = await redis.ahmReadLastEntries(2 + lanes.length, keys.outboxLast, keys.outboxEntries, ...lanes, ...pairs);
  }
  const targets = new Map(wanted.map((w, i) => [w.key, found[i]]));
  const args = [outboxMax === undefined ? '' : String(outboxMax), String(nowMs), new Date(nowMs).toISOString()];
  for (const [i, entry] of entries.entries()) {
    const key = mergeKeys[i];
    const merge = key === undefined ? undefined : mergeWith(keys, entry, targets.get(key));
    args.push(
      entry.id,
      encodeOutboxMeta(entry),
      encodeOutboxEntry(entry),
      merge?.id ?? '',
      merge?.expected ?? '',
      merge === undefined ? '' : encodeOutboxMeta(merge.merged),
      merge === undefined ? '' : encodeOutboxEntry(merge.merged),
      String(slotsOf[i]),
    );
  }
  return { laneKeys, args };
}

/** The heads after a commit, from the script's reply from `from`: the default lane's, then route and head pairs. */
export function laneHeadsOf(reply: readonly (string | number | null | undefined)[], from: number): { outboxHead: string | undefined; laneHeads?: LaneHead[] } {
  const head = reply[from];
  const laneHeads: LaneHead[] = [];
  for (let i = from + 1; i + 1 < reply.length; i += 2) {
    const [lane, id] = [reply[i], reply[i + 1]];
    if (typeof lane === 'string' && typeof id === 'string' && id !== '') laneHeads.push({ lane, head: id });
  }
  return { outboxHead: typeof head === 'string' ? head : undefined, ...(laneHeads.length === 0 ? {} : { laneHeads }) };
}
