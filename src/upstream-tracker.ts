/**
 * What this process knows about its access to Ampersand: the last result of
 * each integration's poll (for the /readyz body) and `ampersand_api_up`.
 */
import type { PollObserver } from '../jobs/poll-integration.js';
import type { Metrics } from './adapters/metrics.js';
import type { AmpersandApiError, PollErrorReason } from './errors/ampersand-api-error.js';

export interface IntegrationStatus {
  readonly ok: boolean;
  readonly at: string;
  readonly reason?: PollErrorReason;
  readonly message?: string;
}

export interface UpstreamReport {
  /** `ok`, `degraded` (some polls fail), or `configuration_error` (401/403: fix the API key). */
  readonly state: 'unknown' | 'ok' | 'degraded' | 'configuration_error';
  readonly integrations: Readonly<Record<string, IntegrationStatus>>;
}

export interface UpstreamTracker extends PollObserver {
  report(): UpstreamReport;
}

export function createUpstreamTracker(deps: { metrics: Pick<Metrics, 'apiUp'>; projectId: string; now: () => Date }): UpstreamTracker {
  const last = new Map<string, IntegrationStatus>();
  return {
    async pollSucceeded(integrationId) {
      last.set(integrationId, { ok: true, at: deps.now().toISOString() });
      deps.metrics.apiUp(deps.projectId, true);
    },
    async pollFailed(integrationId, _cycleId, error: AmpersandApiError) {
      last.set(integrationId, { ok: false, at: deps.now().toISOString(), reason: error.reason, message: error.message });
      deps.metrics.apiUp(deps.projectId, false);
    },
    report() {
      const integrations = Object.fromEntries(last);
      const statuses = [...last.values()];
      const state =
        statuses.length === 0
          ? 'unknown'
          : statuses.some((s) => s.reason === 'unauthorized' || s.reason === 'forbidden')
            ? 'configuration_error'
            : statuses.some((s) => !s.ok)
              ? 'degraded'
              : 'ok';
      return { state, integrations };
    },
  };
}
