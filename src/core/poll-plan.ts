/**
 * What one successful poll commits, worked out from what was stored and what
 * the API listed. Pure: the poll job loads, calls planPoll, then commits the
 * plan and reports it; the fault tests call it to know which alerts to expect.
 * This is the one place where a listing becomes a snapshot, alert states and
 * notifications.
 *
 * A poll that is not a baseline moves each condition of each installation on
 * with the alert state machine (alert-state.ts): a condition alerts after
 * ALERT_AFTER_POLLS bad polls, resolves after RESOLVE_AFTER_POLLS good ones and
 * reminds every REMIND_INTERVAL_SECONDS, and the sent events of the poll make
 * one digest (alert-notification.ts). The silences and maintenance windows
 * of the monitor configuration file in force at the poll's time (mutesAt, once
 * per poll) mute the installations they match: their firings are decided and
 * recorded, not sent, and sent when the mute ends while they still fire
 * (alert-state.ts); being unsent, they are in no digest and no mass event.
 * A baseline sends its one summary of what
 * already needs attention, and its alert states start from that snapshot
 * (initialAlertStates), as announced.
 */
import { summarizeBaseline, type AlertItem } from './alert-policy.js';
import {
  DEFAULT_ALERT_POLICY,
  forgetInstallationAlerts,
  isAllOk,
  nextInstallationAlerts,
  readConditions,
  type AlertPolicy,
  type ConditionEvent,
  type InstallationAlerts,
  type InstallationStep,
} from './alert-state.js';
import { encodeAlertStates, firingCounts, initialAlertStates, loadAlertStates, type AlertStates } from './alert-states.js';
import {
  buildAlertDigests,
  compareAlertItems,
  type AlertEventItem,
  type AlertNotification,
  type DigestContext,
  type MassEventPolicy,
} from './alert-notification.js';
import { diffSnapshots, type Transition } from './diff.js';
import type { InstallationState } from './installation.js';
import { notificationId, splitNotifications, type InstallationNotification } from './notification.js';
import type { FailureDetails } from './operation.js';
import { episodeKey, recordEpisodes, type Episode } from './episodes.js';
import type { Route } from './monitor-config.js';
import { groupByRoute } from './routing.js';
import { alertSubject } from './alert-subject.js';
import { findMute, mutesAt, muteNote, type ActiveMutes, type MuteNote, type MuteRules } from './silences.js';
import type { InstallationRecord, Snapshot } from './snapshot.js';

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
  /** The stored alert states, as stored; undefined when none are (the release before kept none: they are upgraded from the snapshot). */
  readonly alertStates?: string;
}

/** The identities a plan is made of, passed in so that planPoll stays deterministic. */
export interface PollIds {
  readonly integrationId: string;
  /** The configured project, used until the stored state or the API names one. */
  readonly projectId: string;
  /** A fresh lineage; called once, and only when the plan starts a new one (a baseline). */
  readonly newLineage: () => string;
}

/** How planPoll alerts, besides the data: the configuration and what the cycle knew. */
export interface PollPlanOptions {
  /** ALERT_AFTER_POLLS, RESOLVE_AFTER_POLLS, REMIND_INTERVAL_SECONDS; DEFAULT_ALERT_POLICY when absent. */
  readonly policy?: AlertPolicy;
  /** The integration's name (listIntegrations), when the cycle knew it: the messages show it. */
  readonly integrationName?: string;
  /** MASS_EVENT_MIN_COUNT and MASS_EVENT_FRACTION; the digest's defaults when absent. */
  readonly massEvent?: MassEventPolicy;
  /** The routes of the monitor configuration file (first match wins); none: everything goes to the default route. */
  readonly routes?: readonly Route[];
  /** The silences and maintenance windows of the monitor configuration file; nothing is muted when absent. */
  readonly muting?: MuteRules;
}

