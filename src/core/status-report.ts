/**
 * The current state of every monitored integration, as the on-call CLI
 * (`status`) and the status page show it: counts per integration, and the
 * installations that need attention, worst first. Pure: the caller loads the
 * stored snapshots and passes them in with the time.
 *
 * "Needs attention" is what alerting judges bad (alert-policy's badFields):
 * unhealthy, last settled operation failed, bad credentials. The order is the
 * one an on-call engineer reads in: most problems first, then the longest
 * standing (oldest `since`), then by integration and installation id so that
 * two renders of the same state agree.
 */
import { badFields } from './alert-policy.js';
import { alertSubject } from './alert-subject.js';
import { findMute, muteNote, type ActiveMutes, type MuteNote } from './silences.js';
import type { Field } from './diff.js';
import type { InstallationRecord, Snapshot, StateSince } from './snapshot.js';

/** What the report needs of one stored integration (a StoredSnapshot fits). */
export interface IntegrationState {
  readonly integrationId: string;
  readonly projectId: string;
  /** Epoch ms of the last successful poll by any replica. */
  readonly lastSuccessMs: number;
  /** Undefined when the stored state could not be read. */
  readonly snapshot: Snapshot | undefined;
}

export interface IntegrationStatus {
  readonly integrationId: string;
  readonly projectId: string;
  readonly lastSuccessMs: number;
  /** False when the stored state could not be read: the counts are then all 0. */
  readonly readable: boolean;
  readonly total: number;
  /** Installations with at least one problem. */
  readonly needingAttention: number;
  /** Counts by raw value, e.g. `{ healthy: 118, unhealthy: 2 }`, keys sorted. */
  readonly byHealth: Readonly<Record<string, number>>;
  readonly byLastOperation: Readonly<Record<string, number>>;
  readonly byConnection: Readonly<Record<string, number>>;
}

export interface InstallationStatus {
  readonly integrationId: string;
  readonly projectId: string;
  readonly installationId: string;
  readonly groupRef: string;
  readonly groupName: string;
  readonly provider: string;
  readonly healthStatus: string;
  readonly lastOperationStatus: string;
  readonly connectionStatus: string;
  /** The fields alerting judges bad, in FIELDS order; empty when it needs no attention. */
  readonly problems: readonly Field[];
  readonly since: StateSince | undefined;
  /** Set when a silence or a maintenance window covers it at the report's time: its alerts are recorded, not sent. */
  readonly muted?: MuteNote;
}

export interface StatusReport {
  /** Sorted by integration id. */
  readonly integrations: readonly IntegrationStatus[];
  /** Worst first (see the module comment); only those needing attention unless `all` was asked. */
  readonly installations: readonly InstallationStatus[];
}

export interface StatusReportOptions {
  /** Only this integration. */
  readonly integrationId?: string;
  /** Every installation, not only those needing attention. */
  readonly all?: boolean;
  /** The silences and maintenance windows in force at the report's time (mutesAt): each installation they cover says so. */
  readonly mutes?: ActiveMutes;
}

function countBy(records: Iterable<InstallationRecord>, value: (record: InstallationRecord) => string): Record<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(value(record), (counts.get(value(record)) ?? 0) + 1);
  // A null-prototype record: a status called "__proto__" is a key like any other.
  const sorted = Object.create(null) as Record<string, number>;
  for (const key of [...counts.keys()].sort()) sorted[key] = counts.get(key) ?? 0;
  return sorted;
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Worst first: more problems, then longer standing (an unknown since last), then integration and installation id. */
function worstFirst(a: InstallationStatus, b: InstallationStatus): number {
  return (
    b.problems.length - a.problems.length ||
    (a.since?.ms ?? Number.MAX_SAFE_INTEGER) - (b.since?.ms ?? Number.MAX_SAFE_INTEGER) ||
    compareText(a.integrationId, b.integrationId) ||
    compareText(a.installationId, b.installationId)
  );
}

export function buildStatusReport(states: readonly IntegrationState[], options: StatusReportOptions = {}): StatusReport {
  const integrations: IntegrationStatus[] = [];
  const installations: InstallationStatus[] = [];
  const chosen = options.integrationId === undefined ? states : states.filter((s) => s.integrationId === options.integrationId);
  for (const state of [...chosen].sort((a, b) => compareText(a.integrationId, b.integrationId))) {
    const records = state.snapshot ?? new Map<string, InstallationRecord>();
    let needingAttention = 0;
    for (const [installationId, record] of records) {
      const problems = badFields(record);
      if (problems.length > 0) needingAttention++;
      if (problems.length === 0 && options.all !== true) continue;
      const mutes = options.mutes;
      const mute =
        mutes === undefined || mutes.rules.length === 0
          ? undefined
          : findMute(mutes, alertSubject(installationId, record, state.integrationId, state.projectId));
      installations.push({
        integrationId: state.integrationId,
        projectId: state.projectId,
        installationId,
        groupRef: record.groupRef,
        groupName: record.groupName,
        provider: record.provider,
        healthStatus: record.healthStatus,
        lastOperationStatus: record.lastOperationStatus,
        connectionStatus: record.connectionStatus,
        problems,
        since: record.since,
        ...(mute === undefined ? {} : { muted: muteNote(mute) }),
      });
    }
    integrations.push({
      integrationId: state.integrationId,
      projectId: state.projectId,
      lastSuccessMs: state.lastSuccessMs,
      readable: state.snapshot !== undefined,
      total: records.size,
      needingAttention,
      byHealth: countBy(records.values(), (r) => r.healthStatus),
      byLastOperation: countBy(records.values(), (r) => r.lastOperationStatus),
      byConnection: countBy(records.values(), (r) => r.connectionStatus),
    });
  }
  return { integrations, installations: installations.sort(worstFirst) };
}
