/**
 * When the monitor itself cannot read Ampersand, on-call gets one message
 * about that, not one per installation, and one more when it can read again.
 *
 * - A 401 or 403 is a configuration fault: the API key is wrong or may not
 *   read the project. It opens the upstream alert at once.
 * - Any other failure opens it once K consecutive cycles had no successful
 *   poll at all ("upstream degraded"). A cycle with one success is a good
 *   cycle: the API answers, and per-integration trouble shows per integration.
 * - The first successful poll closes it; a configuration fault only when the
 *   integration that raised it polls successfully, so that one integration
 *   refused with 403 while others succeed does not flap the alert every cycle
 *   (a refused discovery, which no poll repeats, by any successful poll).
 * - One integration that fails K consecutive cycles while the project-wide
 *   alert is closed (the others succeed) gets its own alert ("cannot read
 *   integration X"), and its own recovery at its next successful poll. So does
 *   one that fails while the open project-wide alert is a configuration fault
 *   of another integration and other integrations are read fine. Otherwise a
 *   project-wide alert covers every integration: while it is open, or when an
 *   event opens or closes it, no per-integration message is sent for that event.
 *
 * Each message says since when: the state keeps when the failing streak began
 * (the event's `atMs`), and a recovery carries it too, for "down for 2 h 13 m".
 *
 * Pure: the state is passed in and returned; the caller stores it atomically
 * with the notification.
 */
import type { PollErrorReason } from './errors/ampersand-api-error.js';

/**
 * Labels the cycle uses for failures that concern no single integration (the
 * discovery call, an internal error of the cycle itself). They count for the
 * project-wide alert only, never as an integration of their own.
 */
export const PROJECT_WIDE_LABELS = { discovery: '_discovery', cycle: '_cycle' } as const;

export interface UpstreamState {
  readonly down: boolean;
  /** Why the alert is open: shown in /readyz and in the messages. Empty when up. */
  readonly reason: string;
  /** True while the open alert is a configuration fault (401/403). */
  readonly configurationError: boolean;
  /** The integration whose 401/403 opened (or took over) the alert. */
  readonly configurationErrorIntegration: string;
  readonly failedCycles: number;
  readonly lastFailedCycle: string;
  readonly lastSuccessCycle: string;
  /**
   * Integrations whose last poll failed (other than with 401/403), by id; an
   * integration leaves the map at its next successful poll. State stored by a
   * release without it reads as `{}`.
   */
  readonly integrations: Readonly<Record<string, IntegrationFailures>>;
  /**
   * Epoch ms of the first failure of the current streak of cycles without a
   * success, kept while the alert it opened is open; absent when polls succeed,
   * and in state stored before it existed (messages then say the detection time).
   */
  readonly failingSinceMs?: number;
  /** The kind of the last failure that opened or took over the alert, for the message's remedy. */
  readonly cause?: PollErrorReason;
}

export interface IntegrationFailures {
  readonly failedCycles: number;
  readonly lastFailedCycle: string;
  /** True while this integration's own alert is open. */
  readonly down: boolean;
  readonly reason: string;
  /**
   * When a cycle first found this integration no longer listed (ms since the
   * epoch); absent while it is listed, and in state stored before this field
   * existed, which then reads as "listed until the next cycle says otherwise".
   */
  readonly missingSinceMs?: number;
  /** Epoch ms of this integration's first failed poll of the streak; absent in state stored before it existed. */
  readonly failingSinceMs?: number;
  /** The kind of its last failure. */
  readonly cause?: PollErrorReason;
}

export const INITIAL_UPSTREAM_STATE: UpstreamState = {
  down: false,
  reason: '',
  configurationError: false,
  configurationErrorIntegration: '',
  failedCycles: 0,
  lastFailedCycle: '',
  lastSuccessCycle: '',
  integrations: {},
};

export type UpstreamEvent =
  | { readonly ok: true; readonly cycleId: string; readonly integrationId: string; readonly atMs?: number }
  | {
      readonly ok: false;
      readonly cycleId: string;
      readonly integrationId: string;
      readonly reason: string;
      readonly configurationError: boolean;
      /** When the poll failed, epoch ms: the streak's start when it is the first failure. */
      readonly atMs?: number;
      /** What kind of failure: the message's remedy is chosen by it. */
      readonly cause?: PollErrorReason;
    };

