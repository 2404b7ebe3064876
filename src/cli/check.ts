/**
 * `check`: one poll of every integration now, without the scheduler, and what
 * it would alert, read-only. The listing goes through the same core as the
 * service's poll (parseInstallationList, planPoll against the stored
 * snapshot), but nothing is committed: the service's state is not written.
 * Without the stored snapshots (no Redis), the plan is a first look: every
 * installation that needs attention is reported, as a baseline summary would.
 */
import { AmpersandApiError } from '../core/errors/ampersand-api-error.js';
import type { AlertEventItem } from '../core/alert-notification.js';
import type { AlertItem } from '../core/alert-policy.js';
import type { AlertPolicy } from '../core/alert-state.js';
import type { Snapshot } from '../core/snapshot.js';
import { parseInstallationList, parseIntegrationList } from '../core/installation.js';
import { planPoll } from '../core/poll-plan.js';
import type { MuteRules } from '../core/silences.js';
import { buildStatusReport, type InstallationStatus, type IntegrationStatus } from '../core/status-report.js';
import type { AmpersandClient, SnapshotStore } from '../ports.js';
import { programName, type CliIo, type CommandDefinition, type OptionValues } from './command-definition.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { integrationLabel, type IntegrationNames } from './integration-names.js';
import { renderTable, type Column } from './table.js';
import { cell } from './terminal-text.js';
import { countsText, groupText, installationJson, installationTable, jsonText, maxIdWidth, maxIntegrationWidth } from './state-view.js';
import { formatAgo, formatTime, jsonTime } from './time-text.js';