/** A notification as the outbox keeps it: with its id and the time it was committed. */
export interface PlannedNotification {
  readonly id: string;
  /** The route it goes to (core/routing.ts), whose outbox lane holds it: "default" when no route matches. */
  readonly destination: string;
  /** Epoch ms of the poll; the retry horizon counts from here. */
  readonly enqueuedAt: number;
  readonly notification: InstallationNotification | AlertNotification;
}

/** A transition with the group of its installation, for the per-transition log line. */
export interface PlannedTransition extends Transition {
  readonly groupRef: string;
}

/** One event of the poll's alert steps, sent or not, with the installation it is about. */
export interface PlannedAlertEvent extends ConditionEvent {
  readonly installationId: string;
  /** Set when a silence or maintenance window covered the installation at this poll: what muted it. */
  readonly mute?: MuteNote;
}

/**
 * True for the events a silence or maintenance window kept from being sent:
 * a firing that was muted. What ampersand_alerts_silenced_total counts and the
 * episode log marks. A reminder that waits is not one (it is sent when the mute
 * ends, if still due), nor is the recovery of a muted firing: nothing was sent
 * that it would close, so it was never owed.
 */
export const isSilenced = (e: PlannedAlertEvent): e is PlannedAlertEvent & { readonly mute: MuteNote } =>
  e.mute !== undefined && e.event.kind === 'fire' && !e.event.notify;

/** Where the alert states the poll started from came from (alert-states.ts `LoadedAlertStates`), or a baseline. */
export interface AlertStatesOrigin {
  readonly source: 'stored' | 'upgraded' | 'unreadable' | 'baseline';
  /** Why the stored states could not be read, with `unreadable`. */
  readonly reason?: string;
  /** Slots that could not be read and were taken from the snapshot. */
  readonly unreadableSlots: number;
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
  /** For a baseline, what already needs attention (its summary); empty otherwise: a poll's alerts are `alertItems`. */
  readonly alerts: readonly AlertItem[];
  /** The alert states after this poll, encoded; undefined when they are exactly as stored, so nothing is rewritten. */
  readonly alertStates: string | undefined;
  /** Where the alert states before this poll came from. */
  readonly alertStatesOrigin: AlertStatesOrigin;
  /** Every event of the alert steps, sent or not, in installation then condition order. */
  readonly alertEvents: readonly PlannedAlertEvent[];
  /** The sent events, as the items of the digest, worst first. */
  readonly alertItems: readonly AlertEventItem[];
  /** The counts and names the digest is made with. */
  readonly digest: DigestContext;
  /** The outbox entries to commit with the snapshot, in order. */
  readonly notifications: readonly PlannedNotification[];
  /**
   * The episode logs to write with the snapshot, per installation (an empty one is deleted): none
   * until completePollPlan records the events in the logs the poll job loaded.
   */
  readonly episodeLogs: ReadonlyMap<string, readonly Episode[]>;
  /** The routes the notifications were routed by, for completePollPlan; absent when there are none. */
  readonly routes?: readonly Route[];
}

/** The installation fields an alert item shows: from the listing, else (a removed installation) from the stored record. */
type ItemSource = Pick<InstallationRecord, 'groupRef' | 'groupName' | 'provider'> &
  Partial<Pick<InstallationState, 'consumerRef' | 'consumerName' | 'pausedReads'>>;

/** The digest item of one sent event. */
function alertItem(installationId: string, { condition, event }: ConditionEvent, source: ItemSource | undefined): AlertEventItem {
  const { consumerName = '', consumerRef = '', pausedReads = [] } = source ?? {};
  return {
    installationId,
    groupRef: source?.groupRef ?? '',
    groupName: source?.groupName ?? '',
    provider: source?.provider ?? '',
    condition,
    event: event.kind,
    ...(event.kind === 'resolve' ? { reason: event.reason } : {}),
    since: event.since,
    firedAt: event.firedAt,
    ...(event.kind === 'resolve' ? { endedAt: event.endedAt } : {}),
    ...(event.kind === 'fire' && event.deferred ? { deferred: true as const } : {}),
    ...(consumerName === '' ? {} : { consumerName }),
    ...(consumerRef === '' ? {} : { consumerRef }),
    ...(pausedReads.length === 0 ? {} : { pausedReads }),
  };
}

