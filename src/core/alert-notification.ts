/**
 * The notification of the per-condition alert state machine (issue 8): one
 * message per integration (and, later, per route) and poll, made from the
 * events of that poll's state steps (alert-state.ts), worst first.
 *
 * This module is the contract between the two halves of that work: the poll
 * plan turns state steps into `AlertEventItem`s and calls `buildAlertDigests`;
 * the Slack renderer turns an `AlertNotification` into one message. It is
 * plain JSON, because it is stored in the outbox (outbox-entry.ts) and read
 * back by a later release: add optional fields, never change one's meaning.
 *
 * `buildAlertDigests` makes at most one message per integration and poll: the
 * events worst first, as many as fit the size budget (alertDigestLimits,
 * alertItemCost), then "+N more" (`omitted`). When many installations flip at
 * once (a mass event: MassEventPolicy), their events become one summary
 * (`mass`: counts by condition and provider, a sample) instead of one line
 * each. `mergeAlertNotifications` folds a digest that is still queued into the
 * next one of the same integration, so a flapping integration cannot grow the
 * outbox faster than Slack drains it.
 */
import type { Condition } from './alert-state.js';
import type { FailureDetails } from './operation.js';
import { MESSAGE_LIMITS, escapeMrkdwn, truncate } from './slack-blocks.js';

/** What happened to one condition of one installation in this poll. */
export type AlertEventKind = 'fire' | 'remind' | 'resolve';

export interface AlertEventItem {
  readonly installationId: string;
  readonly groupRef: string;
  readonly groupName: string;
  /** The provider's id as Ampersand names it (`salesforce`). */
  readonly provider: string;
  /** The provider's display name from `GET /providers` (`HubSpot`), when it could be read and differs from the id. */
  readonly providerName?: string;
  readonly condition: Condition;
  readonly event: AlertEventKind;
  /** On `resolve`: recovered (good polls), or removed (no longer listed). */
  readonly reason?: 'recovered' | 'removed';
  /** Epoch ms of the first bad poll of the episode; null when unknown (carried over from the release before). */
  readonly since: number | null;
  /** Epoch ms when the condition fired (crossed ALERT_AFTER_POLLS). */
  readonly firedAt: number;
  /** On `resolve`: epoch ms when the problem ended. */
  readonly endedAt?: number;
  /** True when a firing was held back by a silence or maintenance window and is sent now. */
  readonly deferred?: true;
  /** With `deferred`: the rule that held it back (`silences[0]`) and its reason, from the episode log, when it was read. */
  readonly heldBy?: { readonly by: string; readonly reason?: string };
  /** The connection's consumer, for `bad_credentials` ("the customer must reconnect"); absent when unknown. */
  readonly consumerName?: string;
  readonly consumerRef?: string;
  /** Read objects paused (`disabled: true`) in the installation's config. */
  readonly pausedReads?: readonly string[];
  /** The failing operation and its first error lines, for `operation_failing` (fetched softly: may be absent). */
  readonly details?: FailureDetails;
  /** How many episodes of this condition began in the last 7 days, this one included ("3rd time this week"). */
  readonly episodesThisWeek?: number;
}

export interface AlertNotification {
  readonly kind: 'alerts';
  readonly projectId: string;
  readonly integrationId: string;
  /** The integration's name from listIntegrations, when known; messages show it beside the id. */
  readonly integrationName?: string;
  /** ISO time of the poll. */
  readonly detectedAt: string;
  /** Installations of the integration in this poll: "3 of 120 installations". */
  readonly installations: number;
  /** Installations firing per condition after this poll. */
  readonly firing: Readonly<Record<Condition, number>>;
  /** The events shown, worst first. */
  readonly items: readonly AlertEventItem[];
  /** Events of this poll not shown for the size budget ("+N more"). */
  readonly omitted: number;
  /**
   * Set when many installations flipped at once (MassEventPolicy): one summary
   * per kind of flip (fire, then resolve), whose events are not in `items`.
   * Absent in a digest without one, and in digests stored before it existed.
   */
  readonly mass?: readonly MassEvent[];
  /** Set when queued digests of several polls were merged into this one (mergeAlertNotifications). */
  readonly coalesced?: CoalescedDigests;
  /**
   * The Slack mention of the digest's route (monitor-config.ts `mention`), when it has one. The
   * renderer shows it only when the digest fires something (digestMentions): never on a digest
   * of recoveries or reminders alone.
   */
  readonly mention?: string;
}