export const checkDefinition: CommandDefinition<'check'> = {
  name: 'check',
  summary: 'poll every integration now and say what would alert (for cron and CI)',
  help: `Usage: ${programName} check [--integration ID] [--no-redis] [--json]

Polls each integration once, now, without the scheduler: the configured ones
(AMPERSAND_INTEGRATION_IDS), or every integration of the project (discovered with the API).
Prints what it sees (counts, the installations that need attention) and what would alert,
compared with the snapshots the service keeps in Redis. It only reads: nothing is committed,
no Slack message is sent, the service's state is not changed.

Without Redis (--no-redis, or Redis not reachable) there is nothing to compare with: every
installation that needs attention is reported as a first look. That makes it the first check
that AMPERSAND_API_KEY, AMPERSAND_PROJECT_ID and AMPERSAND_API_URL are right; a refused key
gets one line, which never shows the key.

Options:
  --integration ID  only this integration
  --no-redis        do not read the stored snapshots
  --json            machine output; its fields are listed in the README ("For the person on call")
  -h, --help        this help

Exit codes: 0 nothing needs attention; 1 an installation needs attention;
2 bad usage or configuration; 3 the Ampersand API could not be read (a refused key,
a wrong project, an integration that cannot be listed, a timeout); 3 wins over 1.
`,
  options: { integration: { type: 'string' }, 'no-redis': { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: false,
};

export interface CheckOptions {
  readonly integrationId: string | undefined;
  readonly noRedis: boolean;
  readonly json: boolean;
}

export function readCheckOptions(values: OptionValues): CheckOptions {
  const integration = values['integration'];
  return {
    integrationId: typeof integration === 'string' ? integration : undefined,
    noRedis: values['no-redis'] === true,
    json: values['json'] === true,
  };
}

/** The stored snapshots to compare with, or why there are none (a secret-free line). */
export type CheckBaseline = { readonly snapshots: Pick<SnapshotStore, 'load'> } | { readonly unavailable: string };

export interface CheckDeps {
  readonly ampersand: AmpersandClient;
  readonly baseline: CheckBaseline;
  readonly projectId: string;
  /** AMPERSAND_INTEGRATION_IDS; empty means discover. */
  readonly integrationIds: readonly string[];
  /** Integrations polled at once (POLL_CONCURRENCY). */
  readonly concurrency: number;
  readonly names: IntegrationNames;
  /** ALERT_AFTER_POLLS, RESOLVE_AFTER_POLLS, REMIND_INTERVAL_SECONDS: what this poll would send is judged as the service judges it. */
  readonly policy?: AlertPolicy;
  /** The silences and maintenance windows of MONITOR_CONFIG: a firing they would hold back is not one this poll would send. */
  readonly muting?: MuteRules;
  readonly now: () => Date;
  readonly io: CliIo;
}

type Checked =
  | {
      readonly ok: true;
      readonly integrationId: string;
      /** The project the listing names (else the stored or configured one). */
      readonly projectId: string;
      /** The snapshot this poll would commit: the listing, with since when each installation is so. */
      readonly snapshot: Snapshot;
      /** When the stored snapshot compared with was taken (its last successful poll); undefined for a first look. */
      readonly comparedWithMs: number | undefined;
      /** Why the stored state could not be used, when it was there but unreadable. */
      readonly storedUnreadable: string | undefined;
      /** A first look's summary items, or the events the service would send for this poll (with its stored alert states). */
      readonly alerts: readonly (AlertItem | AlertEventItem)[];
    }
  | { readonly ok: false; readonly integrationId: string; readonly error: AmpersandApiError };

type Read = Extract<Checked, { ok: true }>;
type Failed = Extract<Checked, { ok: false }>;
/** A row of the report: an integration read, with its counts, or one that could not be. */
type Row = (Read & { readonly status: IntegrationStatus }) | Failed;

/** Errors that no integration can escape: the key or the API URL is wrong. Anything else may be one integration's. */
const projectWide = (error: AmpersandApiError): boolean => error.reason === 'unauthorized' || error.reason === 'forbidden' || error.reason === 'redirect';

/** `fn` over `items`, at most `limit` at once, results in the order of `items`. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export async function runCheck(options: CheckOptions, deps: CheckDeps): Promise<ExitCode> {
  const { io, projectId } = deps;
  const cannotRead = (what: string, error: AmpersandApiError): ExitCode => {
    io.err(`${programName} check: ${what}: ${cell(error.message, 1000)}\n`);
    return exitCodes.unreadable;
  };

  let ids: readonly string[];
  if (options.integrationId !== undefined) ids = [options.integrationId];
  else if (deps.integrationIds.length > 0) ids = deps.integrationIds;
  else {
    try {
      const parsed = parseIntegrationList(await deps.ampersand.listIntegrations());
      if (!parsed.ok) throw new AmpersandApiError(`integration list: ${parsed.error}`, 'invalid_body');
      ids = parsed.ids;
    } catch (error) {
      if (error instanceof AmpersandApiError) return cannotRead(`cannot list the integrations of project ${JSON.stringify(cell(projectId, 100))}`, error);
      throw error;
    }
  }
  const now = deps.now();
  const checkOne = (integrationId: string): Promise<Checked> => check(integrationId, now, deps);
  // The first alone: a refused key fails them all alike, and is said once.
  const [first, ...rest] = ids;
  const results: Checked[] = [];
  if (first !== undefined) {
    const checked = await checkOne(first);
    if (!checked.ok && projectWide(checked.error)) return cannotRead('the Ampersand API refused the request', checked.error);
    results.push(checked, ...(await mapLimited(rest, deps.concurrency, checkOne)));
  }

  // One report over every integration read: counts per integration, and those needing attention worst first across them.
  const report = buildStatusReport(results.flatMap((r) => (r.ok ? [{ ...r, lastSuccessMs: now.getTime() }] : [])));
  const counts = new Map(report.integrations.map((status) => [status.integrationId, status]));
  const rows = results.map((r): Row => {
    if (!r.ok) return r;
    const status = counts.get(r.integrationId);
    if (status === undefined) throw new Error(`status report has no row for ${r.integrationId}`);
    return { ...r, status };
  });
  const failed = results.filter((r) => !r.ok).length;
  const attention = report.installations;
  const code = failed > 0 ? exitCodes.unreadable : attention.length > 0 ? exitCodes.attention : exitCodes.ok;
  if (options.json) io.out(jsonText(checkJson(rows, attention, now, projectId, deps.baseline, code)));
  else io.out(checkText(rows, attention, now, projectId, deps, code));
  return code;
}

async function check(integrationId: string, now: Date, deps: CheckDeps): Promise<Checked> {
  let body: unknown;
  try {
    body = await deps.ampersand.listInstallations(integrationId);
  } catch (error) {
    if (error instanceof AmpersandApiError) return { ok: false, integrationId, error };
    throw error;
  }
  const parsed = parseInstallationList(body);
  if (!parsed.ok) return { ok: false, integrationId, error: new AmpersandApiError(`installations of ${integrationId}: ${parsed.error}`, 'invalid_body') };
  // Read-only: load, never commit. The lineage of a plan is only used by a commit.
  const stored = 'snapshots' in deps.baseline ? await deps.baseline.snapshots.load(integrationId) : undefined;
  const plan = planPoll(
    stored,
    parsed.installations,
    now,
    { integrationId, projectId: deps.projectId, newLineage: () => 'check' },
    { ...(deps.policy === undefined ? {} : { policy: deps.policy }), ...(deps.muting === undefined ? {} : { muting: deps.muting }) },
  );
  return {
    ok: true,
    integrationId,
    projectId: plan.projectId,
    snapshot: plan.snapshot,
    comparedWithMs: plan.baseline ? undefined : stored?.lastSuccessMs,
    storedUnreadable: plan.unreadable?.reason,
    alerts: plan.baseline ? plan.alerts : plan.alertItems,
  };
}

const eventWords: Readonly<Record<AlertEventItem['event'], string>> = { fire: 'problem', remind: 'reminder', resolve: 'recovery' };

/** What an alert item would say, in a word or three. */
function alertKind(item: AlertItem | AlertEventItem): string {
  if ('condition' in item) return `${eventWords[item.event]}${item.reason === 'removed' ? ', installation gone' : ''}`;
  if (item.change === 'baseline') return 'first look';
  const change = item.change === 'added' ? ', new installation' : item.change === 'removed' ? ', installation gone' : '';
  return `${item.severity}${change}`;
}

function checkText(results: readonly Row[], attention: readonly InstallationStatus[], now: Date, projectId: string, deps: CheckDeps, code: ExitCode): string {
  const nowMs = now.getTime();
  const { names } = deps;
  const compared =
    'snapshots' in deps.baseline
      ? 'compared with the snapshots the service keeps in Redis'
      : `without the snapshots in Redis (${deps.baseline.unavailable}): everything that needs attention is reported as a first look`;
  const lines = [`Checked ${results.length} integration(s) of project ${cell(projectId, 100)} at ${formatTime(nowMs)}, ${compared}.`, ''];
  if (results.length === 0) lines.push('The project has no integrations.');
  else {
    const columns: Column<Row>[] = [
      { header: 'INTEGRATION', value: (r) => integrationLabel(names, r.integrationId, maxIntegrationWidth), max: maxIntegrationWidth },
      { header: 'INSTALLATIONS', value: (r) => (r.ok ? String(r.status.total) : '-'), max: 12 },
      { header: 'NEED ATTENTION', value: (r) => (r.ok ? String(r.status.needingAttention) : '-'), max: 12 },
      { header: 'HEALTH', value: (r) => (r.ok ? countsText(r.status.byHealth) : `cannot be read: ${r.error.message}`), max: 160 },
      {
        header: 'COMPARED WITH',
        value: (r) =>
          !r.ok
            ? '-'
            : r.comparedWithMs !== undefined
              ? `snapshot of ${formatAgo(r.comparedWithMs, nowMs)}`
              : r.storedUnreadable !== undefined
                ? 'nothing (stored state unreadable): first look'
                : 'nothing: first look',
        max: 60,
      },
    ];
    lines.push(...renderTable(columns, results), '');
    if (attention.length > 0) lines.push('Needing attention:', ...installationTable(attention, names, nowMs));
    else lines.push('Nothing needs attention.');
    lines.push('');
    const alerts = results.flatMap((r) => (r.ok ? r.alerts.map((item) => ({ integrationId: r.integrationId, item })) : []));
    if (alerts.length > 0) {
      const alertColumns: Column<(typeof alerts)[number]>[] = [
        { header: 'INTEGRATION', value: (a) => integrationLabel(names, a.integrationId, maxIntegrationWidth), max: maxIntegrationWidth },
        { header: 'INSTALLATION', value: (a) => a.item.installationId, max: maxIdWidth },
        { header: 'GROUP', value: (a) => groupText(a.item.groupName, a.item.groupRef), max: 48 },
        { header: 'ALERT', value: (a) => alertKind(a.item), max: 30 },
        { header: 'FIELD', value: (a) => ('condition' in a.item ? a.item.condition : a.item.field), max: 24 },
        { header: 'FROM', value: (a) => ('condition' in a.item || a.item.change === 'baseline' ? '-' : a.item.from), max: 20 },
        { header: 'TO', value: (a) => ('condition' in a.item ? '-' : a.item.to), max: 20 },
      ];
      lines.push('Would alert:', ...renderTable(alertColumns, alerts));
    } else lines.push('Nothing would alert.');
  }
  const failed = results.filter((r) => !r.ok).length;
  const outcome =
    code === exitCodes.unreadable
      ? `${failed} integration(s) could not be read`
      : code === exitCodes.attention
        ? `${attention.length} installation(s) need attention`
        : 'nothing needs attention';
  lines.push('', `Exit ${code}: ${outcome}.`);
  return `${lines.join('\n')}\n`;
}

function checkJson(
  results: readonly Row[],
  attention: readonly InstallationStatus[],
  now: Date,
  projectId: string,
  baseline: CheckBaseline,
  code: ExitCode,
): Record<string, unknown> {
  return {
    checkedAt: now.toISOString(),
    projectId,
    comparedWithRedis: 'snapshots' in baseline,
    withoutRedis: 'snapshots' in baseline ? null : baseline.unavailable,
    integrations: results.map((r) =>
      r.ok
        ? {
            integrationId: r.integrationId,
            ok: true,
            comparedWith: jsonTime(r.comparedWithMs),
            storedStateUnreadable: r.storedUnreadable ?? null,
            total: r.status.total,
            needingAttention: r.status.needingAttention,
            byHealth: { ...r.status.byHealth },
            byLastOperation: { ...r.status.byLastOperation },
            byConnection: { ...r.status.byConnection },
            wouldAlert: r.alerts.map((item) => ({ ...item })),
          }
        : {
            integrationId: r.integrationId,
            ok: false,
            error: { reason: r.error.reason, status: r.error.status ?? null, message: r.error.message },
          },
    ),
    installations: attention.map(installationJson),
    exitCode: code,
  };
}
