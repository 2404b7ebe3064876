/**
 * How `status` and `check` show the state of integrations and installations
 * (core/status-report.ts): the same columns in the table, the same fields in
 * `--json`. Pure: the time is passed in.
 *
 * JSON fields (stable; documented in the README):
 *   integration:  integrationId, projectId, lastSuccessAt (ISO or null), readable, total,
 *                 needingAttention, byHealth, byLastOperation, byConnection ({value: count})
 *   installation: integrationId, projectId, installationId, groupRef, groupName, provider,
 *                 healthStatus, lastOperationStatus, connectionStatus, problems (field names),
 *                 since ({ at: ISO, exact } or null), muted ({ by, kind, reason, until: ISO, also } or null)
 */
import type { InstallationStatus, IntegrationStatus } from '../core/status-report.js';
import { integrationLabel, type IntegrationNames } from './integration-names.js';
import { renderTable, type Column } from './table.js';
import type { MuteNote } from '../core/silences.js';
import { formatAgo, formatSince, formatTime, jsonTime } from './time-text.js';

/** Widest cell of a column of ids or names, in terminal columns. */
export const maxIdWidth = 40;
/** Widest integration cell: a name, cut to fit, and the whole id (a UUID, 36 columns) that --integration takes. */
export const maxIntegrationWidth = 60;
/** Widest cell of a status column: the API's enums are short; an unknown value is cut. */
const maxStatusWidth = 20;
/** Widest group cell: a name and its ref. */
const maxGroupWidth = 48;

/** `Acme Corp (org-42)`; the ref alone when the name is empty; `-` when both are. */
export function groupText(groupName: string, groupRef: string): string {
  if (groupName === '') return groupRef === '' ? '-' : groupRef;
  return groupRef === '' ? groupName : `${groupName} (${groupRef})`;
}

/** `healthy 118, unhealthy 2`; `none` for no installations. */
export function countsText(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts).map(([value, count]) => `${value} ${count}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** One row per installation: integration, installation, group, health, last operation, connection, since when. */
export function installationTable(installations: readonly InstallationStatus[], names: IntegrationNames, nowMs: number): string[] {
  const columns: Column<InstallationStatus>[] = [
    { header: 'INTEGRATION', value: (i) => integrationLabel(names, i.integrationId, maxIntegrationWidth), max: maxIntegrationWidth },
    { header: 'INSTALLATION', value: (i) => i.installationId, max: maxIdWidth },
    { header: 'GROUP', value: (i) => groupText(i.groupName, i.groupRef), max: maxGroupWidth },
    { header: 'HEALTH', value: (i) => i.healthStatus, max: maxStatusWidth },
    { header: 'LAST OPERATION', value: (i) => i.lastOperationStatus, max: maxStatusWidth },
    { header: 'CONNECTION', value: (i) => i.connectionStatus, max: maxStatusWidth },
    { header: 'SINCE', value: (i) => formatSince(i.since, nowMs), max: 60 },
  ];
  // Only when something is muted: the table of a service without silences stays as it was.
  if (installations.some((i) => i.muted !== undefined)) columns.push({ header: 'MUTED', value: (i) => mutedText(i.muted), max: 100 });
  return renderTable(columns, installations);
}

/** `silences[0] until 2026-12-01T12:00:00Z (customer migrating)`; `-` when not muted. */
export function mutedText(muted: MuteNote | undefined): string {
  if (muted === undefined) return '-';
  const rules = [muted.by, ...(muted.also ?? [])].join(', ');
  return `${rules} until ${formatTime(muted.until)}${muted.reason === undefined ? '' : ` (${muted.reason})`}`;
}

/** One row per integration: installations, how many need attention, health counts, and the last successful poll. */
export function integrationTable(integrations: readonly IntegrationStatus[], names: IntegrationNames, nowMs: number, pollHeader = 'LAST POLL'): string[] {
  const columns: Column<IntegrationStatus>[] = [
    { header: 'INTEGRATION', value: (i) => integrationLabel(names, i.integrationId, maxIntegrationWidth), max: maxIntegrationWidth },
    { header: 'INSTALLATIONS', value: (i) => (i.readable ? String(i.total) : '-'), max: 12 },
    { header: 'NEED ATTENTION', value: (i) => (i.readable ? String(i.needingAttention) : '-'), max: 12 },
    { header: 'HEALTH', value: (i) => (i.readable ? countsText(i.byHealth) : 'stored state unreadable: the next poll takes a new baseline'), max: 60 },
    { header: pollHeader, value: (i) => (i.lastSuccessMs > 0 ? formatAgo(i.lastSuccessMs, nowMs) : 'never'), max: 60 },
  ];
  return renderTable(columns, integrations);
}

/** An installation in `--json`. */
export function installationJson(i: InstallationStatus): Record<string, unknown> {
  return {
    integrationId: i.integrationId,
    projectId: i.projectId,
    installationId: i.installationId,
    groupRef: i.groupRef,
    groupName: i.groupName,
    provider: i.provider,
    healthStatus: i.healthStatus,
    lastOperationStatus: i.lastOperationStatus,
    connectionStatus: i.connectionStatus,
    problems: i.problems,
    since: i.since === undefined ? null : { at: jsonTime(i.since.ms), exact: i.since.exact },
    muted:
      i.muted === undefined
        ? null
        : { by: i.muted.by, kind: i.muted.kind, reason: i.muted.reason ?? null, until: jsonTime(i.muted.until), also: i.muted.also ?? [] },
  };
}

/** An integration in `--json`. */
export function integrationJson(i: IntegrationStatus): Record<string, unknown> {
  return {
    integrationId: i.integrationId,
    projectId: i.projectId,
    lastSuccessAt: jsonTime(i.lastSuccessMs),
    readable: i.readable,
    total: i.total,
    needingAttention: i.needingAttention,
    // Plain objects: the report's null-prototype records print the same, but a reader may spread them.
    byHealth: { ...i.byHealth },
    byLastOperation: { ...i.byLastOperation },
    byConnection: { ...i.byConnection },
  };
}

/**
 * Characters JSON.stringify leaves raw that a terminal acts on: DEL, the C1 controls (U+009B
 * starts an escape sequence on some), line and paragraph separators, and format characters
 * (bidi overrides reorder what follows). Escaped as \uXXXX, the JSON holds the same data.
 */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\p{Cf}]/gu;

/** JSON as `--json` prints it: two-space indentation, one trailing line break, safe to print on a terminal. */
export function jsonText(value: unknown): string {
  // Per UTF-16 unit: an astral format character (a tag) is escaped as its surrogate pair.
  const escape = (c: string): string => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
  const text = JSON.stringify(value, null, 2).replace(JSON_UNSAFE, escape);
  return `${text}\n`;
}
