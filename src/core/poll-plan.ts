/**
 * What one successful poll commits, worked out from what was stored and what
 * the API listed. Pure: the poll job loads, calls planPoll, then commits the
 * plan and reports it; the fault tests call it to know which alerts to expect.
 * This is the one place where a listing becomes a snapshot and notifications.
 */
import { decideAlerts, summarizeBaseline, type AlertItem } from './alert-policy.js';
import { diffSnapshots, type Transition } from './diff.js';
import type { InstallationState } from './installation.js';
import { notificationId, splitNotifications, type InstallationNotification } from './notification.js';
import { DEFAULT_DESTINATION } from './outbox-entry.js';
import type { Snapshot } from './snapshot.js';

/** What planPoll needs of the stored state of the integration. */
export interface StoredPollState {
  /** The stored version; 0 when the stored version itself could not be read. */
  readonly version: number;
  readonly lineage: string;
  /** The project id the API returned last time; '' when unknown. */
  readonly projectId: string;
  /** Undefined when the stored data could not be read. */
  readonly snapshot: Snapshot | undefined;
  /** Set when the stored version or data could not be read: the poll starts a new baseline. */
  readonly unreadable?: { readonly reason: string };
}

/** The identities a plan is made of, passed in so that planPoll stays deterministic. */
export interface PollIds {
  readonly integrationId: string;
  /** The configured project, used until the stored state or the API names one. */
  readonly projectId: string;
  /** A fresh lineage; called once, and only when the plan starts a new one (a baseline). */
  readonly newLineage: () => string;
}

/** A notification as the outbox keeps it: with its id and the time it was committed. */
export interface PlannedNotification {
  readonly id: string;
  /** Where it goes; one channel today, routing will choose per notification. */
  readonly destination: string;
  /** Epoch ms of the poll; the retry horizon counts from here. */
  readonly enqueuedAt: number;
  readonly notification: InstallationNotification;
}

/** A transition with the group of its installation, for the per-transition log line. */
export interface PlannedTransition extends Transition {
  readonly groupRef: string;
}

export interface PollPlan {
  /** True when nothing readable was stored: the listing is a new baseline and nothing transitioned. */
  readonly baseline: boolean;
  /** Set when a stored state existed but could not be read: this baseline replaces it. */
  readonly unreadable: { readonly reason: string } | undefined;
  /** The project id to commit and to label with: the API's, else the stored one, else the configured one. */
  readonly projectId: string;
  /** The lineage to commit: kept from the stored state, new for a baseline. */
  readonly lineage: string;
  /** The version this commit creates: the stored one + 1, or 1 when there is none or it is unreadable. */
  readonly version: number;
  /** The snapshot to commit. */
  readonly snapshot: Snapshot;
  /** Raw field changes since the stored snapshot, in installation then field order. */
  readonly transitions: readonly PlannedTransition[];
  /** What alerts: the changes the policy pages for, or, for a baseline, what already needs attention. */
  readonly alerts: readonly AlertItem[];
  /** The outbox entries to commit with the snapshot, split within the message budget, in order. */
  readonly notifications: readonly PlannedNotification[];
}

/**
 * Plans the commit of one successful poll: diff the listing against the stored
 * snapshot, decide the alerts (or the baseline summary), split them into
 * messages and give each its id (integration, lineage, version, part), which
 * is the same every time the same commit is planned. An unreadable stored
 * state is planned like no stored state (a new baseline, a new lineage), so a
 * corrupt snapshot is replaced rather than frozen. `now` is the poll's time.
 */
export function planPoll(stored: StoredPollState | undefined, listing: readonly InstallationState[], now: Date, ids: PollIds): PollPlan {
  const { integrationId } = ids;
  const projectId = listing[0]?.projectId || stored?.projectId || ids.projectId;
  const diff = diffSnapshots(stored?.snapshot, listing, now.getTime());
  const lineage = diff.baseline || !stored ? ids.newLineage() : stored.lineage;
  const version = (stored?.version ?? 0) + 1;
  // No alert is held back while other polls fail: a poll that succeeded saw real changes,
  // and dropping them would lose alerts. A failing upstream produces no diffs at all.
  const alerts = diff.baseline ? summarizeBaseline(diff) : decideAlerts(diff);
  const split = splitNotifications({ kind: diff.baseline ? 'baseline' : 'transitions', projectId, integrationId, detectedAt: now.toISOString() }, alerts);
  const groupRef = (id: string): string => (diff.next.get(id) ?? diff.previous.get(id))?.groupRef ?? '';
  return {
    baseline: diff.baseline,
    unreadable: stored?.unreadable === undefined ? undefined : { reason: stored.unreadable.reason },
    projectId,
    lineage,
    version,
    snapshot: diff.next,
    transitions: diff.transitions.map((t) => ({ ...t, groupRef: groupRef(t.installationId) })),
    alerts,
    notifications: split.map((n) => ({
      id: notificationId(integrationId, lineage, version, n.part),
      destination: DEFAULT_DESTINATION,
      enqueuedAt: now.getTime(),
      notification: n,
    })),
  };
}
