/**
 * A Metrics port that records every call, so that job tests can assert what
 * was counted without a Prometheus registry. Arguments are kept as passed.
 */
import type { PollErrorReason } from '../../src/core/errors/ampersand-api-error.js';
import type { Metrics } from '../../src/ports.js';

export type MetricCall = { readonly [M in keyof Metrics]: { readonly method: M; readonly args: Parameters<Metrics[M]> } }[keyof Metrics];

export interface RecordingMetrics extends Metrics {
  readonly calls: readonly MetricCall[];
  /** The arguments of every call of one method, in order. */
  callsOf<M extends keyof Metrics>(method: M): Parameters<Metrics[M]>[];
  /** Every recorded poll error as `<integrationId> <reason>`, in order. */
  pollErrors(): string[];
}

export function createRecordingMetrics(): RecordingMetrics {
  const calls: MetricCall[] = [];
  const record = <M extends keyof Metrics>(method: M, args: Parameters<Metrics[M]>): void => {
    calls.push({ method, args } as MetricCall);
  };
  const callsOf = <M extends keyof Metrics>(method: M): Parameters<Metrics[M]>[] =>
    calls.filter((c) => c.method === method).map((c) => c.args as Parameters<Metrics[M]>);
  return {
    calls,
    callsOf,
    pollErrors: () => callsOf('recordPollError').map(([, integrationId, reason]: [string, string, PollErrorReason]) => `${integrationId} ${reason}`),
    refreshFromState: (...args) => {
      record('refreshFromState', args);
      return Promise.resolve();
    },
    stateTokens: (...args) => {
      record('stateTokens', args);
      return new Map();
    },
    observePoll: (...args) => record('observePoll', args),
    recordPollError: (...args) => record('recordPollError', args),
    recordTransitions: (...args) => record('recordTransitions', args),
    recordSlackNotification: (...args) => record('recordSlackNotification', args),
    setApiUp: (...args) => record('setApiUp', args),
    setOutboxSize: (...args) => record('setOutboxSize', args),
    setOutboxDropped: (...args) => record('setOutboxDropped', args),
    recordStateUnreadable: (...args) => record('recordStateUnreadable', args),
    recordSilenced: (...args) => record('recordSilenced', args),
    setSlackStatus: (...args) => record('setSlackStatus', args),
  };
}
