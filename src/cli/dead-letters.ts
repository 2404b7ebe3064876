/**
 * `dead-letters list` and `dead-letters replay`: the messages the channel
 * refused, or that outlived the retry horizon, which nobody saw in Slack; and
 * putting them back in the outbox, where the running service delivers them
 * again, in order, after what is already waiting.
 */
import type { AlertEventItem, MassEvent } from '../core/alert-notification.js';
import type { AlertItem } from '../core/alert-policy.js';
import type { Notification } from '../core/notification.js';
import { DEFAULT_DESTINATION, isDefaultDestination, replayedEntryId } from '../core/outbox-entry.js';
import type { Outbox, OutboxEntry } from '../ports.js';
import { programName, type CliIo, type CommandDefinition, type OptionValues } from './command-definition.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { renderTable, type Column } from './table.js';
import { cell } from './terminal-text.js';
import { jsonText } from './state-view.js';
import { formatAgo, formatTime, jsonTime } from './time-text.js';
import { UsageError } from './usage-error.js';

export const deadLettersHelp = `Usage: ${programName} dead-letters <list|replay> [options]

The dead letters are the messages Slack refused for good, or that were not delivered within
SLACK_RETRY_HORIZON_HOURS while Slack worked: nobody saw them in Slack. They are kept in
Redis (at most SLACK_DEAD_LETTER_MAX, oldest trimmed first).

Commands:
  list     show them, oldest first
  replay   put them back in the outbox, to be delivered again

Run ${programName} dead-letters <command> --help for its options.
`;

export const deadLettersListDefinition: CommandDefinition<'dead-letters list'> = {
  name: 'dead-letters list',
  summary: 'the messages Slack refused, or that outlived the retry horizon',
  help: `Usage: ${programName} dead-letters list [--json]

Lists the dead letters in Redis, oldest first: id, when the change was detected, destination,
kind (transitions, baseline, upstream) and a one-line summary. Read-only.

Options:
  --json      machine output, with each whole notification; fields in the README
  -h, --help  this help

Exit codes: 0 listed (also when there are none); 2 bad usage or configuration; 3 Redis cannot be read.
`,
  options: { json: { type: 'boolean' } },
  positionals: false,
};

export const deadLettersReplayDefinition: CommandDefinition<'dead-letters replay'> = {
  name: 'dead-letters replay',
  summary: 'put dead letters back in the outbox, to be delivered again',
  help: `Usage: ${programName} dead-letters replay (--all | ID...)

Moves the named dead letters (or all that can be read) back to the end of the outbox, in
the order given, in one step per message in Redis: none is lost or doubled. Each gets a new id
(its old id and ".replay-" and a random token; Slack shows it as the message's ref), because
the delivery job of the old id is still known to BullMQ, and a fresh retry horizon. If an ID is
not a dead letter, or cannot be read, nothing is moved.

The running service sends them, in order, after the messages already waiting: at once if it is
delivering, else when its next poll cycle hands the outbox on (within POLL_INTERVAL_SECONDS),
and only while Slack works. A message Slack refuses again goes back to the dead letters.

Options:
  --all       every dead letter that can be read
  -h, --help  this help

Exit codes: 0 replayed (also when there was none for --all); 1 an ID is not a dead letter or
cannot be read (nothing replayed); 2 bad usage or configuration; 3 Redis cannot be read.
`,
  options: { all: { type: 'boolean' } },
  positionals: true,
};

/** The widest summary in the table; `--json` has the whole notification. */
const maxSummaryWidth = 100;