/** The message an event causes: which alert opens or closes, why, since when. */
export interface UpstreamNotice {
  readonly state: 'down' | 'up';
  readonly reason: string;
  readonly integrationId?: string;
  /** Set when the integration's alert closes because it is no longer monitored, not because it can be read. */
  readonly noLongerMonitored?: true;
  /** Epoch ms the failing began (for `up`: the outage that ends); absent when unknown. */
  readonly sinceMs?: number;
  /** The kind of failure (for `down`), for the remedy. */
  readonly cause?: PollErrorReason;
}

export interface UpstreamDecision {
  readonly state: UpstreamState;
  /**
   * The message to send, if this event opened or closed the upstream alert;
   * with `integrationId` when it is the alert of that one integration.
   */
  readonly notify: UpstreamNotice | undefined;
}

/** `{ sinceMs }` when known, else nothing (exactOptionalPropertyTypes). */
const sinceOf = (ms: number | undefined): { sinceMs?: number } => (ms === undefined ? {} : { sinceMs: ms });
const failingSince = (ms: number | undefined): { failingSinceMs?: number } => (ms === undefined ? {} : { failingSinceMs: ms });
const causeOf = (cause: PollErrorReason | undefined): { cause?: PollErrorReason } => (cause === undefined ? {} : { cause });

const isProjectWide = (integrationId: string): boolean => integrationId === PROJECT_WIDE_LABELS.discovery || integrationId === PROJECT_WIDE_LABELS.cycle;

function without(integrations: UpstreamState['integrations'], id: string): UpstreamState['integrations'] {
  const out = { ...integrations };
  delete out[id];
  return out;
}

/**
 * The next upstream state after one poll outcome, and the one message it
 * causes, if any: first the project-wide alert (see nextProjectState), then,
 * if that sent nothing, the alert of the polled integration.
 */
export function nextUpstreamState(state: UpstreamState, event: UpstreamEvent, degradedAfterCycles: number): UpstreamDecision {
  // Stored by a release that did not have the field.
  const integrations = state.integrations ?? {};
  const project = nextProjectState({ ...state, integrations }, event, degradedAfterCycles);
  const id = event.integrationId;
  if (isProjectWide(id) || (!event.ok && event.configurationError)) return project;
  const entry = integrations[id];
  const next = project.state;

  if (event.ok) {
    if (entry === undefined) return project;
    // A project-wide message goes first; this integration's recovery waits for its next success.
    if (project.notify !== undefined && entry.down) return project;
    const state2: UpstreamState = { ...next, integrations: without(next.integrations, id) };
    if (!entry.down) return { state: state2, notify: project.notify };
    return {
      state: state2,
      notify: { state: 'up', integrationId: id, reason: `polls of integration ${id} succeed again (was: ${entry.reason})`, ...sinceOf(entry.failingSinceMs) },
    };
  }

  const failedCycles = entry === undefined ? 1 : event.cycleId === entry.lastFailedCycle ? entry.failedCycles : entry.failedCycles + 1;
  const counted: IntegrationFailures = {
    failedCycles,
    lastFailedCycle: event.cycleId,
    down: entry?.down ?? false,
    reason: entry?.reason ?? '',
    // A poll queued before the integration left the list does not restart its clock.
    ...(entry?.missingSinceMs === undefined ? {} : { missingSinceMs: entry.missingSinceMs }),
    ...failingSince(entry === undefined ? event.atMs : entry.failingSinceMs),
    ...causeOf(event.cause),
  };
  const opens = !counted.down && failedCycles >= degradedAfterCycles && project.notify === undefined && (!next.down || othersReadable(next, id, failedCycles));
  if (!opens) return { state: { ...next, integrations: { ...next.integrations, [id]: counted } }, notify: project.notify };
  const reason = `${event.reason} (${failedCycles} consecutive cycles)`;
  return {
    state: { ...next, integrations: { ...next.integrations, [id]: { ...counted, down: true, reason } } },
    notify: { state: 'down', integrationId: id, reason, ...sinceOf(counted.failingSinceMs), ...causeOf(event.cause) },
  };
}

/**
 * True when the open project-wide alert does not cover this integration's
 * failures: it is a configuration fault (401/403) of another integration, and
 * a poll of some integration succeeded during this integration's streak of
 * failed cycles (the project-wide count of cycles without any success is below
 * this integration's count). When every integration fails, that count keeps
 * up with it, and the one project-wide message stays the only one.
 */
function othersReadable(next: UpstreamState, id: string, failedCycles: number): boolean {
  return next.configurationError && next.configurationErrorIntegration !== id && next.failedCycles < failedCycles;
}

