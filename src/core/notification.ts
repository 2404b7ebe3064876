/**
 * A notification is what one Slack message is made from. It is the payload of
 * an alert job, so it is plain JSON, and it is split before it is queued (not
 * when it is sent) so that each message has its own deterministic job id and
 * a retried job never re-sends an earlier part.
 */
import type { AlertNotification } from './alert-notification.js';
import type { AlertItem } from './alert-policy.js';
import type { Field } from './diff.js';
import type { PollErrorReason } from './errors/ampersand-api-error.js';
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
  /**
   * A baseline's summary: it is one message whatever the count, so `items`
   * are the worst installations that fit, and this counts them all. Absent
   * in transitions, and in baselines queued by a release before it (which
   * were split into parts instead).
   */
  readonly summary?: BaselineSummary;
}

/** What a baseline found already needing attention, in all. */
export interface BaselineSummary {
  /** Installations with at least one bad field. */
  readonly installations: number;
  /** Installations per bad field. */
  readonly fields: Readonly<Partial<Record<Field, number>>>;
  /** Installations not shown in `items`. */
  readonly omitted: number;
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
  /**
   * Epoch ms when the failing began (on `up`: the outage that ends). Absent in
   * entries queued by a release before it, and when unknown: messages then say
   * the detection time.
   */
  readonly sinceMs?: number;
  /** The kind of the failure, which picks the message's remedy; absent as `sinceMs` is (the renderer then reads it from `reason`). */
  readonly cause?: PollErrorReason;
}

/** One message per integration and poll of the per-condition alert states (alert-notification.ts). */
export type { AlertNotification } from './alert-notification.js';

/**
 * Stands in the outbox for alert messages dropped because a lane was full
 * (SLACK_OUTBOX_MAX): written by the store's commit script, one per lane that
 * dropped, and counted up while it waits. It is delivered on the default
 * route: the lane that overflowed is most likely the one that cannot deliver.
 */
export interface DroppedNotification {
  readonly kind: 'dropped';
  /** Messages dropped since `sinceMs`. */
  readonly count: number;
  /** Epoch ms of the first drop this notice counts. */
  readonly sinceMs: number;
  /** The outbox cap in force when the last of them was dropped. */
  readonly cap: number;
  /** ISO time of the last drop. */
  readonly detectedAt: string;
  /** The route whose lane dropped them; absent for the default route, and in notices of the release before. */
  readonly route?: string;
}

export type Notification = InstallationNotification | UpstreamNotification | AlertNotification | DroppedNotification;

/** Installations per message: keeps a message well under Slack's 50-block limit. */
export const MAX_INSTALLATIONS_PER_MESSAGE = 40;

/** Groups items by installation, keeping their order. */
function runsOf(items: readonly AlertItem[]): AlertItem[][] {
  const runs: AlertItem[][] = [];
  for (const it of items) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0]?.installationId === it.installationId) last.push(it);
    else runs.push([it]);
  }
  return runs;
}

/** Which bad field is worst, for the order of a baseline summary: rejected credentials, then health, then the last operation. */
const FIELD_RANK: Readonly<Record<Field, number>> = { connection_status: 0, health_status: 1, last_operation_status: 2 };
const worstRank = (run: readonly AlertItem[]): number => Math.min(...run.map((it) => FIELD_RANK[it.field]));

/** Installations worst first: most bad fields, then the worst field, then by id. */
function compareRuns(a: readonly AlertItem[], b: readonly AlertItem[]): number {
  const [ia, ib] = [a[0]?.installationId ?? '', b[0]?.installationId ?? ''];
  return b.length - a.length || worstRank(a) - worstRank(b) || (ia < ib ? -1 : ia > ib ? 1 : 0);
}

/**
 * A baseline as one summary message, whatever the count: every installation
 * counted (by bad field), the worst shown first as far as `perMessage` and the
 * block-text budget allow (the counts included), the rest counted in
 * `summary.omitted` ("+N more").
 */
function summarizeBaselineNotification(
  base: Omit<InstallationNotification, 'items' | 'part' | 'parts'>,
  items: readonly AlertItem[],
  perMessage: number,
  blockTextBudget: number,
): InstallationNotification {
  const runs = runsOf(items).sort(compareRuns);
  const fields: Partial<Record<Field, number>> = {};
  for (const it of items) fields[it.field] = (fields[it.field] ?? 0) + 1;
  // The overhead at its largest: counts and "+N more" as long as the numbers can make them.
  const widest: BaselineSummary = {
    installations: runs.length,
    fields: { health_status: runs.length, last_operation_status: runs.length, connection_status: runs.length },
    omitted: runs.length,
  };
  let used = messageOverheadBlockText({ ...base, summary: widest });
  const shown: AlertItem[] = [];
  let installations = 0;
  for (const run of runs) {
    const cost = installationBlockText(run);
    if (installations > 0 && (installations === perMessage || used + cost > blockTextBudget)) break;
    shown.push(...run);
    installations += 1;
    used += cost;
  }
  return { ...base, items: shown, part: 1, parts: 1, summary: { installations: runs.length, fields, omitted: runs.length - installations } };
}

/**
 * Splits one poll's alert items into notifications, keeping the items of one
 * installation together and in order. A message takes installations until the
 * next one would pass `perMessage` installations or the block-text budget
 * (Slack refuses a message with too much block text in all), then the next
 * part starts: every installation is named in some part. Deterministic, so a
 * retried commit produces the same parts. Returns none for no items.
 *
 * A baseline is not split: it is one summary message (summarizeBaselineNotification),
 * since a monitor that starts on a project with 500 bad installations should
 * say so once, not in 13 messages.
 */
export function splitNotifications(
  base: Omit<InstallationNotification, 'items' | 'part' | 'parts'>,
  items: readonly AlertItem[],
  perMessage = MAX_INSTALLATIONS_PER_MESSAGE,
  blockTextBudget: number = MESSAGE_LIMITS.blockText,
): InstallationNotification[] {
  if (items.length === 0) return [];
  if (base.kind === 'baseline') return [summarizeBaselineNotification(base, items, perMessage, blockTextBudget)];
  const runs = runsOf(items);
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
