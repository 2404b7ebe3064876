/**
 * Compares the stored snapshot of an integration with a freshly fetched list of
 * installations. Pure: the caller does the I/O and passes the data in.
 */
import { UNREADABLE_VALUE, type InstallationState } from './installation.js';
import { nextSettledStatus, type InstallationRecord, type Snapshot, type StateSince } from './snapshot.js';

export const FIELDS = ['health_status', 'last_operation_status', 'connection_status'] as const;
export type Field = (typeof FIELDS)[number];

/** The `from` of a new installation and the `to` of a removed one. */
export const NONE = 'none';

export interface Transition {
  readonly installationId: string;
  readonly field: Field;
  readonly from: string;
  readonly to: string;
}

export interface SnapshotDiff {
  /** True when there was no previous snapshot: the current list is the baseline, and nothing transitioned. */
  readonly baseline: boolean;
  readonly previous: Snapshot;
  readonly next: Snapshot;
  /** Raw value changes, in installation order then FIELDS order; for metrics and logs. */
  readonly transitions: readonly Transition[];
}

export function fieldValue(record: InstallationRecord, field: Field): string {
  switch (field) {
    case 'health_status':
      return record.healthStatus;
    case 'last_operation_status':
      return record.lastOperationStatus;
    case 'connection_status':
      return record.connectionStatus;
  }
}

/**
 * The record an installation leaves in the next snapshot. A status that could
 * not be read (UNREADABLE_VALUE) keeps the value stored before, with the
 * settled operation status, so it is neither stored over a known value nor
 * diffed: unhealthy → unreadable → healthy is one recovery, and unhealthy →
 * unreadable → unhealthy is no second problem. Without a stored value it stays
 * UNREADABLE_VALUE, which alerts nothing.
 */
function nextRecord(before: InstallationRecord | undefined, inst: InstallationState, sighting: Sighting): InstallationRecord {
  const keep = (value: string, stored: string | undefined): string => (value === UNREADABLE_VALUE && stored !== undefined ? stored : value);
  const operationUnreadable = inst.lastOperationStatus === UNREADABLE_VALUE && before !== undefined;
  const record = {
    healthStatus: keep(inst.healthStatus, before?.healthStatus),
    lastOperationStatus: operationUnreadable ? before.lastOperationStatus : inst.lastOperationStatus,
    settledOperationStatus: operationUnreadable ? before.settledOperationStatus : nextSettledStatus(before?.settledOperationStatus, inst.lastOperationStatus),
    connectionStatus: keep(inst.connectionStatus, before?.connectionStatus),
    groupRef: inst.groupRef,
    groupName: inst.groupName,
    provider: inst.provider,
  };
  const since = nextSince(before, record, sighting);
  // Nothing changed: the stored record itself, so that an unchanged snapshot is found
  // equal by identity (sameSnapshot) and most polls allocate no new records.
  if (
    before !== undefined &&
    since === before.since &&
    before.healthStatus === record.healthStatus &&
    before.lastOperationStatus === record.lastOperationStatus &&
    before.settledOperationStatus === record.settledOperationStatus &&
    before.connectionStatus === record.connectionStatus &&
    before.groupRef === record.groupRef &&
    before.groupName === record.groupName &&
    before.provider === record.provider
  )
    return before;
  return since === undefined ? record : { ...record, since };
}

/** When this poll saw the listing: its time, and whether a stored snapshot came before it. */
interface Sighting {
  readonly nowMs: number | undefined;
  readonly baseline: boolean;
}

/**
 * Since when the installation is in its state. `in_progress` is transparent
 * (the settled status is compared), as for alerting. A change seen between two
 * polls, or an installation that appeared since the last poll, starts an exact
 * `since`; a baseline, or a record stored before `since` existed, starts an
 * inexact one (first seen). Without a time the stored one is kept.
 */
function nextSince(before: InstallationRecord | undefined, record: Omit<InstallationRecord, 'since'>, sighting: Sighting): StateSince | undefined {
  const unchanged =
    before !== undefined &&
    before.healthStatus === record.healthStatus &&
    before.settledOperationStatus === record.settledOperationStatus &&
    before.connectionStatus === record.connectionStatus;
  if (unchanged && before.since !== undefined) return before.since;
  if (sighting.nowMs === undefined) return before?.since;
  return { ms: sighting.nowMs, exact: !sighting.baseline && !unchanged };
}

/**
 * Builds the next snapshot and lists every field transition since `previous`.
 * Without a previous snapshot the result is a baseline with no transitions.
 * New installations transition from `none`, removed ones to `none`, one
 * transition per field. An unreadable status keeps its stored value (see
 * nextRecord). `nowMs`, the poll's time, dates each record's `since`.
 */
export function diffSnapshots(previous: Snapshot | undefined, current: readonly InstallationState[], nowMs?: number): SnapshotDiff {
  const next = new Map<string, InstallationRecord>();
  const transitions: Transition[] = [];
  const sighting: Sighting = { nowMs, baseline: previous === undefined };
  for (const inst of current) {
    const before = previous?.get(inst.id);
    const record = nextRecord(before, inst, sighting);
    next.set(inst.id, record);
    if (previous === undefined) continue;
    for (const field of FIELDS) {
      const from = before === undefined ? NONE : fieldValue(before, field);
      const to = fieldValue(record, field);
      if (from !== to) transitions.push({ installationId: inst.id, field, from, to });
    }
  }
  if (previous !== undefined) {
    for (const [id, before] of previous) {
      if (next.has(id)) continue;
      for (const field of FIELDS) transitions.push({ installationId: id, field, from: fieldValue(before, field), to: NONE });
    }
  }
  return { baseline: previous === undefined, previous: previous ?? new Map(), next, transitions };
}