/** True when a digest's mention is shown: it fires a condition, one by one or as a mass event. */
export function digestMentions(n: AlertNotification): n is AlertNotification & { readonly mention: string } {
  return n.mention !== undefined && (n.items.some((it) => it.event === 'fire') || (n.mass ?? []).some((m) => m.event === 'fire'));
}

/** When many installations flip in one poll, e.g. a provider outage. */
export interface MassEventPolicy {
  /** At least this many installations flip (MASS_EVENT_MIN_COUNT)… */
  readonly minCount: number;
  /** …and at least this share of the integration's installations (MASS_EVENT_FRACTION, 0 to 1). */
  readonly fraction: number;
}

/** The defaults of MASS_EVENT_MIN_COUNT and MASS_EVENT_FRACTION. */
export const DEFAULT_MASS_EVENT_POLICY: MassEventPolicy = { minCount: 10, fraction: 0.25 };

/** The flips a mass event is made of: firings, or recoveries. */
export type MassEventKind = Extract<AlertEventKind, 'fire' | 'resolve'>;

export interface ProviderCount {
  readonly provider: string;
  readonly installations: number;
}

/** Many installations that flipped the same way in one poll, as one summary. */
export interface MassEvent {
  readonly event: MassEventKind;
  /** Installations with an event of this kind (each counted once). */
  readonly installations: number;
  /** Events of this kind per condition: how many installations it flipped for. */
  readonly conditions: Readonly<Partial<Record<Condition, number>>>;
  /** Installations per provider, most first, at most massEventShown.providers of them. */
  readonly providers: readonly ProviderCount[];
  /** Installations of the providers not listed in `providers`. */
  readonly otherProviders: number;
  /** A few of its events, worst first, one per installation. */
  readonly sample: readonly AlertEventItem[];
  /** The earliest first bad poll among its events (epoch ms); null when none is known. */
  readonly since: number | null;
  /** For recoveries: the latest time one of its problems ended (epoch ms). */
  readonly endedAt?: number;
}

/** How many queued digests a merged one stands for. */
export interface CoalescedDigests {
  /** Digests (polls) merged into this one, this one included. */
  readonly digests: number;
  /** `detectedAt` of the oldest of them. */
  readonly firstDetectedAt: string;
}

/** How much of a mass event a message lists. */
export const massEventShown = { providers: 10, sample: 5 } as const;

/**
 * The size budget of one digest. The renderer shows each item in at most
 * `alertItemCost(item)` characters of block text, and the parts of the message
 * that are not items (header, counts, links, footer) in at most `frameText`;
 * a mass event's summary in at most `massEventCost(mass)`. The builder keeps
 * the sum within Slack's block-text budget (MESSAGE_LIMITS.blockText). Since
 * an item costs at least alertItemFrameText, a digest has at most 15 items,
 * few enough blocks for Slack's 50 even at three blocks an item.
 */
export const alertDigestLimits = {
  frameText: 3000,
  blockText: MESSAGE_LIMITS.blockText,
} as const;

/** Block text of one item besides its values: labels, emoji, the condition's words, two date tokens, the remedy line. */
export const alertItemFrameText = 450;

/** A value as a renderer shows it at most: cut to `max`, then escaped for mrkdwn (which may lengthen it). */
const shownLength = (value: string | undefined, max: number = MESSAGE_LIMITS.value): number =>
  value === undefined ? 0 : escapeMrkdwn(truncate(value, max)).length;

/**
 * The most block text a renderer may use for one item: its values, cut and
 * escaped, and alertItemFrameText; never more than one section
 * (MESSAGE_LIMITS.sectionText), which a renderer cuts to anyway. A renderer
 * that shows more of an item than this must cut it.
 */
