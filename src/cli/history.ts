/**
 * `history INSTALLATION`: an installation's firing episodes from the episode
 * log the service keeps in Redis (core/episodes.ts: 30 days, at most 50 per
 * installation), newest first, read-only. The installation is looked for in
 * every stored integration unless `--integration` names one; a removed
 * installation keeps its log until it expires, so every integration's log is
 * asked, not only the snapshots that still list it.
 */
import { episodeStart, type Episode } from '../core/episodes.js';
import type { SnapshotStore } from '../ports.js';
import { programName, type CliIo, type CommandDefinition, type OptionValues } from './command-definition.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { integrationLabel, type IntegrationNames } from './integration-names.js';
import { jsonText, maxIdWidth } from './state-view.js';
import { renderTable, type Column } from './table.js';
import { cell } from './terminal-text.js';
import { formatDuration, formatTime, jsonTime } from './time-text.js';
import { UsageError } from './usage-error.js';

export const historyDefinition: CommandDefinition<'history'> = {
  name: 'history',
  summary: "an installation's firing episodes of the last 30 days",
  help: `Usage: ${programName} history INSTALLATION [--integration ID] [--json]

Prints the firing episodes the service recorded for one installation (the episode log in Redis:
the last 30 days, at most 50 per installation), newest first: the condition, when it began (the
first bad poll), when it fired, when and how it ended (recovered, or removed from the listing;
"open" while it still fires), how long it lasted, and the failing operation and its first error
when they were known. Read-only.

Options:
  --integration ID  look only in this integration (else in every stored one)
  --json            machine output: { installationId, episodes: [{ integrationId, condition, since,
                    firedAt, endedAt, reason, durationMs, operationId, error }] } (times ISO 8601 or null)
  -h, --help        this help

Exit codes: 0 shown (an installation without episodes shows none); 2 bad usage or configuration;
3 Redis cannot be read.
`,
  options: { integration: { type: 'string' }, json: { type: 'boolean' } },
  positionals: true,
};

export interface HistoryOptions {
  readonly installationId: string;
  readonly integrationId: string | undefined;
  readonly json: boolean;
}

export function readHistoryOptions(values: OptionValues, positionals: readonly string[]): HistoryOptions {
  const [installationId, ...extra] = positionals;
  if (installationId === undefined || installationId === '')
    throw new UsageError(`${programName} history: no installation id given; see ${programName} history --help`);
  if (extra.length > 0)
    throw new UsageError(`${programName} history: one installation id at a time, got ${positionals.length}; see ${programName} history --help`);
  const integration = values['integration'];
  return { installationId, integrationId: typeof integration === 'string' ? integration : undefined, json: values['json'] === true };
}

export interface HistoryDeps {
  readonly snapshots: Pick<SnapshotStore, 'loadAll' | 'loadEpisodes'>;
  readonly names: IntegrationNames;
  readonly now: () => Date;
  readonly io: CliIo;
}

interface Row {
  readonly integrationId: string;
  readonly episode: Episode;
}

export async function runHistory(options: HistoryOptions, deps: HistoryDeps): Promise<ExitCode> {
  const { io } = deps;
  const nowMs = deps.now().getTime();
  const integrations = options.integrationId === undefined ? (await deps.snapshots.loadAll()).map((s) => s.integrationId) : [options.integrationId];
  const rows: Row[] = [];
  for (const integrationId of integrations) {
    const logs = await deps.snapshots.loadEpisodes(integrationId, [options.installationId]);
    for (const episode of logs.get(options.installationId) ?? []) rows.push({ integrationId, episode });
  }
  rows.sort((a, b) => episodeStart(b.episode) - episodeStart(a.episode));
  const lasted = (e: Episode): number | undefined => (e.endedAt === undefined ? undefined : e.endedAt - episodeStart(e));
  if (options.json) {
    io.out(
      jsonText({
        installationId: options.installationId,
        episodes: rows.map(({ integrationId, episode: e }) => ({
          integrationId,
          condition: e.condition,
          since: jsonTime(e.since ?? undefined),
          firedAt: jsonTime(e.firedAt),
          endedAt: jsonTime(e.endedAt),
          reason: e.endedAt === undefined ? 'open' : (e.reason ?? null),
          durationMs: lasted(e) ?? null,
          operationId: e.operationId ?? null,
          error: e.error ?? null,
        })),
      }),
    );
    return exitCodes.ok;
  }
  const who = JSON.stringify(cell(options.installationId, maxIdWidth));
  if (rows.length === 0) {
    io.out(`No episode recorded for installation ${who} in the last 30 days.\n`);
    return exitCodes.ok;
  }
  const columns: Column<Row>[] = [
    { header: 'INTEGRATION', value: (r) => integrationLabel(deps.names, r.integrationId), max: 60 },
    { header: 'CONDITION', value: (r) => r.episode.condition, max: 20 },
    { header: 'BEGAN', value: (r) => (r.episode.since === null ? 'unknown' : formatTime(r.episode.since)), max: 20 },
    { header: 'FIRED', value: (r) => formatTime(r.episode.firedAt), max: 20 },
    {
      header: 'ENDED',
      value: (r) => (r.episode.endedAt === undefined ? 'open' : `${formatTime(r.episode.endedAt)} (${r.episode.reason ?? 'ended'})`),
      max: 34,
    },
    {
      header: 'LASTED',
      value: (r) => formatDuration(lasted(r.episode) ?? nowMs - episodeStart(r.episode)) + (r.episode.endedAt === undefined ? ' so far' : ''),
      max: 16,
    },
    { header: 'OPERATION', value: (r) => r.episode.operationId ?? '-', max: 40 },
    { header: 'ERROR', value: (r) => r.episode.error ?? '-', max: 80 },
  ];
  io.out(`${[`Episodes of installation ${who}, newest first (the last 30 days)`, '', ...renderTable(columns, rows)].join('\n')}\n`);
  return exitCodes.ok;
}