/**
 * The digests of a poll's items, one per route their installations go to (core/routing.ts), with their
 * outbox ids (integration, lineage, version, part: numbered across the routes, in lane order).
 */
export function alertNotifications(
  digest: DigestContext,
  items: readonly AlertEventItem[],
  commit: { readonly lineage: string; readonly version: number; readonly enqueuedAt: number },
  routes: readonly Route[] = [],
): PlannedNotification[] {
  const { projectId, integrationId } = digest;
  const groups = groupByRoute(routes, items, (it) => ({ ...it, projectId, integrationId }));
  const digests = groups.flatMap(({ route, items: routed }) =>
    buildAlertDigests(digest, routed, { ...(route.mention === undefined ? {} : { mention: route.mention }), integrationItems: items }).map((notification) => ({
      destination: route.name,
      notification,
    })),
  );
  return digests.map(({ destination, notification }, i) => ({
    id: notificationId(integrationId, commit.lineage, commit.version, i + 1),
    destination,
    enqueuedAt: commit.enqueuedAt,
    notification,
  }));
}

const byId = <T>(entries: Iterable<readonly [string, T]>): Map<string, T> => new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The alert steps of a poll that is not a baseline: each listed installation moved on, each one gone forgotten. */
function stepAlerts(
  before: AlertStates,
  listing: readonly InstallationState[],
  next: Snapshot,
  now: Date,
  policy: AlertPolicy,
  mutes: { readonly active: ActiveMutes; readonly integrationId: string; readonly projectId: string },
): { states: AlertStates; steps: [string, InstallationStep][]; muted: Map<string, MuteNote> } {
  const steps: [string, InstallationStep][] = [];
  const muted = new Map<string, MuteNote>();
  const { active, integrationId, projectId } = mutes;
  for (const listed of listing) {
    const record = next.get(listed.id);
    if (record === undefined) continue;
    const mute = active.rules.length === 0 ? undefined : findMute(active, alertSubject(listed.id, record, integrationId, projectId));
    if (mute !== undefined) muted.set(listed.id, muteNote(mute));
    steps.push([listed.id, nextInstallationAlerts(before.get(listed.id), readConditions(record, listed), now, policy, mute !== undefined)]);
  }
  // An installation no longer listed is not muted: its recovery is sent exactly when its firing was.
  for (const [id, alerts] of before) if (!next.has(id)) steps.push([id, forgetInstallationAlerts(alerts, now)]);
  const states = byId(steps.filter(([, step]) => !isAllOk(step.alerts)).map(([id, step]): [string, InstallationAlerts] => [id, step.alerts]));
  return { states, steps, muted };
}

/**
 * Plans the commit of one successful poll: diff the listing against the stored
 * snapshot, move the alert states on, and make the notifications, each with
 * its id (integration, lineage, version, part), which is the same every time
 * the same commit is planned. A baseline (nothing readable stored) sends its
 * summary split within the message budget, and starts the alert states from
 * the snapshot; any other poll sends one digest of the events it causes. An
 * unreadable stored state is planned like no stored state (a new baseline, a
 * new lineage), so a corrupt snapshot is replaced rather than frozen. Stored
 * alert states that are absent (the release before) or unreadable are taken
 * from the stored snapshot (loadAlertStates): nothing announced is announced
 * again, and its recovery still is. `now` is the poll's time.
 *
 * The items carry no failure details and no episode counts: the poll job
 * fetches those for the events this plan lists, then completes it.
 */
