/**
 * The alert state of one condition of one installation, and the one function
 * that moves it on: `nextAlertState(previous, observation, now, policy)`.
 * Pure: the caller stores the state it returns and acts on the event.
 *
 * Each installation has three conditions (CONDITIONS). Each condition goes
 *
 *   ok → pending → firing → resolving → ok
 *
 * - ok → pending on a bad poll; pending → firing after `alertAfterPolls`
 *   consecutive bad polls (with 1, ok → firing at once). The crossing fires.
 * - pending → ok on a good poll: a flap, which sends nothing.
 * - firing → resolving on a good poll; resolving → ok after
 *   `resolveAfterPolls` consecutive good polls (with 1, firing → ok at once).
 *   Reaching ok resolves.
 * - resolving → firing on a bad poll: a flap, which sends nothing.
 * - While firing, a bad poll reminds once `remindIntervalMs` has passed since
 *   the last message about it (0 turns reminders off).
 *
 * No observation (`reading: 'none'`) leaves the state exactly as it was and
 * causes nothing: that is how a failed poll, a value the spec does not know,
 * and an unreadable value are passed (readConditions), so they neither
 * advance nor reset a count. A caller whose poll failed may equally not call
 * at all.
 *
 * Silences and maintenance windows enter through the observation
 * (`muted: true`: see silences.ts for how to know). A muted alert is still
 * decided and returned, with `notify: false`, so the caller records it (the
 * episode log, the silenced counter) without sending it; the state remembers
 * that it was not sent (`notifiedAt: null`). The first bad poll that is no
 * longer muted then sends it (`deferred: true`): a silence that expires while
 * its condition still fires sends the alert then. Reminders wait while muted.
 * A recovery is sent exactly when its firing was sent, muted or not: it closes
 * a message the channel has seen, and one whose firing nobody saw would only
 * puzzle.
 */
import { UNREADABLE_VALUE, type InstallationState } from './installation.js';
import type { InstallationRecord } from './snapshot.js';

export const CONDITIONS = ['unhealthy', 'operation_failing', 'bad_credentials'] as const;
export type Condition = (typeof CONDITIONS)[number];

/** What one poll says about one condition. */
export type Reading = 'bad' | 'good' | 'none';

export interface Observation {
  readonly reading: Reading;
  /** True when a silence or a maintenance window covers this installation at `now`: decide, record, but do not send. */
  readonly muted: boolean;
}

/** A failed poll, or a value that says nothing: the state stays as it is. */
export const NO_OBSERVATION: Observation = { reading: 'none', muted: false };

export interface AlertPolicy {
  /** Consecutive bad polls before a condition fires; at least 1. */
  readonly alertAfterPolls: number;
  /** Consecutive good polls before a firing condition resolves; at least 1. */
  readonly resolveAfterPolls: number;
  /** How long a condition fires before a reminder, in ms; 0 sends none. */
  readonly remindIntervalMs: number;
}

/** The defaults of ALERT_AFTER_POLLS, RESOLVE_AFTER_POLLS and REMIND_INTERVAL_SECONDS (14,400 s). */
export const DEFAULT_ALERT_POLICY: AlertPolicy = { alertAfterPolls: 2, resolveAfterPolls: 2, remindIntervalMs: 14_400_000 };

/**
 * The state of one condition. Times are epoch ms (the state is stored often,
 * as numbers). `since` is the first bad poll of the episode; it is null for
 * an episode carried over from the release before this state existed (see
 * alert-states.ts), which only knows that the condition was firing at
 * `firedAt`, the upgrade. `notifiedAt` is when the firing or the last reminder
 * was sent, or null while the firing has not been sent (it was muted).
 */
export type AlertState =
  | { readonly status: 'ok' }
  | { readonly status: 'pending'; readonly since: number; readonly badPolls: number }
  | { readonly status: 'firing'; readonly since: number | null; readonly firedAt: number; readonly notifiedAt: number | null }
  | {
      readonly status: 'resolving';
      readonly since: number | null;
      readonly firedAt: number;
      readonly notifiedAt: number | null;
      /** The first good poll of this streak: when the problem ended, if it resolves. */
      readonly goodSince: number;
      readonly goodPolls: number;
    };

export type AlertStatus = AlertState['status'];

export const OK: AlertState = { status: 'ok' };