/** One line about a notification, for the list: whom it is about and what it says. */
export function notificationSummary(n: Notification): string {
  if (n.kind === 'upstream') {
    const scope = n.integrationId === undefined ? 'Ampersand API' : `Ampersand API, integration ${n.integrationId}`;
    if (n.state === 'down') return `${scope} cannot be read: ${n.reason}`;
    return n.noLongerMonitored === true ? `${scope}: no longer monitored` : `${scope} can be read again`;
  }
  if (n.kind === 'dropped') return `outbox${n.route === undefined ? '' : ` lane ${n.route}`}: ${n.count} message(s) dropped past its cap of ${n.cap}`;
  // Stored data: the codec checked the kind, not every item; an odd one reads as blank rather than throws.
  if (n.kind === 'alerts') {
    const events = (Array.isArray(n.items) ? n.items : []) as readonly AlertEventItem[];
    const mass = (Array.isArray(n.mass) ? n.mass : []) as readonly MassEvent[];
    const described = [
      ...mass.map((m) => `mass event: ${m.installations} installation(s) ${m.event === 'fire' ? 'failing' : 'recovered'}`),
      ...events.map((i) => `${i.installationId} ${i.condition} ${i.event}`),
    ];
    const more = typeof n.omitted === 'number' && n.omitted > 0 ? `; +${n.omitted} more` : '';
    return `${n.integrationId}: ${described.join('; ')}${more}`;
  }
  const items = (Array.isArray(n.items) ? n.items : []) as readonly AlertItem[];
  const part = n.parts > 1 ? ` (part ${n.part}/${n.parts})` : '';
  const described = items.map((i) => (n.kind === 'baseline' ? `${i.installationId} ${i.field} ${i.to}` : `${i.installationId} ${i.field} ${i.from} → ${i.to}`));
  if (n.kind === 'baseline') {
    const installations = new Set(items.map((i) => i.installationId)).size;
    return `${n.integrationId}${part}: first look, ${installations} installation(s) need attention: ${described.join('; ')}`;
  }
  const problems = items.filter((i) => i.severity === 'problem').length;
  return `${n.integrationId}${part}: ${problems} problem(s), ${items.length - problems} recovery(ies): ${described.join('; ')}`;
}

/** When the change was detected, as the notification says (an ISO time), or the raw value if it is none. */
function detectedText(detectedAt: string, nowMs: number): string {
  const ms = Date.parse(detectedAt);
  return Number.isNaN(ms) ? detectedAt : formatAgo(ms, nowMs);
}

export interface DeadLettersDeps {
  readonly outbox: Pick<Outbox, 'deadLetters' | 'channelStatus' | 'replayDeadLetters' | 'size'>;
  readonly now: () => Date;
  readonly io: CliIo;
}

/**
 * `dead-letters list`. JSON fields (stable): deadLetters: [{ id, destination, kind, detectedAt,
 * enqueuedAt (ISO), summary, notification }], unreadable (how many more cannot be read).
 */
export async function runDeadLettersList(values: OptionValues, deps: DeadLettersDeps): Promise<ExitCode> {
  const { io } = deps;
  const [letters, status] = await Promise.all([deps.outbox.deadLetters(), deps.outbox.channelStatus()]);
  // The count includes the unreadable ones, which deadLetters leaves out.
  const unreadable = Math.max(0, status.deadLetters - letters.length);
  const nowMs = deps.now().getTime();
  if (values['json'] === true) {
    const deadLetters = letters.map((e) => ({
      id: e.id,
      destination: e.destination,
      kind: e.notification.kind,
      detectedAt: e.notification.detectedAt,
      enqueuedAt: jsonTime(e.enqueuedAt),
      summary: notificationSummary(e.notification),
      notification: e.notification,
    }));
    io.out(jsonText({ deadLetters, unreadable }));
    return exitCodes.ok;
  }
  const lines: string[] = [];
  if (letters.length === 0) lines.push('No dead letters.');
  else {
    const columns: Column<OutboxEntry>[] = [
      { header: 'ID', value: (e) => e.id, max: 80 },
      { header: 'DETECTED', value: (e) => detectedText(e.notification.detectedAt, nowMs), max: 60 },
      { header: 'DESTINATION', value: (e) => e.destination, max: 20 },
      { header: 'KIND', value: (e) => e.notification.kind, max: 12 },
      { header: 'SUMMARY', value: (e) => notificationSummary(e.notification), max: maxSummaryWidth },
    ];
    lines.push(...renderTable(columns, letters), '', `${letters.length} dead letter(s), oldest first.`);
    lines.push(`Replay: ${programName} dead-letters replay ID... (or --all)`);
  }
  if (unreadable > 0) lines.push(`${unreadable} more cannot be read (not shown; they cannot be replayed).`);
  io.out(`${lines.join('\n')}\n`);
  return exitCodes.ok;
}

export interface ReplayDeps extends DeadLettersDeps {
  /** A random token of lower-case letters and digits, for each new id. */
  readonly newToken: () => string;
  /** POLL_INTERVAL_SECONDS in ms: how soon the service's next cycle hands the outbox on. */
  readonly pollIntervalMs: number;
  /**
   * The outbox lane of a route: a dead letter goes back to the lane of its route (its destination),
   * so that one route's webhook never holds up another's. Without it, every letter goes to `outbox`.
   */
  readonly lane?: (route: string) => Pick<Outbox, 'replayDeadLetters'>;
}