export function alertItemCost(item: AlertEventItem): number {
  let cost = alertItemFrameText;
  for (const value of [item.installationId, item.groupRef, item.groupName, item.provider, item.consumerName, item.consumerRef]) cost += shownLength(value);
  // The provider's display name is shown three times at most (headline, facts, remedy), cut to 60.
  if (item.providerName !== undefined) cost += 3 * (shownLength(item.providerName, 60) + 4);
  // "held back by maintenance window maintenance[12] (reason) until now": the rule cut to 60, the reason to 120.
  if (item.heldBy !== undefined) cost += 100 + shownLength(item.heldBy.by, 60) + shownLength(item.heldBy.reason, 120);
  for (const read of item.pausedReads ?? []) cost += shownLength(read) + 2;
  const details = item.details;
  if (details !== undefined) {
    cost += shownLength(details.operationId) + shownLength(details.actionType) + shownLength(details.result, 300) + shownLength(details.time);
    for (const line of details.errorLines) cost += shownLength(line, 300) + 4;
  }
  return Math.min(cost, MESSAGE_LIMITS.sectionText);
}

/** Block text of a mass event's summary besides its provider names and sample. */
const massEventFrameText = 900;

/** The most block text a renderer may use for the summary of a mass event (see alertDigestLimits). */
export function massEventCost(mass: MassEvent): number {
  let cost = massEventFrameText;
  for (const p of mass.providers) cost += shownLength(p.provider) + 20;
  for (const it of mass.sample) cost += shownLength(it.installationId) + shownLength(it.groupName) + shownLength(it.groupRef) + 20;
  return cost;
}

/** True when `flipped` installations of `installations` flipping at once are a mass event. */
export function isMassEvent(flipped: number, installations: number, policy: MassEventPolicy): boolean {
  return flipped > 0 && flipped >= policy.minCount && flipped >= policy.fraction * installations;
}

/** The severity order of the digest: firings before reminders before recoveries, then condition, then installation. */
const EVENT_ORDER: Readonly<Record<AlertEventKind, number>> = { fire: 0, remind: 1, resolve: 2 };
const CONDITION_ORDER: Readonly<Record<Condition, number>> = { bad_credentials: 0, unhealthy: 1, operation_failing: 2 };

export function compareAlertItems(a: AlertEventItem, b: AlertEventItem): number {
  return (
    EVENT_ORDER[a.event] - EVENT_ORDER[b.event] ||
    CONDITION_ORDER[a.condition] - CONDITION_ORDER[b.condition] ||
    (a.installationId < b.installationId ? -1 : a.installationId > b.installationId ? 1 : 0)
  );
}

export interface DigestContext {
  readonly projectId: string;
  readonly integrationId: string;
  readonly integrationName?: string;
  readonly detectedAt: string;
  readonly installations: number;
  readonly firing: Readonly<Record<Condition, number>>;
  /** When a poll is a mass event; DEFAULT_MASS_EVENT_POLICY when absent. */
  readonly massEvent?: MassEventPolicy;
}

/** One mass event of `events` (all of one kind, sorted worst first). */
function summarizeMassEvent(event: MassEventKind, events: readonly AlertEventItem[]): MassEvent {
  const conditions: Partial<Record<Condition, number>> = {};
  const byProvider = new Map<string, Set<string>>();
  const sample: AlertEventItem[] = [];
  const sampled = new Set<string>();
  let since: number | null = null;
  let endedAt: number | undefined;
  for (const it of events) {
    conditions[it.condition] = (conditions[it.condition] ?? 0) + 1;
    const ids = byProvider.get(it.provider) ?? new Set<string>();
    ids.add(it.installationId);
    byProvider.set(it.provider, ids);
    if (!sampled.has(it.installationId) && sample.length < massEventShown.sample) {
      sampled.add(it.installationId);
      sample.push(it);
    }
    if (it.since !== null && (since === null || it.since < since)) since = it.since;
    if (it.endedAt !== undefined && (endedAt === undefined || it.endedAt > endedAt)) endedAt = it.endedAt;
  }
  const providers = [...byProvider]
    .map(([provider, ids]) => ({ provider, installations: ids.size }))
    .sort((a, b) => b.installations - a.installations || (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0));
  const listed = providers.slice(0, massEventShown.providers);
  const installations = new Set(events.map((it) => it.installationId)).size;
  return {
    event,
    installations,
    conditions,
    providers: listed,
    otherProviders: providers.slice(massEventShown.providers).reduce((n, p) => n + p.installations, 0),
    sample,
    since,
    ...(endedAt === undefined ? {} : { endedAt }),
  };
}