export function planPoll(
  stored: StoredPollState | undefined,
  listing: readonly InstallationState[],
  now: Date,
  ids: PollIds,
  options: PollPlanOptions = {},
): PollPlan {
  const { integrationId } = ids;
  const policy = options.policy ?? DEFAULT_ALERT_POLICY;
  const routes = options.routes ?? [];
  const projectId = listing[0]?.projectId || stored?.projectId || ids.projectId;
  const diff = diffSnapshots(stored?.snapshot, listing, now.getTime());
  const lineage = diff.baseline || !stored ? ids.newLineage() : stored.lineage;
  const version = (stored?.version ?? 0) + 1;
  const detectedAt = now.toISOString();
  const groupRef = (id: string): string => (diff.next.get(id) ?? diff.previous.get(id))?.groupRef ?? '';
  const common = {
    unreadable: stored?.unreadable === undefined ? undefined : { reason: stored.unreadable.reason },
    projectId,
    lineage,
    version,
    snapshot: diff.next,
    transitions: diff.transitions.map((t) => ({ ...t, groupRef: groupRef(t.installationId) })),
    ...(routes.length === 0 ? {} : { routes }),
  };
  const changed = (states: AlertStates): string | undefined => {
    const encoded = encodeAlertStates(states);
    return encoded === stored?.alertStates ? undefined : encoded;
  };
  const digestOf = (states: AlertStates): DigestContext => ({
    projectId,
    integrationId,
    ...(options.integrationName === undefined ? {} : { integrationName: options.integrationName }),
    detectedAt,
    installations: diff.next.size,
    firing: firingCounts(states),
    ...(options.massEvent === undefined ? {} : { massEvent: options.massEvent }),
  });

  if (diff.baseline || stored?.snapshot === undefined) {
    // A baseline announces what is bad in its summary: those conditions start as firing.
    const states = byId(initialAlertStates(diff.next, now));
    const alerts = summarizeBaseline(diff);
    // One summary per route: each route's channel hears of its own installations.
    const split = groupByRoute(routes, alerts, (it) => ({ ...it, projectId, integrationId })).flatMap(({ route, items }) =>
      splitNotifications({ kind: 'baseline', projectId, integrationId, detectedAt }, items).map((n) => ({ destination: route.name, n })),
    );
    return {
      ...common,
      baseline: true,
      alerts,
      alertStates: changed(states),
      alertStatesOrigin: { source: 'baseline', unreadableSlots: 0 },
      alertEvents: [],
      alertItems: [],
      episodeLogs: new Map(),
      digest: digestOf(states),
      notifications: split.map(({ destination, n }, i) => ({
        id: notificationId(integrationId, lineage, version, i + 1),
        destination,
        enqueuedAt: now.getTime(),
        notification: n,
      })),
    };
  }

  const loaded = loadAlertStates(stored.alertStates, stored.snapshot, now);
  // The mutes in force are worked out once per poll, at its time; each installation is then matched against them.
  const active = mutesAt(options.muting?.silences ?? [], options.muting?.windows ?? [], now);
  const { states, steps, muted } = stepAlerts(loaded.states, listing, diff.next, now, policy, { active, integrationId, projectId });
  const listed = new Map(listing.map((inst) => [inst.id, inst]));
  const alertEvents: PlannedAlertEvent[] = [];
  const items: AlertEventItem[] = [];
  for (const [installationId, step] of steps) {
    const source: ItemSource | undefined = listed.get(installationId) ?? diff.previous.get(installationId);
    const mute = muted.get(installationId);
    for (const event of step.events) {
      alertEvents.push({ installationId, ...event, ...(mute === undefined ? {} : { mute }) });
      if (event.event.notify) items.push(alertItem(installationId, event, source));
    }
  }
  const digest = digestOf(states);
  const notifications = alertNotifications(digest, items, { lineage, version, enqueuedAt: now.getTime() }, routes);
  return {
    ...common,
    baseline: false,
    alerts: [],
    alertStates: changed(states),
    alertStatesOrigin: { source: loaded.source, ...(loaded.reason === undefined ? {} : { reason: loaded.reason }), unreadableSlots: loaded.unreadableSlots },
    alertEvents,
    alertItems: [...items].sort(compareAlertItems),
    episodeLogs: new Map(),
    digest,
    notifications,
  };
}

