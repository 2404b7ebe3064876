/**
 * A notification is what one Slack message is made from. It is the payload of
 * an alert job, so it is plain JSON, and it is split before it is queued (not
 * when it is sent) so that each message has its own deterministic job id and
 * a retried job never re-sends an earlier part.
 */
import type { AlertNotification } from './alert-notification.js';
import type { AlertItem } from './alert-policy.js';
import { MESSAGE_LIMITS, installationBlockText, messageOverheadBlockText } from './slack-message.js';

export interface InstallationNotification {
  readonly kind: 'transitions' | 'baseline';
  readonly projectId: string;
  readonly integrationId: string;
  readonly items: readonly AlertItem[];
  /** ISO time of the poll that saw the change. */
  readonly detectedAt: string;
  /** 1-based part number and part count when one poll's items need several messages. */
  readonly part: number;
  readonly parts: number;
}

/** About the monitor's own access to Ampersand, not about one installation. */
export interface UpstreamNotification {
  readonly kind: 'upstream';
  readonly projectId: string;
  readonly state: 'down' | 'up';
  readonly reason: string;
  readonly detectedAt: string;
  /** Set when only this integration cannot be read (the others can). */
  readonly integrationId?: string;
  /** On `up` of an integration: its alert closes because it left the list, not because it can be read. */
  readonly noLongerMonitored?: true;
}

/**
 * Every kind of notification the outbox holds: `alerts`, the digest of a poll's
 * alert events (alert-notification.ts); `baseline`, the summary of a first poll;
 * `upstream`, about the monitor's own access. `transitions` is no longer made:
 * entries queued by the release before are still read and rendered.
 */
export type Notification = AlertNotification | InstallationNotification | UpstreamNotification;

/** Installations per message: keeps a message well under Slack's 50-block limit. */
export const MAX_INSTALLATIONS_PER_MESSAGE = 40;

/**
 * Splits one poll's alert items into notifications, keeping the items of one
 * installation together and in order. A message takes installations until the
 * next one would pass `perMessage` installations or the block-text budget
 * (Slack refuses a message with too much block text in all), then the next
 * part starts: every installation is named in some part. Deterministic, so a
 * retried commit produces the same parts. Returns none for no items.
 */
export function splitNotifications(
  base: Omit<InstallationNotification, 'items' | 'part' | 'parts'>,
  items: readonly AlertItem[],
  perMessage = MAX_INSTALLATIONS_PER_MESSAGE,
  blockTextBudget: number = MESSAGE_LIMITS.blockText,
): InstallationNotification[] {
  const runs: AlertItem[][] = [];
  for (const it of items) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0]?.installationId === it.installationId) last.push(it);
    else runs.push([it]);
  }
  const overhead = messageOverheadBlockText(base);
  const chunks: AlertItem[][] = [];
  let current: AlertItem[] = [];
  let installations = 0;
  let used = overhead;
  for (const run of runs) {
    const cost = installationBlockText(run);
    if (installations > 0 && (installations === perMessage || used + cost > blockTextBudget)) {
      chunks.push(current);
      current = [];
      installations = 0;
      used = overhead;
    }
    current.push(...run);
    installations += 1;
    used += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks.map((chunk, i) => ({ ...base, items: chunk, part: i + 1, parts: chunks.length }));
}

/**
 * The id of a notification in the outbox and of its delivery job. It is
 * derived from the commit that produced it (integration, snapshot lineage and
 * version, part), so it is unique and the same on every retry of that commit.
 * BullMQ job ids may not contain ':', which encodeURIComponent escapes.
 */
export function notificationId(integrationId: string, lineage: string, version: number, part: number): string {
  return `${encodeURIComponent(integrationId)}.${lineage}.${version}.${part}`;
}
