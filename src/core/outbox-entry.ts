/**
 * An outbox entry: one notification waiting for its destination, and the
 * format it is stored in. Entries are stored as `{ "v": 2, "destination": …,
 * "id": …, "enqueuedAt": …, "notification": … }`. The destination is the name
 * of the route (monitor-config.ts) whose outbox lane holds the entry:
 * "default" for SLACK_WEBHOOK_URL. The release before the format version wrote
 * `{ id, enqueuedAt, notification }` (v1) and knew one destination, Slack:
 * such an entry, still queued or dead-lettered across a deploy, is read as v2
 * with destination "slack", as the release before routes wrote it, and
 * "slack" means the default route (isDefaultDestination; no route may take
 * that name), so nothing is lost or sent twice. Those releases read v2
 * entries too (they ignore the extra fields), which keeps a rolling deploy
 * safe in both directions.
 */
import { DEFAULT_ROUTE_NAME, LEGACY_ROUTE_NAME } from './monitor-config.js';
import type { Notification } from './notification.js';

export interface OutboxEntry {
  readonly id: string;
  /** The route the notification goes to ("default", or "slack" before routes: SLACK_WEBHOOK_URL); each route has its own outbox lane. */
  readonly destination: string;
  /** Epoch ms when the change was committed; the retry horizon counts from here at the earliest. */
  readonly enqueuedAt: number;
  readonly notification: Notification;
}

/** The format version encodeOutboxEntry writes. */
export const OUTBOX_ENTRY_VERSION = 2;

/** The destination of a v1 entry, and of every entry of the release before routes: the only one they had. */
export const V1_DESTINATION = LEGACY_ROUTE_NAME;
/** The route of SLACK_WEBHOOK_URL: notifications no route matches, and the monitor's own. */
export const DEFAULT_DESTINATION = DEFAULT_ROUTE_NAME;

/** True for the default route's destination, under this release's name or the one before. */
export const isDefaultDestination = (destination: string): boolean => destination === DEFAULT_DESTINATION || destination === V1_DESTINATION;

export type DecodedOutboxEntry = { readonly ok: true; readonly entry: OutboxEntry } | { readonly ok: false; readonly error: string };

const NOTIFICATION_KINDS: ReadonlySet<unknown> = new Set(['transitions', 'baseline', 'upstream', 'alerts', 'dropped']);

/** The stored form of an entry, with the format version first. */
export function encodeOutboxEntry(entry: OutboxEntry): string {
  const { id, destination, enqueuedAt, notification } = entry;
  return JSON.stringify({ v: OUTBOX_ENTRY_VERSION, destination, id, enqueuedAt, notification });
}

/**
 * Reads a stored entry of any known format version, upgrading a v1 entry in
 * memory. Anything else (not JSON, a missing field, a format version this
 * release does not know) is an error naming what is wrong: the caller
 * dead-letters such an entry rather than stall the outbox on it.
 */
export function decodeOutboxEntry(raw: string): DecodedOutboxEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, error: 'not a JSON object' };
  const fields = parsed as Record<string, unknown>;
  const version = fields['v'] ?? 1;
  if (version !== 1 && version !== OUTBOX_ENTRY_VERSION) return { ok: false, error: `unknown format version ${JSON.stringify(version)}` };
  const destination = version === 1 ? V1_DESTINATION : fields['destination'];
  const { id, enqueuedAt, notification } = fields;
  if (typeof id !== 'string') return { ok: false, error: 'no string "id"' };
  if (typeof destination !== 'string' || destination === '') return { ok: false, error: 'no "destination"' };
  if (typeof enqueuedAt !== 'number') return { ok: false, error: 'no numeric "enqueuedAt"' };
  const kind = typeof notification === 'object' && notification !== null ? (notification as { kind?: unknown }).kind : undefined;
  if (!NOTIFICATION_KINDS.has(kind)) return { ok: false, error: 'no notification of a known kind' };
  return { ok: true, entry: { id, destination, enqueuedAt, notification: notification as Notification } };
}

/** The suffix a replay adds to an entry id: `.replay-` and a token of letters and digits. */
const REPLAY_SUFFIX = /\.replay-[0-9a-z]+$/;

/**
 * The outbox id of a dead letter put back for delivery: its id with a replay
 * suffix, in place of an earlier one (a letter replayed twice does not grow
 * twice). It must be new: the delivery job is named after the id
 * (runtime/job-names.ts), and BullMQ keeps a finished job's id for days and
 * would not add it again. `token` (letters and digits, e.g. random hex) makes
 * it unique; the id keeps its origin readable in Slack's `ref` and the logs.
 */
export function replayedEntryId(id: string, token: string): string {
  if (!/^[0-9a-z]+$/.test(token)) throw new RangeError(`replay token must be lower-case letters and digits, got ${JSON.stringify(token)}`);
  return `${id.replace(REPLAY_SUFFIX, '')}.replay-${token}`;
}
