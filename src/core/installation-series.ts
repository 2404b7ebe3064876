/**
 * The per-installation series of /metrics, as Prometheus text: which
 * installations get them (METRICS_INSTALLATION_SERIES), which `status` label
 * a value gets, and the exposition lines themselves.
 *
 * Pure: the adapter (src/adapters/installation-series.ts) caches these lines
 * per integration and renders them in slices. The lines are written here
 * rather than through prom-client's gauges because at 100,000 installations
 * (600,000 series) prom-client's `set` and its per-metric synchronous
 * rendering blocked the event loop for seconds; text cached per integration
 * costs a scrape nothing when that integration did not change.
 */
import { CONNECTION_STATUSES, HEALTH_STATUSES, OPERATION_STATUSES, UNKNOWN_OPERATION_STATUS } from './installation.js';
import type { InstallationRecord } from './snapshot.js';

/** METRICS_INSTALLATION_SERIES: every installation, only those not healthy-succeeding-working, or none (aggregates only). */
export const installationSeriesModes = ['all', 'unhealthy', 'none'] as const;
export type InstallationSeriesMode = (typeof installationSeriesModes)[number];

/** The `status` value of every value outside the spec's enums: one series, whatever the API sends, so it cannot blow up the series count. */
export const otherStatus = 'other';

/** The known values of each one-hot family, in the order their series are written. */
export const healthValues: readonly string[] = HEALTH_STATUSES;
export const operationValues: readonly string[] = [...OPERATION_STATUSES, UNKNOWN_OPERATION_STATUS];
export const connectionValues: readonly string[] = CONNECTION_STATUSES;

/** The `status` label of a value: itself when the spec (or "unknown" = none reported) knows it, else "other". */
export function statusLabel(known: readonly string[], value: string): string {
  return known.includes(value) ? value : otherStatus;
}

/**
 * Whether an installation is quiet: healthy, its connection working, and its
 * last operation a success or one in progress. `in_progress` counts as quiet
 * because scheduled reads turn it on and off all day: counting it would make
 * series appear and vanish with every read. An operation that failed, none
 * reported yet ("unknown"), or any value outside the spec is not quiet.
 */
export function isQuietInstallation(record: Pick<InstallationRecord, 'healthStatus' | 'lastOperationStatus' | 'connectionStatus'>): boolean {
  return (
    record.healthStatus === 'healthy' &&
    record.connectionStatus === 'working' &&
    (record.lastOperationStatus === 'success' || record.lastOperationStatus === 'in_progress')
  );
}

/** Whether an installation gets per-installation series in this mode. */
export function exportsInstallation(
  mode: InstallationSeriesMode,
  record: Pick<InstallationRecord, 'healthStatus' | 'lastOperationStatus' | 'connectionStatus'>,
): boolean {
  switch (mode) {
    case 'all':
      return true;
    case 'unhealthy':
      return !isQuietInstallation(record);
    case 'none':
      return false;
  }
}

/** A label value as the text format wants it: backslash, double quote and line feed escaped (as prom-client does). */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** The per-installation families, in the order they are written; `oneHot` says which values each one's status spans. */
export const installationFamilies = [
  {
    name: 'ampersand_installation_health_status',
    help: 'Health of an installation as Ampersand reports it; one-hot over status (healthy, unhealthy, other = a value outside the spec).',
    oneHot: healthValues,
  },
  {
    name: 'ampersand_installation_last_operation_status',
    help: 'Status of the latest operation of an installation; one-hot over status (success, failure, in_progress, unknown = none reported, other = a value outside the spec).',
    oneHot: operationValues,
  },
  {
    name: 'ampersand_installation_connection_status',
    help: "Status of an installation's connection to its provider; one-hot over status (created, working, bad_credentials = the customer must reconnect, other = a value outside the spec).",
    oneHot: connectionValues,
  },
  {
    name: 'ampersand_installation_info',
    help: 'Always 1: the group name of an installation as Ampersand reports it (cut to 256 characters), to join on installation_id for display.',
    oneHot: undefined,
  },
] as const satisfies readonly {
  name: string;
  help: string;
  oneHot: readonly string[] | undefined;
}[];

/** `# HELP` and `# TYPE` of one family. */
export function familyHeader(family: (typeof installationFamilies)[number]): string {
  return `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`;
}

/** The labels every series of an integration starts with, escaped once per integration rather than once per line. */
export function integrationLabels(projectId: string, integrationId: string): string {
  return `project_id="${escapeLabelValue(projectId)}",integration_id="${escapeLabelValue(integrationId)}"`;
}

/**
 * The lines of one installation, one string per family (in installationFamilies'
 * order), each ending with a line feed. `integration` is integrationLabels' text.
 * The labels are those prom-client wrote before: project_id, integration_id,
 * installation_id, group_ref, provider, then status (group_name on the info series).
 */
export function installationLines(integration: string, installationId: string, record: InstallationRecord): [string, string, string, string] {
  const head = `{${integration},installation_id="${escapeLabelValue(installationId)}",group_ref="${escapeLabelValue(record.groupRef)}",provider="${escapeLabelValue(record.provider)}"`;
  const oneHot = (name: string, known: readonly string[], value: string): string => {
    const label = statusLabel(known, value);
    let out = '';
    for (const k of known) out += `${name}${head},status="${k}"} ${k === label ? 1 : 0}\n`;
    if (label === otherStatus) out += `${name}${head},status="${otherStatus}"} 1\n`;
    return out;
  };
  return [
    oneHot('ampersand_installation_health_status', healthValues, record.healthStatus),
    oneHot('ampersand_installation_last_operation_status', operationValues, record.lastOperationStatus),
    oneHot('ampersand_installation_connection_status', connectionValues, record.connectionStatus),
    `ampersand_installation_info${head},group_name="${escapeLabelValue(record.groupName)}"} 1\n`,
  ];
}