/** Whether an item is one whose alert should say why: a failing operation that fires. */
export const wantsFailureDetails = (item: AlertEventItem): boolean => item.event === 'fire' && item.condition === 'operation_failing';

/**
 * The installations whose failure details the poll job looks up before it
 * commits: those with a failing operation that fires in this plan, once each.
 */
export function failureDetailsWanted(plan: Pick<PollPlan, 'alertItems'>): string[] {
  return [...new Set(plan.alertItems.filter(wantsFailureDetails).map((i) => i.installationId))];
}

/** Attaches to each firing failing operation the details found for its installation; the others are returned as they are. */
export function attachFailureDetails(items: readonly AlertEventItem[], details: ReadonlyMap<string, FailureDetails>): AlertEventItem[] {
  return items.map((item) => {
    const found = wantsFailureDetails(item) ? details.get(item.installationId) : undefined;
    return found === undefined ? item : { ...item, details: found };
  });
}

/** The installations whose episode logs a plan's events change (a fire or a resolve), once each: the poll job loads those. */
export function episodeInstallations(plan: Pick<PollPlan, 'alertEvents'>): string[] {
  return [...new Set(plan.alertEvents.filter((e) => e.event.kind !== 'remind').map((e) => e.installationId))];
}

/** The rule that muted a deferred firing, from its episode (the one that fired when it did). */
function heldBy(log: readonly Episode[] | undefined, item: AlertEventItem): AlertEventItem['heldBy'] {
  const silenced = log?.find((e) => e.condition === item.condition && e.firedAt === item.firedAt)?.silenced;
  if (silenced === undefined) return undefined;
  return { by: silenced.by, ...(silenced.reason === undefined ? {} : { reason: silenced.reason }) };
}

/** What the poll job looked up for a plan's events before committing it. */
export interface AlertExtras {
  /** Failure details by installation id (failureDetailsWanted); a look-up that failed is simply absent. */
  readonly details?: ReadonlyMap<string, FailureDetails>;
  /** The stored episode logs of episodeInstallations, by installation id; absent when they were not read (nothing is recorded then). */
  readonly episodes?: ReadonlyMap<string, readonly Episode[]>;
  /** The providers' display names by id (`GET /providers`), when they could be read: each item shows its provider's. */
  readonly providerNames?: ReadonlyMap<string, string>;
}

/**
 * The plan with what the poll job looked up: the failure details attached to
 * its items, its events recorded in the episode logs (episodeLogs, written
 * with the commit), each firing's "nth time this week", the rule that held a
 * deferred firing back, the providers' display names, and its notifications
 * made again from them (same ids). `now` is the poll's time.
 */
export function completePollPlan(plan: PollPlan, extras: AlertExtras, now: Date): PollPlan {
  if (plan.baseline) return plan;
  const details = extras.details ?? new Map<string, FailureDetails>();
  const recorded = extras.episodes === undefined ? undefined : recordEpisodes(extras.episodes, plan.alertEvents, details, now.getTime());
  const items = attachFailureDetails(plan.alertItems, details).map((item) => {
    const count = item.event === 'fire' ? recorded?.thisWeek.get(episodeKey(item.installationId, item.condition)) : undefined;
    const held = item.deferred ? heldBy(recorded?.logs.get(item.installationId), item) : undefined;
    const providerName = extras.providerNames?.get(item.provider);
    return {
      ...item,
      ...(count === undefined ? {} : { episodesThisWeek: count }),
      ...(held === undefined ? {} : { heldBy: held }),
      // A name that is only the id again says nothing more.
      ...(providerName === undefined || providerName === item.provider ? {} : { providerName }),
    };
  });
  return {
    ...plan,
    alertItems: items,
    episodeLogs: recorded?.logs ?? plan.episodeLogs,
    notifications: alertNotifications(plan.digest, items, { lineage: plan.lineage, version: plan.version, enqueuedAt: now.getTime() }, plan.routes),
  };
}