/**
 * The first items of `sorted` that fit `textBudget` (alertItemCost), in order: the worst are shown, and the first one
 * that does not fit ends the list (a later, smaller one is not shown in its
 * place, which would break the order). The first item is always shown.
 */
function fitItems(sorted: readonly AlertEventItem[], textBudget: number): { items: AlertEventItem[]; omitted: number } {
  const items: AlertEventItem[] = [];
  let used = 0;
  for (const it of sorted) {
    const cost = alertItemCost(it);
    if (items.length > 0 && used + cost > textBudget) break;
    items.push(it);
    used += cost;
  }
  return { items, omitted: sorted.length - items.length };
}

/** What the items of a digest may use: the block-text budget less the frame, the mass summaries and the mention. */
const itemTextBudget = (mass: readonly MassEvent[], mention: string | undefined): number =>
  alertDigestLimits.blockText - alertDigestLimits.frameText - mass.reduce((n, m) => n + massEventCost(m), 0) - (mention?.length ?? 0);

/** How a digest of part of an integration's events (one route's) is made. */
export interface DigestOptions {
  /** The Slack mention of the route, shown when the digest fires something. */
  readonly mention?: string;
  /**
   * Every notified event of the integration in this poll, when `items` are only one route's: a mass
   * event is judged on the integration (a provider outage split across routes is still one), and
   * each route's digest then summarizes its share of it. `items` when absent.
   */
  readonly integrationItems?: readonly AlertEventItem[];
}

/**
 * The notifications of one poll's notified events: none for no event, else
 * exactly one digest. When the installations with a `fire` event (or,
 * separately, a `resolve` event) are a mass event (`context.massEvent`), those
 * events become one summary in `mass` and have no item of their own; the other
 * events are items, worst first (compareAlertItems), as many as fit the size
 * budget, and the rest are counted in `omitted`.
 */
export function buildAlertDigests(context: DigestContext, items: readonly AlertEventItem[], options: DigestOptions = {}): AlertNotification[] {
  if (items.length === 0) return [];
  const { integrationName, massEvent: policy = DEFAULT_MASS_EVENT_POLICY, ...rest } = context;
  const { mention, integrationItems = items } = options;
  const sorted = [...items].sort(compareAlertItems);
  const mass: MassEvent[] = [];
  let remaining = sorted;
  for (const event of ['fire', 'resolve'] as const) {
    const flips = remaining.filter((it) => it.event === event);
    const allFlips = new Set(integrationItems.filter((it) => it.event === event).map((it) => it.installationId)).size;
    if (flips.length === 0 || !isMassEvent(allFlips, context.installations, policy)) continue;
    mass.push(summarizeMassEvent(event, flips));
    remaining = remaining.filter((it) => it.event !== event);
  }
  const shown = fitItems(remaining, itemTextBudget(mass, mention));
  return [
    {
      kind: 'alerts',
      ...rest,
      ...(integrationName === undefined ? {} : { integrationName }),
      items: shown.items,
      omitted: shown.omitted,
      ...(mass.length === 0 ? {} : { mass }),
      ...(mention === undefined ? {} : { mention }),
    },
  ];
}

const itemKey = (it: AlertEventItem): string => `${it.installationId}\u0000${it.condition}\u0000${it.event}`;

