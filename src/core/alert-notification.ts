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
 * `buildAlertDigests` here is the first, simple version (every notified event
 * in one message, in a fixed order); the size budget, "+N more" and mass
 * events refine it without changing the types' meaning.
 */
import type { Condition } from './alert-state.js';
import type { FailureDetails } from './operation.js';

/** What happened to one condition of one installation in this poll. */
export type AlertEventKind = 'fire' | 'remind' | 'resolve';

export interface AlertEventItem {
  readonly installationId: string;
  readonly groupRef: string;
  readonly groupName: string;
  /** The provider's id as Ampersand names it (`salesforce`). */
  readonly provider: string;
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
}

/**
 * The notifications of one poll's notified events: none for no event, else
 * one digest with every event, worst first.
 */
export function buildAlertDigests(context: DigestContext, items: readonly AlertEventItem[]): AlertNotification[] {
  if (items.length === 0) return [];
  const { integrationName, ...rest } = context;
  return [{ kind: 'alerts', ...rest, ...(integrationName === undefined ? {} : { integrationName }), items: [...items].sort(compareAlertItems), omitted: 0 }];
}