/** What a step causes. Every event but `none` is recorded; only those with `notify: true` are sent. */
export type AlertEvent =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'fire';
      /** False when muted: record it, do not send it. */
      readonly notify: boolean;
      /** True when the firing was muted when it crossed the threshold and is sent now that it is not. */
      readonly deferred: boolean;
      readonly since: number | null;
      readonly firedAt: number;
    }
  | { readonly kind: 'remind'; readonly notify: true; readonly since: number | null; readonly firedAt: number }
  | {
      readonly kind: 'resolve';
      /** True exactly when the firing was sent. */
      readonly notify: boolean;
      /** `recovered`: good polls; `removed`: the installation is no longer listed (forgetAlertState). */
      readonly reason: 'recovered' | 'removed';
      readonly since: number | null;
      readonly firedAt: number;
      /** When the problem ended: the first good poll of the resolving streak, or the poll that no longer listed it. */
      readonly endedAt: number;
    };

export interface AlertStep {
  readonly state: AlertState;
  readonly event: AlertEvent;
}

const NOTHING: AlertEvent = { kind: 'none' };

/**
 * The next state of one condition after one observation at `now`, and the
 * event it causes (see the module comment for the machine). `none` returns
 * `previous` itself and no event.
 */
export function nextAlertState(previous: AlertState, observation: Observation, now: Date, policy: AlertPolicy): AlertStep {
  const { reading, muted } = observation;
  if (reading === 'none') return { state: previous, event: NOTHING };
  const t = now.getTime();
  switch (previous.status) {
    case 'ok':
      if (reading === 'good') return { state: previous, event: NOTHING };
      return countBad(t, 1, t, muted, policy);
    case 'pending':
      // A flap: the episode never fired, so nothing was said about it.
      if (reading === 'good') return { state: OK, event: NOTHING };
      return countBad(previous.since, previous.badPolls + 1, t, muted, policy);
    case 'firing':
      if (reading === 'good') return countGood(previous, t, 1, policy);
      return stillFiring(previous, t, muted, policy);
    case 'resolving': {
      const { since, firedAt, notifiedAt } = previous;
      // A flap back: the firing stands, and was already said (or is still owed).
      if (reading === 'bad') return { state: { status: 'firing', since, firedAt, notifiedAt }, event: NOTHING };
      return countGood(previous, previous.goodSince, previous.goodPolls + 1, policy);
    }
  }
}

function countBad(since: number, badPolls: number, t: number, muted: boolean, policy: AlertPolicy): AlertStep {
  if (badPolls < policy.alertAfterPolls) return { state: { status: 'pending', since, badPolls }, event: NOTHING };
  return {
    state: { status: 'firing', since, firedAt: t, notifiedAt: muted ? null : t },
    event: { kind: 'fire', notify: !muted, deferred: false, since, firedAt: t },
  };
}

function countGood(
  firing: { readonly since: number | null; readonly firedAt: number; readonly notifiedAt: number | null },
  goodSince: number,
  goodPolls: number,
  policy: AlertPolicy,
): AlertStep {
  const { since, firedAt, notifiedAt } = firing;
  if (goodPolls < policy.resolveAfterPolls) return { state: { status: 'resolving', since, firedAt, notifiedAt, goodSince, goodPolls }, event: NOTHING };
  return { state: OK, event: { kind: 'resolve', notify: notifiedAt !== null, reason: 'recovered', since, firedAt, endedAt: goodSince } };
}

function stillFiring(previous: Extract<AlertState, { status: 'firing' }>, t: number, muted: boolean, policy: AlertPolicy): AlertStep {
  if (muted) return { state: previous, event: NOTHING };
  const { since, firedAt, notifiedAt } = previous;
  if (notifiedAt === null) {
    return { state: { ...previous, notifiedAt: t }, event: { kind: 'fire', notify: true, deferred: true, since, firedAt } };
  }
  if (policy.remindIntervalMs > 0 && t - notifiedAt >= policy.remindIntervalMs) {
    return { state: { ...previous, notifiedAt: t }, event: { kind: 'remind', notify: true, since, firedAt } };
  }
  return { state: previous, event: NOTHING };
}

/**
 * The installation is no longer listed: its condition goes back to ok, and a
 * firing (or resolving) one resolves with reason `removed` at `now`, sent when
 * its firing was sent, as alert-policy.ts resolves a removed installation that
 * was bad, so that no problem is left open in the channel. A pending one just
 * ends.
 */
export function forgetAlertState(previous: AlertState, now: Date): AlertStep {
  if (previous.status === 'ok' || previous.status === 'pending') return { state: OK, event: NOTHING };
  const { since, firedAt, notifiedAt } = previous;
  return { state: OK, event: { kind: 'resolve', notify: notifiedAt !== null, reason: 'removed', since, firedAt, endedAt: now.getTime() } };
}