/** The dead letters asked for, by the lane each goes back to (its destination; the default one when unknown), in the order asked. */
async function byLane(ids: readonly string[], deps: ReplayDeps): Promise<{ lane: Pick<Outbox, 'replayDeadLetters'>; ids: string[] }[]> {
  const { lane } = deps;
  if (lane === undefined) return [{ lane: deps.outbox, ids: [...ids] }];
  const destinations = new Map((await deps.outbox.deadLetters()).map((e) => [e.id, isDefaultDestination(e.destination) ? DEFAULT_DESTINATION : e.destination]));
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const route = destinations.get(id) ?? DEFAULT_DESTINATION;
    groups.set(route, [...(groups.get(route) ?? []), id]);
  }
  return [...groups].map(([route, routeIds]) => ({ lane: route === DEFAULT_DESTINATION ? deps.outbox : lane(route), ids: routeIds }));
}

/** What `dead-letters replay` was asked to replay: every readable dead letter, or these ids. */
export type ReplayTarget = { readonly all: true } | { readonly ids: readonly string[] };

/** Checks the arguments of `dead-letters replay` (before anything is opened): --all or IDs, not both, not neither. */
export function readReplayTarget(values: OptionValues, positionals: readonly string[]): ReplayTarget {
  const all = values['all'] === true;
  const see = `see ${programName} dead-letters replay --help`;
  if (all && positionals.length > 0) throw new UsageError(`${programName} dead-letters replay: --all and IDs do not go together; ${see}`);
  if (!all && positionals.length === 0) throw new UsageError(`${programName} dead-letters replay: name the dead letters to replay (IDs) or --all; ${see}`);
  return all ? { all } : { ids: [...new Set(positionals)] };
}

/** `dead-letters replay`: moves the dead letters back in one call to the outbox, and says how soon they are sent. */
export async function runDeadLettersReplay(target: ReplayTarget, deps: ReplayDeps): Promise<ExitCode> {
  const { io } = deps;
  const ids = 'all' in target ? (await deps.outbox.deadLetters()).map((e) => e.id) : target.ids;
  if (ids.length === 0) {
    io.out('No dead letters to replay.\n');
    return exitCodes.ok;
  }
  const nowMs = deps.now().getTime();
  const results = [];
  for (const group of await byLane(ids, deps)) results.push(await group.lane.replayDeadLetters(group.ids, nowMs, (id) => replayedEntryId(id, deps.newToken())));
  const result = {
    replayed: results.flatMap((r) => r.replayed),
    missing: results.flatMap((r) => r.missing),
    unreadable: results.flatMap((r) => r.unreadable),
  };
  const quoted = (list: readonly string[]): string => list.map((id) => JSON.stringify(cell(id, 80))).join(', ');
  const lines: string[] = [];
  if (result.replayed.length > 0) {
    lines.push(`Replayed ${result.replayed.length} dead letter(s) into the outbox, under new ids:`);
    lines.push(...result.replayed.map((r) => `  ${cell(r.id, 80)} → ${cell(r.newId, 100)}`));
    const [waiting, channel] = await Promise.all([deps.outbox.size(), deps.outbox.channelStatus()]);
    lines.push(
      `The outbox holds ${waiting} message(s), these last. A running service sends them in order: at once if it is delivering, ` +
        `else from its next poll cycle (every ${deps.pollIntervalMs / 1000} s, POLL_INTERVAL_SECONDS).`,
    );
    if (channel.up === false) {
      const since = channel.downSinceMs === undefined ? '' : ` since ${formatTime(channel.downSinceMs)}`;
      lines.push(
        `Delivery is paused: the Slack webhook does not work${since} (${cell(channel.reason ?? 'no reason', 200)}); they are sent once it works again.`,
      );
    }
    io.out(`${lines.join('\n')}\n`);
  }
  if (result.missing.length > 0 || result.unreadable.length > 0) {
    const problems = [
      ...(result.missing.length > 0 ? [`not a dead letter: ${quoted(result.missing)}`] : []),
      ...(result.unreadable.length > 0 ? [`cannot be read: ${quoted(result.unreadable)}`] : []),
    ];
    // A long replay moves a chunk at a time, each whole or not at all: the ones before a missing id
    // in its chunk did not move either. Only the list printed above says which did.
    const moved = result.replayed.length > 0 ? `the ${result.replayed.length} listed above were replayed, the others not` : 'nothing was replayed';
    io.err(`${programName} dead-letters replay: ${problems.join('; ')}; ${moved} (see ${programName} dead-letters list)\n`);
    return exitCodes.attention;
  }
  return exitCodes.ok;
}
