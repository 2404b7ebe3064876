/**
 * The episode log: each installation's firing episodes, one per condition that
 * fired (when it began, when it fired, when and how it ended, and the failing
 * operation's error if one was looked up), kept 30 days and at most
 * maxEpisodesPerInstallation of them. The messages count it ("3rd time this
 * week"); the CLI's history and the status page read it.
 *
 * Pure: the poll job loads the logs of the installations with an event, this
 * module works out their next logs (recordEpisodes), and the store writes them
 * in the same commit as the snapshot. Each installation's log is stored as
 *
 *   { "v": 1, "episodes": [{ "condition": "unhealthy", "since": 1796133720000, "firedAt": …,
 *       "endedAt": …, "reason": "recovered", "operationId": "…", "error": "…" }, …] }
 *
 * oldest first; `since` is null when the episode began before this monitor
 * kept alert states (an upgrade) or a baseline; `endedAt` and `reason` are
 * absent while it fires. An episode whose firing a silence or a maintenance
 * window kept from being sent carries `"silenced": { "by": "silences[0]",
 * "kind": "silence", "reason": "…", "until": … }` (the rule that muted it, as
 * the file places it, and when the mute ended or ends); `notifiedAt` says when
 * it was sent after all (the mute ended while it still fired). Both are
 * optional fields of format 1: a log written before them reads as episodes
 * that were never muted, and a release before them skips them. Read
 * leniently: an entry that cannot be read is skipped (a later release may add
 * fields; an older one's are all read), and so is a `silenced` that cannot.
 */
import { CONDITIONS, type Condition, type ConditionEvent } from './alert-state.js';
import type { FailureDetails } from './operation.js';
import type { MuteNote } from './silences.js';

/** One event of a poll's alert steps, with its installation and what muted it (poll-plan.ts's PlannedAlertEvent). */
export type InstallationEvent = ConditionEvent & { readonly installationId: string; readonly mute?: MuteNote };

export interface Episode {
  readonly condition: Condition;
  /** Epoch ms of the first bad poll; null when not known (carried over from before alert states were kept). */
  readonly since: number | null;
  /** Epoch ms when it fired. */
  readonly firedAt: number;
  /** Epoch ms when the problem ended; absent while it fires. */
  readonly endedAt?: number;
  /** How it ended: good polls, or the installation was no longer listed. */
  readonly reason?: 'recovered' | 'removed';
  /** The failing operation, for `operation_failing`, when its details were looked up. */
  readonly operationId?: string;
  /** Its first error line (or its result), one line, cut. */
  readonly error?: string;
  /** Set when a silence or a maintenance window kept its firing from being sent: which rule, why, until when. */
  readonly silenced?: MuteNote;
  /** Epoch ms when a silenced firing was sent after all: its mute ended while it still fired. */
  readonly notifiedAt?: number;
}

export const episodeLogVersion = 1;
/** How long an ended episode is kept. */
export const episodeRetentionMs = 30 * 24 * 3_600_000;
/** The window of "3rd time this week". */
export const episodeWeekMs = 7 * 24 * 3_600_000;
/** The newest episodes kept per installation, whatever their age: a flapping installation cannot grow its log without bound. */
export const maxEpisodesPerInstallation = 50;
/** An episode's error is cut to this many characters. */
const maxErrorLength = 300;

/** When an episode began: its first bad poll, or when it fired when that is not known. */
export const episodeStart = (episode: Episode): number => episode.since ?? episode.firedAt;