/** What one poll says about each condition of one installation. */
export type ConditionReadings = Readonly<Record<Condition, Reading>>;

/** The status fields of a listed installation (core/installation.ts), before the diff keeps a stored value over an unreadable one. */
export type ListedStatuses = Pick<InstallationState, 'healthStatus' | 'lastOperationStatus' | 'connectionStatus'>;

/**
 * What an installation's record in the next snapshot says about each
 * condition. The operation is judged on its settled status, so `in_progress`
 * stays transparent: it reads as whatever settled before it (failure,
 * in_progress, failure is three bad polls; success, in_progress, success
 * three good ones). Good and bad are those of alert-policy.ts: unhealthy /
 * healthy, failure / success, bad_credentials / working or created. Anything
 * else (a value the spec does not know, `unknown` before any operation ran)
 * is no observation.
 *
 * `listed` is the installation as this poll listed it. An unreadable status
 * there is no observation either: the record holds the stored value instead
 * (diff.ts), which must not count as a poll that saw it again. Without
 * `listed` (reading a stored snapshot) only the record is judged.
 */
export function readConditions(record: InstallationRecord, listed?: ListedStatuses): ConditionReadings {
  const unreadable = (value: string | undefined): boolean => value === UNREADABLE_VALUE;
  return {
    unhealthy: unreadable(listed?.healthStatus) ? 'none' : reading(record.healthStatus, ['unhealthy'], ['healthy']),
    operation_failing: unreadable(listed?.lastOperationStatus) ? 'none' : reading(record.settledOperationStatus, ['failure'], ['success']),
    bad_credentials: unreadable(listed?.connectionStatus) ? 'none' : reading(record.connectionStatus, ['bad_credentials'], ['working', 'created']),
  };
}

function reading(value: string, bad: readonly string[], good: readonly string[]): Reading {
  if (bad.includes(value)) return 'bad';
  return good.includes(value) ? 'good' : 'none';
}

/** The three conditions of one installation; an installation with no stored entry has all three ok. */
export type InstallationAlerts = Readonly<Record<Condition, AlertState>>;

export const ALL_OK: InstallationAlerts = { unhealthy: OK, operation_failing: OK, bad_credentials: OK };

export interface ConditionEvent {
  readonly condition: Condition;
  readonly event: Exclude<AlertEvent, { kind: 'none' }>;
}

export interface InstallationStep {
  readonly alerts: InstallationAlerts;
  /** The events of this poll, in CONDITIONS order; empty when nothing happened. */
  readonly events: readonly ConditionEvent[];
}

function collect(steps: Readonly<Record<Condition, AlertStep>>): InstallationStep {
  const events: ConditionEvent[] = [];
  for (const condition of CONDITIONS) {
    const { event } = steps[condition];
    if (event.kind !== 'none') events.push({ condition, event });
  }
  return {
    alerts: { unhealthy: steps.unhealthy.state, operation_failing: steps.operation_failing.state, bad_credentials: steps.bad_credentials.state },
    events,
  };
}

/**
 * One successful poll of one listed installation: each condition moved on
 * with nextAlertState from what the poll read of it (readConditions).
 * `muted` is whether a silence or a maintenance window covers the
 * installation at `now`. `previous` is undefined for an installation with no
 * stored entry (all ok).
 */
export function nextInstallationAlerts(
  previous: InstallationAlerts | undefined,
  readings: ConditionReadings,
  now: Date,
  policy: AlertPolicy,
  muted: boolean,
): InstallationStep {
  const before = previous ?? ALL_OK;
  const step = (c: Condition): AlertStep => nextAlertState(before[c], { reading: readings[c], muted }, now, policy);
  return collect({ unhealthy: step('unhealthy'), operation_failing: step('operation_failing'), bad_credentials: step('bad_credentials') });
}

/** An installation that is no longer listed: forgetAlertState for each condition. */
export function forgetInstallationAlerts(previous: InstallationAlerts | undefined, now: Date): InstallationStep {
  const before = previous ?? ALL_OK;
  const step = (c: Condition): AlertStep => forgetAlertState(before[c], now);
  return collect({ unhealthy: step('unhealthy'), operation_failing: step('operation_failing'), bad_credentials: step('bad_credentials') });
}

/** True when every condition is ok: such an installation needs no stored entry. */
export const isAllOk = (alerts: InstallationAlerts): boolean => CONDITIONS.every((c) => alerts[c].status === 'ok');
