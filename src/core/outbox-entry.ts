/**
 * An outbox entry: one notification waiting for its destination, and the
 * format it is stored in. Entries are stored as `{ "v": 2, "destination": …,
 * "id": …, "enqueuedAt": …, "notification": … }`. The release before the
 * format version wrote `{ id, enqueuedAt, notification }` (v1) and knew one
 * destination, Slack: such an entry, still queued or dead-lettered across a
 * deploy, is read as v2 with destination "slack", so nothing is lost or sent
 * twice. That release reads v2 entries too (it ignores the extra fields),
 * which keeps a rolling deploy safe in both directions.
 */
import type { Notification } from './notification.js';

export interface OutboxEntry {
  readonly id: string;
  /** Where the notification goes, e.g. "slack"; the outbox can hold entries for several destinations. */
  readonly destination: string;
  /** Epoch ms when the change was committed; the retry horizon counts from here at the earliest. */
  readonly enqueuedAt: number;
  readonly notification: Notification;
}

/** The format version encodeOutboxEntry writes. */
export const OUTBOX_ENTRY_VERSION = 2;

/** The destination of a v1 entry: the only one that release had. */
export const V1_DESTINATION = 'slack';
/** Where notifications go until routing chooses per notification. */
export const DEFAULT_DESTINATION = V1_DESTINATION;

export type DecodedOutboxEntry = { readonly ok: true; readonly entry: OutboxEntry } | { readonly ok: false; readonly error: string };

const NOTIFICATION_KINDS: ReadonlySet<unknown> = new Set(['alerts', 'transitions', 'baseline', 'upstream']);

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
