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
 *   refused with 403 while others succeed does not flap the alert every cycle.
 *
 * Pure: the state is passed in and returned; the caller stores it atomically
 * with the notification.
 */

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
}

export const INITIAL_UPSTREAM_STATE: UpstreamState = {
  down: false,
  reason: '',
  configurationError: false,
  configurationErrorIntegration: '',
  failedCycles: 0,
  lastFailedCycle: '',
  lastSuccessCycle: '',
};

export type UpstreamEvent =
  | { readonly ok: true; readonly cycleId: string; readonly integrationId: string }
  | { readonly ok: false; readonly cycleId: string; readonly integrationId: string; readonly reason: string; readonly configurationError: boolean };

export interface UpstreamDecision {
  readonly state: UpstreamState;
  /** The message to send, if this event opened or closed the upstream alert. */
  readonly notify: { readonly state: 'down' | 'up'; readonly reason: string } | undefined;
}

export function nextUpstreamState(state: UpstreamState, event: UpstreamEvent, degradedAfterCycles: number): UpstreamDecision {
  if (event.ok) {
    if (state.down && state.configurationError && event.integrationId !== state.configurationErrorIntegration) {
      return { state: { ...state, failedCycles: 0, lastSuccessCycle: event.cycleId }, notify: undefined };
    }
    const next: UpstreamState = { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: event.cycleId };
    return { state: next, notify: state.down ? { state: 'up', reason: `polls succeed again (was: ${state.reason})` } : undefined };
  }
  // A failure in a cycle that already had a success does not make that cycle a failed one.
  if (event.cycleId === state.lastSuccessCycle && !event.configurationError) return { state, notify: undefined };
  const failedCycles = event.cycleId === state.lastFailedCycle ? state.failedCycles : state.failedCycles + 1;
  const counted: UpstreamState = { ...state, failedCycles, lastFailedCycle: event.cycleId };
  const asConfigurationError: UpstreamState = {
    ...counted,
    down: true,
    reason: event.reason,
    configurationError: true,
    configurationErrorIntegration: event.integrationId,
  };
  if (state.down) {
    // Already open: one message covers it, whatever fails next. A configuration fault
    // takes the open alert over, so /readyz names what to fix.
    return { state: event.configurationError && !state.configurationError ? asConfigurationError : counted, notify: undefined };
  }
  if (event.configurationError) return { state: asConfigurationError, notify: { state: 'down', reason: event.reason } };
  if (failedCycles >= degradedAfterCycles) {
    const reason = `upstream degraded: ${failedCycles} consecutive poll cycles failed, last error: ${event.reason}`;
    return { state: { ...counted, down: true, reason, configurationError: false, configurationErrorIntegration: '' }, notify: { state: 'down', reason } };
  }
  return { state: counted, notify: undefined };
}
