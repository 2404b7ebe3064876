/**
 * Which changes page a human. Pure: it reads a SnapshotDiff and returns alert
 * items; grouping into messages and delivery happen elsewhere.
 *
 * Problems: healthy → unhealthy, any → failure (last operation), any →
 * bad_credentials (connection), and a new installation that arrives bad.
 * Recoveries are the way back; a removed installation that was bad also
 * resolves, so that no problem is left open in the channel (as Alertmanager
 * sends "resolved" when an alert disappears). `in_progress` is transparent:
 * the operation field is judged on its last settled value.
 */
import { FIELDS, NONE, fieldValue, type Field, type SnapshotDiff } from './diff.js';
import type { InstallationRecord } from './snapshot.js';

export type Severity = 'problem' | 'recovery';
export type Change = 'changed' | 'added' | 'removed' | 'baseline';

export interface AlertItem {
  readonly severity: Severity;
  readonly change: Change;
  readonly installationId: string;
  readonly groupRef: string;
  readonly groupName: string;
  readonly provider: string;
  readonly field: Field;
  readonly from: string;
  readonly to: string;
}

const BAD: Readonly<Record<Field, (value: string) => boolean>> = {
  health_status: (v) => v === 'unhealthy',
  last_operation_status: (v) => v === 'failure',
  connection_status: (v) => v === 'bad_credentials',
};

const GOOD: Readonly<Record<Field, (value: string) => boolean>> = {
  health_status: (v) => v === 'healthy',
  last_operation_status: (v) => v === 'success',
  connection_status: (v) => v === 'working' || v === 'created',
};

/** The value alerting judges: the settled operation status, the raw value otherwise. */
function alertValue(record: InstallationRecord, field: Field): string {
  return field === 'last_operation_status' ? record.settledOperationStatus : fieldValue(record, field);
}

function item(severity: Severity, change: Change, id: string, record: InstallationRecord, field: Field, from: string, to: string): AlertItem {
  return {
    severity,
    change,
    installationId: id,
    groupRef: record.groupRef,
    groupName: record.groupName,
    provider: record.provider,
    field,
    from,
    to,
  };
}

/**
 * Lists the alert items one poll produces. A baseline produces none (see
 * summarizeBaseline). Items come in installation order, then field order.
 */
export function decideAlerts(diff: SnapshotDiff): AlertItem[] {
  if (diff.baseline) return [];
  const items: AlertItem[] = [];
  for (const [id, after] of diff.next) {
    const before = diff.previous.get(id);
    for (const field of FIELDS) {
      const to = alertValue(after, field);
      if (before === undefined) {
        if (BAD[field](to)) items.push(item('problem', 'added', id, after, field, NONE, to));
        continue;
      }
      const from = alertValue(before, field);
      if (from === to) continue;
      if (BAD[field](to)) items.push(item('problem', 'changed', id, after, field, from, to));
      else if (BAD[field](from) && GOOD[field](to)) items.push(item('recovery', 'changed', id, after, field, from, to));
    }
  }
  for (const [id, before] of diff.previous) {
    if (diff.next.has(id)) continue;
    for (const field of FIELDS) {
      const from = alertValue(before, field);
      if (BAD[field](from)) items.push(item('recovery', 'removed', id, before, field, from, NONE));
    }
  }
  return items;
}

/** What is already bad at a baseline: the content of the one summary message it may send. */
export function summarizeBaseline(diff: SnapshotDiff): AlertItem[] {
  if (!diff.baseline) return [];
  const items: AlertItem[] = [];
  for (const [id, record] of diff.next) {
    for (const field of FIELDS) {
      const value = alertValue(record, field);
      if (BAD[field](value)) items.push(item('problem', 'baseline', id, record, field, value, value));
    }
  }
  return items;
}

/** The fields alerting judges bad in a record now, in FIELDS order: what the CLI and the status page list as its problems. */
export function badFields(record: InstallationRecord): Field[] {
  return FIELDS.filter((field) => BAD[field](alertValue(record, field)));
}
