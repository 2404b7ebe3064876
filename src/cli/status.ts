/**
 * `status`: the current state the service keeps in Redis, read-only. One line
 * per integration, then the installations, worst first (core/status-report.ts
 * decides what needs attention and the order, as alerting and the status
 * page judge it).
 */
import type { ActiveMutes } from '../core/silences.js';
import { buildStatusReport } from '../core/status-report.js';
import type { SnapshotStore } from '../ports.js';
import { programName, type CliIo, type CommandDefinition, type OptionValues } from './command-definition.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import type { IntegrationNames } from './integration-names.js';
import { cell } from './terminal-text.js';
import { installationJson, installationTable, integrationJson, integrationTable, jsonText, maxIdWidth } from './state-view.js';
import { formatTime } from './time-text.js';

export const statusDefinition: CommandDefinition<'status'> = {
  name: 'status',
  summary: 'the current state in Redis, installations needing attention first',
  help: `Usage: ${programName} status [--unhealthy] [--integration ID] [--json]

Prints the state the service keeps in Redis (REDIS_URL, QUEUE_PREFIX), read-only; the Ampersand
API is asked only for the integrations' names (3 s at most, ids otherwise): one row per integration (installations, how many need attention,
health counts, last successful poll), then one row per installation, worst first (most
problems, then the longest standing), with its group, health, last operation, connection and
since when it is so ("≥ … (first seen …)" when that is only when the monitor first saw it so).
When a silence or maintenance window of MONITOR_CONFIG covers an installation now, a MUTED
column names the rule, its reason and its end (see ${programName} silences).

Options:
  --unhealthy       only the installations that need attention: unhealthy, last operation
                    failed, or bad credentials (what alerting judges bad).
                    Default: every installation.
  --integration ID  only this integration
  --json            machine output; its fields are listed in the README ("For the person on call")
  -h, --help        this help

Exit codes: 0 shown; 1 --integration names an integration with no stored state;
2 bad usage or configuration; 3 Redis cannot be read.
`,
  options: { unhealthy: { type: 'boolean' }, integration: { type: 'string' }, json: { type: 'boolean' } },
  positionals: false,
};

export interface StatusOptions {
  readonly unhealthy: boolean;
  readonly integrationId: string | undefined;
  readonly json: boolean;
}

export function readStatusOptions(values: OptionValues): StatusOptions {
  const integration = values['integration'];
  return { unhealthy: values['unhealthy'] === true, integrationId: typeof integration === 'string' ? integration : undefined, json: values['json'] === true };
}

export interface StatusDeps {
  readonly snapshots: Pick<SnapshotStore, 'loadAll'>;
  readonly names: IntegrationNames;
  /** QUEUE_PREFIX, named when nothing is stored under it. */
  readonly queuePrefix: string;
  readonly now: () => Date;
  readonly io: CliIo;
  /** The silences and maintenance windows of the monitor configuration file in force at a time; none when absent. */
  readonly mutesAt?: (at: Date) => ActiveMutes;
}

export async function runStatus(options: StatusOptions, deps: StatusDeps): Promise<ExitCode> {
  const { io } = deps;
  const stored = await deps.snapshots.loadAll();
  const now = deps.now();
  const nowMs = now.getTime();
  const { integrationId } = options;
  const report = buildStatusReport(stored, {
    ...(integrationId === undefined ? {} : { integrationId }),
    all: !options.unhealthy,
    ...(deps.mutesAt === undefined ? {} : { mutes: deps.mutesAt(now) }),
  });
  if (integrationId !== undefined && report.integrations.length === 0) {
    const known = stored.map((s) => s.integrationId).sort();
    const listed = known.length === 0 ? 'none is' : `stored: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}`;
    io.err(
      `${programName} status: no stored state for integration ${JSON.stringify(cell(integrationId, maxIdWidth))} under QUEUE_PREFIX=${deps.queuePrefix} (${cell(listed, 300)})\n`,
    );
    return exitCodes.attention;
  }
  if (options.json) {
    io.out(
      jsonText({
        generatedAt: new Date(nowMs).toISOString(),
        integrations: report.integrations.map(integrationJson),
        installations: report.installations.map(installationJson),
      }),
    );
    return exitCodes.ok;
  }
  if (report.integrations.length === 0) {
    io.out(`No stored state under QUEUE_PREFIX=${deps.queuePrefix}: the service has not polled yet, or it runs with another QUEUE_PREFIX or REDIS_URL.\n`);
    return exitCodes.ok;
  }
  const lines = [
    `State in Redis (QUEUE_PREFIX=${deps.queuePrefix}) at ${formatTime(nowMs)}`,
    '',
    ...integrationTable(report.integrations, deps.names, nowMs),
    '',
  ];
  if (report.installations.length > 0) lines.push(...installationTable(report.installations, deps.names, nowMs));
  else lines.push(options.unhealthy ? 'No installation needs attention.' : 'No installations.');
  io.out(`${lines.join('\n')}\n`);
  return exitCodes.ok;
}