/** Two mass events of the same kind as one: counts added, providers and samples merged, the widest time span. */
function mergeMassEvents(a: MassEvent, b: MassEvent): MassEvent {
  const conditions: Partial<Record<Condition, number>> = { ...a.conditions };
  for (const [c, n] of Object.entries(b.conditions) as [Condition, number][]) conditions[c] = (conditions[c] ?? 0) + n;
  const byProvider = new Map<string, number>();
  for (const p of [...a.providers, ...b.providers]) byProvider.set(p.provider, (byProvider.get(p.provider) ?? 0) + p.installations);
  const providers = [...byProvider]
    .map(([provider, installations]) => ({ provider, installations }))
    .sort((x, y) => y.installations - x.installations || (x.provider < y.provider ? -1 : x.provider > y.provider ? 1 : 0));
  const sample: AlertEventItem[] = [];
  for (const it of [...a.sample, ...b.sample].sort(compareAlertItems)) {
    if (sample.length < massEventShown.sample && !sample.some((s) => s.installationId === it.installationId)) sample.push(it);
  }
  const since = a.since === null ? b.since : b.since === null ? a.since : Math.min(a.since, b.since);
  const endedAt = a.endedAt === undefined ? b.endedAt : b.endedAt === undefined ? a.endedAt : Math.max(a.endedAt, b.endedAt);
  return {
    event: a.event,
    // Installations counted once per poll: one that flipped in both polls is counted twice.
    installations: a.installations + b.installations,
    conditions,
    providers: providers.slice(0, massEventShown.providers),
    otherProviders: a.otherProviders + b.otherProviders + providers.slice(massEventShown.providers).reduce((n, p) => n + p.installations, 0),
    sample,
    since,
    ...(endedAt === undefined ? {} : { endedAt }),
  };
}

/**
 * One digest for two of the same integration and project: `older`, still
 * queued and not sent, and `newer`, of a later poll. It reads as one message
 * covering both polls: the newer poll's counts (installations, firing,
 * detectedAt, name), the events of both, worst first within the size budget
 * (the rest counted in `omitted`, with what either had omitted), and the mass
 * events of both, one per kind. For one installation and condition, a newer
 * event of a kind replaces the older one of that kind, and a reminder is left
 * out when the message has the firing itself. `coalesced` counts the polls
 * merged since the oldest. Undefined when they are not of one integration and
 * project: those are never merged.
 */
export function mergeAlertNotifications(older: AlertNotification, newer: AlertNotification): AlertNotification | undefined {
  if (older.projectId !== newer.projectId || older.integrationId !== newer.integrationId) return undefined;
  const byKey = new Map<string, AlertEventItem>();
  for (const it of [...older.items, ...newer.items]) byKey.set(itemKey(it), it);
  const firing = new Set([...byKey.values()].filter((it) => it.event === 'fire').map((it) => `${it.installationId}\u0000${it.condition}`));
  const items = [...byKey.values()].filter((it) => it.event !== 'remind' || !firing.has(`${it.installationId}\u0000${it.condition}`)).sort(compareAlertItems);
  const mass: MassEvent[] = [];
  for (const event of ['fire', 'resolve'] as const) {
    const [a, b] = [older.mass?.find((m) => m.event === event), newer.mass?.find((m) => m.event === event)];
    const merged = a !== undefined && b !== undefined ? mergeMassEvents(a, b) : (a ?? b);
    if (merged !== undefined) mass.push(merged);
  }
  // Both are of one route (the outbox merges only within an order key, which holds the route).
  const mention = newer.mention ?? older.mention;
  const shown = fitItems(items, itemTextBudget(mass, mention));
  const integrationName = newer.integrationName ?? older.integrationName;
  return {
    kind: 'alerts',
    projectId: newer.projectId,
    integrationId: newer.integrationId,
    ...(integrationName === undefined ? {} : { integrationName }),
    detectedAt: newer.detectedAt,
    installations: newer.installations,
    firing: newer.firing,
    items: shown.items,
    omitted: older.omitted + newer.omitted + shown.omitted,
    ...(mass.length === 0 ? {} : { mass }),
    coalesced: {
      digests: (older.coalesced?.digests ?? 1) + (newer.coalesced?.digests ?? 1),
      firstDetectedAt: older.coalesced?.firstDetectedAt ?? older.detectedAt,
    },
    ...(mention === undefined ? {} : { mention }),
  };
}