/** The project-wide alert: configuration faults, and K cycles without any successful poll. */
function nextProjectState(state: UpstreamState, event: UpstreamEvent, degradedAfterCycles: number): UpstreamDecision {
  if (event.ok) {
    // A refused discovery (a project-wide label) is closed by any success: the key reads the project again.
    const heldByAnother = event.integrationId !== state.configurationErrorIntegration && !isProjectWide(state.configurationErrorIntegration);
    if (state.down && state.configurationError && heldByAnother) {
      return { state: { ...state, failedCycles: 0, lastSuccessCycle: event.cycleId }, notify: undefined };
    }
    const next: UpstreamState = { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: event.cycleId, integrations: state.integrations };
    return {
      state: next,
      notify: state.down ? { state: 'up', reason: `polls succeed again (was: ${state.reason})`, ...sinceOf(state.failingSinceMs) } : undefined,
    };
  }
  // A failure in a cycle that already had a success does not make that cycle a failed one.
  if (event.cycleId === state.lastSuccessCycle && !event.configurationError) return { state, notify: undefined };
  // Nor does a configuration fault: it opens the alert, but the cycle had a success.
  const hadSuccess = event.cycleId === state.lastSuccessCycle;
  const failedCycles = hadSuccess || event.cycleId === state.lastFailedCycle ? state.failedCycles : state.failedCycles + 1;
  // The streak began with its first failure; a configuration fault in a cycle that had a success opens it now.
  const failingSinceMs = state.failingSinceMs ?? event.atMs;
  const counted: UpstreamState = hadSuccess ? state : { ...state, failedCycles, lastFailedCycle: event.cycleId, ...failingSince(failingSinceMs) };
  const asConfigurationError: UpstreamState = {
    ...counted,
    down: true,
    reason: event.reason,
    configurationError: true,
    configurationErrorIntegration: event.integrationId,
    ...failingSince(failingSinceMs),
    ...causeOf(event.cause),
  };
  if (state.down) {
    // Already open: one message covers it, whatever fails next. A configuration fault
    // takes the open alert over, so /readyz names what to fix.
    return { state: event.configurationError && !state.configurationError ? asConfigurationError : counted, notify: undefined };
  }
  if (event.configurationError) {
    return { state: asConfigurationError, notify: { state: 'down', reason: event.reason, ...sinceOf(failingSinceMs), ...causeOf(event.cause) } };
  }
  if (failedCycles >= degradedAfterCycles) {
    const reason = `upstream degraded: ${failedCycles} consecutive poll cycles failed, last error: ${event.reason}`;
    return {
      state: { ...counted, down: true, reason, configurationError: false, configurationErrorIntegration: '', ...causeOf(event.cause) },
      notify: { state: 'down', reason, ...sinceOf(failingSinceMs), ...causeOf(event.cause) },
    };
  }
  return { state: counted, notify: undefined };
}

/**
 * Forgets the entries of integrations that the cycle no longer lists
 * (configured or discovered), with the rule that forgets their snapshots: an
 * entry goes once its integration has been missing from every list for
 * `forgetAfterMs`, so a list that is briefly empty or short neither resolves
 * an open alert nor lets it open again. Dropping an entry whose alert is open
 * resolves it with "no longer monitored"; one message per call, so the caller
 * calls again while a call sends one (the others wait, still missing). A
 * listed integration's clock is cleared. Only call it with a list the cycle
 * could read: a failed discovery says nothing about what is listed.
 */
export function forgetUnlistedIntegrations(state: UpstreamState, listed: ReadonlySet<string>, nowMs: number, forgetAfterMs: number): UpstreamDecision {
  const integrations: Record<string, IntegrationFailures> = { ...(state.integrations ?? {}) };
  let notify: UpstreamDecision['notify'];
  for (const id of Object.keys(integrations).sort()) {
    const entry = integrations[id];
    if (entry === undefined) continue;
    if (listed.has(id)) {
      if (entry.missingSinceMs !== undefined) {
        const { missingSinceMs: _listedAgain, ...present } = entry;
        integrations[id] = present;
      }
      continue;
    }
    const missingSinceMs = entry.missingSinceMs ?? nowMs;
    const expired = nowMs - missingSinceMs >= forgetAfterMs;
    if (expired && !entry.down) {
      delete integrations[id];
    } else if (expired && notify === undefined) {
      delete integrations[id];
      notify = {
        state: 'up',
        integrationId: id,
        noLongerMonitored: true,
        reason: `integration ${id} is no longer monitored (was: ${entry.reason})`,
        ...sinceOf(entry.failingSinceMs),
      };
    } else if (entry.missingSinceMs === undefined) {
      integrations[id] = { ...entry, missingSinceMs };
    }
  }
  return { state: { ...state, integrations }, notify };
}