/** The stored form of one installation's log. */
export function encodeEpisodeLog(episodes: readonly Episode[]): string {
  return JSON.stringify({ v: episodeLogVersion, episodes });
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A stored `silenced`, or undefined when it cannot be read (the episode is kept without it). */
function decodeMuteNote(value: unknown): MuteNote | undefined {
  if (!isObject(value)) return undefined;
  const { by, kind, reason, until, also } = value;
  if (typeof by !== 'string' || (kind !== 'silence' && kind !== 'maintenance') || !isTime(until)) return undefined;
  const others = Array.isArray(also) ? also.filter((a): a is string => typeof a === 'string') : [];
  return { by, kind, ...(typeof reason === 'string' ? { reason } : {}), until, ...(others.length === 0 ? {} : { also: others }) };
}

function decodeEpisode(value: unknown): Episode | undefined {
  if (!isObject(value)) return undefined;
  const { condition, since, firedAt, endedAt, reason, operationId, error, silenced, notifiedAt } = value;
  const known = CONDITIONS.find((c) => c === condition);
  if (known === undefined || !(since === null || isTime(since)) || !isTime(firedAt)) return undefined;
  if (endedAt !== undefined && !isTime(endedAt)) return undefined;
  return {
    condition: known,
    since,
    firedAt,
    ...(endedAt === undefined ? {} : { endedAt }),
    ...(reason === 'recovered' || reason === 'removed' ? { reason } : {}),
    ...(typeof operationId === 'string' ? { operationId } : {}),
    ...(typeof error === 'string' ? { error } : {}),
    ...(silenced === undefined ? {} : optional('silenced', decodeMuteNote(silenced))),
    ...(isTime(notifiedAt) ? { notifiedAt } : {}),
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

/** One installation's stored log, oldest first; what cannot be read is left out (all of it, for a log of an unknown format). */
export function decodeEpisodeLog(raw: string | null | undefined): Episode[] {
  if (raw === null || raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!isObject(parsed) || parsed['v'] !== episodeLogVersion || !Array.isArray(parsed['episodes'])) return [];
  return parsed['episodes'].flatMap((e: unknown) => decodeEpisode(e) ?? []);
}

/** What is kept of a log at `nowMs`: open episodes, those that ended within 30 days, the newest maxEpisodesPerInstallation. */
export function pruneEpisodes(episodes: readonly Episode[], nowMs: number): Episode[] {
  const kept = episodes.filter((e) => e.endedAt === undefined || e.endedAt > nowMs - episodeRetentionMs);
  return kept.slice(Math.max(0, kept.length - maxEpisodesPerInstallation));
}

/**
 * When a stored log may be dropped as a whole: 30 days after its last end, or
 * never (Infinity) while an episode is open. The store drops logs past it,
 * so an installation whose log nobody writes again does not stay forever.
 */
export function episodeLogExpiry(episodes: readonly Episode[]): number {
  if (episodes.some((e) => e.endedAt === undefined)) return Number.POSITIVE_INFINITY;
  return Math.max(0, ...episodes.map((e) => (e.endedAt ?? 0) + episodeRetentionMs));
}

/** How many episodes of `condition` began in the 7 days up to `nowMs`. */
export function episodesThisWeek(episodes: readonly Episode[], condition: Condition, nowMs: number): number {
  return episodes.filter((e) => e.condition === condition && episodeStart(e) > nowMs - episodeWeekMs).length;
}

/** The failure's one line for the log: its first error line, else its result. */
function errorOf(details: FailureDetails | undefined): { operationId?: string; error?: string } {
  if (details === undefined) return {};
  const line = details.errorLines[0] ?? details.result;
  return { operationId: details.operationId, ...(line === undefined ? {} : { error: line.slice(0, maxErrorLength) }) };
}

/** The index of the open episode of `condition` that fired at `firedAt`, else of its last open one, else -1. */
function openEpisode(episodes: readonly Episode[], condition: Condition, firedAt: number): number {
  const open = (e: Episode): boolean => e.condition === condition && e.endedAt === undefined;
  const same = episodes.findIndex((e) => open(e) && e.firedAt === firedAt);
  return same !== -1 ? same : episodes.findLastIndex(open);
}

export interface RecordedEpisodes {
  /** The next log of each installation that had an event (empty: nothing left to keep). */
  readonly logs: ReadonlyMap<string, readonly Episode[]>;
  /** Per fired event (`${installationId}\u0000${condition}`), how many episodes of it began this week, this one included. */
  readonly thisWeek: ReadonlyMap<string, number>;
}

/** The key of one installation's condition in RecordedEpisodes.thisWeek. */
export const episodeKey = (installationId: string, condition: Condition): string => `${installationId}\u0000${condition}`;

/**
 * Records a poll's alert events in the logs of their installations (`logs`,
 * as loaded; an installation missing from it is not recorded, since its log
 * was not read). A fire opens an episode, with the failing operation's error
 * when `details` has it (a deferred fire completes the one its muted firing
 * opened; an episode of that condition left open by a firing that never
 * resolved is closed at its start); a resolve closes the open one, or adds the
 * closed episode when none is open (it fired before the log existed, or was
 * trimmed); a reminder changes nothing. Each log is then pruned at `nowMs`.
 */
export function recordEpisodes(
  logs: ReadonlyMap<string, readonly Episode[]>,
  events: readonly InstallationEvent[],
  details: ReadonlyMap<string, FailureDetails>,
  nowMs: number,
): RecordedEpisodes {
  const next = new Map<string, Episode[]>();
  const thisWeek = new Map<string, number>();
  for (const { installationId, condition, event, mute } of events) {
    const loaded = logs.get(installationId);
    if (loaded === undefined || event.kind === 'remind') continue;
    const list = next.get(installationId) ?? [...loaded];
    next.set(installationId, list);
    const at = openEpisode(list, condition, event.firedAt);
    if (event.kind === 'fire') {
      const failure = condition === 'operation_failing' ? errorOf(details.get(installationId)) : {};
      const silenced = !event.notify && mute !== undefined ? { silenced: mute } : {};
      const episode: Episode = { condition, since: event.since, firedAt: event.firedAt, ...failure, ...silenced };
      const stale = at === -1 ? undefined : list[at];
      if (stale?.firedAt === event.firedAt) {
        // The deferred sending of a firing that was muted: the episode keeps what muted it, and says when it was sent.
        list[at] = { ...stale, ...episode, ...(event.deferred ? { notifiedAt: nowMs } : {}) };
        continue;
      }
      // An episode still open from an earlier firing that was never resolved (its alert state was lost):
      // it ended by the time this one began, at the latest, and an open one would be kept forever.
      if (stale !== undefined) list[at] = { ...stale, endedAt: Math.max(stale.firedAt, event.since ?? event.firedAt) };
      list.push(episode);
      continue;
    }
    const open = at === -1 ? undefined : list[at];
    const closed: Episode = { ...(open ?? { condition, since: event.since, firedAt: event.firedAt }), endedAt: event.endedAt, reason: event.reason };
    if (open === undefined) list.push(closed);
    else list[at] = closed;
  }
  const pruned = new Map<string, Episode[]>();
  for (const [id, list] of next) {
    const kept = pruneEpisodes(list, nowMs);
    pruned.set(id, kept);
    for (const { installationId, condition, event } of events) {
      if (installationId === id && event.kind === 'fire') thisWeek.set(episodeKey(id, condition), episodesThisWeek(kept, condition, nowMs));
    }
  }
  return { logs: pruned, thisWeek };
}
