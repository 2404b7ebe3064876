import { describe, expect, it } from 'vitest';
import type { AlertEvent, Condition } from '../../src/core/alert-state.js';
import {
  decodeEpisodeLog,
  encodeEpisodeLog,
  episodeKey,
  episodeLogExpiry,
  episodeRetentionMs,
  episodesThisWeek,
  maxEpisodesPerInstallation,
  pruneEpisodes,
  recordEpisodes,
  type Episode,
  type InstallationEvent,
} from '../../src/core/episodes.js';
import type { FailureDetails } from '../../src/core/operation.js';
import type { MuteNote } from '../../src/core/silences.js';

const T = Date.parse('2026-12-01T14:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const closed = (condition: Condition, start: number, end: number): Episode => ({
  condition,
  since: start,
  firedAt: start + 60_000,
  endedAt: end,
  reason: 'recovered',
});
const open = (condition: Condition, start: number): Episode => ({ condition, since: start, firedAt: start + 60_000 });

const event = (installationId: string, condition: Condition, e: Exclude<AlertEvent, { kind: 'none' }>): InstallationEvent => ({
  installationId,
  condition,
  event: e,
});
const fire = (since: number | null, firedAt: number, deferred = false): Exclude<AlertEvent, { kind: 'none' }> => ({
  kind: 'fire',
  notify: true,
  deferred,
  since,
  firedAt,
});
const resolve = (since: number | null, firedAt: number, endedAt: number): Exclude<AlertEvent, { kind: 'none' }> => ({
  kind: 'resolve',
  notify: true,
  reason: 'recovered',
  since,
  firedAt,
  endedAt,
});

const details: FailureDetails = {
  operationId: 'op-1',
  actionType: 'read',
  result: '[account] Read failed',
  errorLines: ['INVALID_SESSION_ID: Session expired or invalid', 'second'],
  omittedErrorLines: 0,
  time: undefined,
};

describe('the episode log format', () => {
  it('round-trips every field, oldest first', () => {
    const log: Episode[] = [
      { ...closed('unhealthy', T - 5 * HOUR, T - 4 * HOUR), reason: 'removed' },
      { condition: 'operation_failing', since: null, firedAt: T - HOUR, operationId: 'op-1', error: 'boom' },
    ];
    expect(JSON.parse(encodeEpisodeLog(log))).toMatchObject({ v: 1, episodes: log });
    expect(decodeEpisodeLog(encodeEpisodeLog(log))).toEqual(log);
  });

  it('reads leniently: an entry it cannot read is left out, the rest kept, and extra fields ignored', () => {
    const raw = JSON.stringify({
      v: 1,
      episodes: [
        { condition: 'unhealthy', since: T, firedAt: T, later: 'field' },
        { condition: 'nope', since: T, firedAt: T },
        { condition: 'unhealthy', since: 'yesterday', firedAt: T },
        { condition: 'bad_credentials', since: null, firedAt: T, endedAt: -1 },
        'garbage',
      ],
    });
    expect(decodeEpisodeLog(raw)).toEqual([{ condition: 'unhealthy', since: T, firedAt: T }]);
  });

  it.each([null, undefined, 'not json', '[]', '{"v":2,"episodes":[]}', '{"v":1}'])('reads %s as no episode', (raw) => {
    expect(decodeEpisodeLog(raw)).toEqual([]);
  });
});

describe('pruneEpisodes', () => {
  it('keeps open episodes and those that ended within 30 days', () => {
    const old = closed('unhealthy', T - 40 * DAY, T - episodeRetentionMs);
    const recent = closed('unhealthy', T - 40 * DAY, T - episodeRetentionMs + 1);
    const stillOpen = open('operation_failing', T - 60 * DAY);
    expect(pruneEpisodes([old, recent, stillOpen], T)).toEqual([recent, stillOpen]);
  });

  it(`keeps the newest ${maxEpisodesPerInstallation}, whatever their age`, () => {
    const many = Array.from({ length: maxEpisodesPerInstallation + 5 }, (_, i) => closed('unhealthy', T - 100 * HOUR + i * HOUR, T - 99 * HOUR + i * HOUR));
    expect(pruneEpisodes(many, T)).toEqual(many.slice(5));
  });
});

describe('episodeLogExpiry', () => {
  it('is 30 days after the last end, or never while an episode is open', () => {
    expect(episodeLogExpiry([closed('unhealthy', T - 2 * DAY, T - DAY), closed('unhealthy', T - 5 * DAY, T - 3 * DAY)])).toBe(T - DAY + episodeRetentionMs);
    expect(episodeLogExpiry([closed('unhealthy', T - 2 * DAY, T - DAY), open('unhealthy', T)])).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('episodesThisWeek', () => {
  it('counts the episodes of the condition that began in the last 7 days', () => {
    const log = [
      closed('unhealthy', T - 8 * DAY, T - 7 * DAY),
      closed('unhealthy', T - 6 * DAY, T - 5 * DAY),
      { ...open('unhealthy', 0), since: null, firedAt: T - HOUR },
      open('operation_failing', T - DAY),
    ];
    expect(episodesThisWeek(log, 'unhealthy', T)).toBe(2);
    expect(episodesThisWeek(log, 'operation_failing', T)).toBe(1);
    expect(episodesThisWeek(log, 'bad_credentials', T)).toBe(0);
  });
});

describe('recordEpisodes', () => {
  it('opens an episode on a fire, with the failing operation and its first error line, and counts it this week', () => {
    const logs = new Map([['a', [closed('operation_failing', T - 2 * DAY, T - DAY)]]]);
    const result = recordEpisodes(logs, [event('a', 'operation_failing', fire(T - 60_000, T))], new Map([['a', details]]), T);
    expect(result.logs.get('a')).toEqual([
      closed('operation_failing', T - 2 * DAY, T - DAY),
      { condition: 'operation_failing', since: T - 60_000, firedAt: T, operationId: 'op-1', error: 'INVALID_SESSION_ID: Session expired or invalid' },
    ]);
    expect(result.thisWeek.get(episodeKey('a', 'operation_failing'))).toBe(2);
  });

  it('closes the open episode on a resolve, keeping its error', () => {
    const firing: Episode = { condition: 'operation_failing', since: T - HOUR, firedAt: T - 50 * 60_000, operationId: 'op-1', error: 'boom' };
    const result = recordEpisodes(
      new Map([['a', [firing]]]),
      [event('a', 'operation_failing', resolve(T - HOUR, T - 50 * 60_000, T - 10 * 60_000))],
      new Map(),
      T,
    );
    expect(result.logs.get('a')).toEqual([{ ...firing, endedAt: T - 10 * 60_000, reason: 'recovered' }]);
    expect(result.thisWeek.size).toBe(0);
  });

  it('adds the closed episode of a resolve with none open: it fired before the log existed (an upgrade)', () => {
    const result = recordEpisodes(new Map([['a', []]]), [event('a', 'unhealthy', resolve(null, T - HOUR, T))], new Map(), T);
    expect(result.logs.get('a')).toEqual([{ condition: 'unhealthy', since: null, firedAt: T - HOUR, endedAt: T, reason: 'recovered' }]);
  });

  it('completes, not repeats, the episode a held-back firing opened when it is sent', () => {
    const held: Episode = { condition: 'unhealthy', since: T - HOUR, firedAt: T - 30 * 60_000 };
    const result = recordEpisodes(new Map([['a', [held]]]), [event('a', 'unhealthy', fire(T - HOUR, T - 30 * 60_000, true))], new Map(), T);
    expect(result.logs.get('a')).toEqual([{ ...held, notifiedAt: T }]);
    expect(result.thisWeek.get(episodeKey('a', 'unhealthy'))).toBe(1);
  });

  describe('when a silence or a maintenance window mutes a firing', () => {
    const mute: MuteNote = { by: 'silences[0]', kind: 'silence', reason: 'migration', until: T + HOUR };
    const muted = (e: Exclude<AlertEvent, { kind: 'none' }>): InstallationEvent => ({ ...event('a', 'unhealthy', e), mute });
    const mutedFire: AlertEvent & { kind: 'fire' } = { kind: 'fire', notify: false, deferred: false, since: T - HOUR, firedAt: T };

    it('records what muted it in the episode the muted firing opens', () => {
      const result = recordEpisodes(new Map([['a', []]]), [muted(mutedFire)], new Map(), T);
      expect(result.logs.get('a')).toEqual([{ condition: 'unhealthy', since: T - HOUR, firedAt: T, silenced: mute }]);
    });

    it('keeps what muted it, and says when it was sent, when the firing is sent after the mute ended', () => {
      const first = recordEpisodes(new Map([['a', []]]), [muted(mutedFire)], new Map(), T);
      const later = T + 2 * HOUR;
      const sent = recordEpisodes(first.logs, [event('a', 'unhealthy', fire(T - HOUR, T, true))], new Map(), later);
      expect(sent.logs.get('a')).toEqual([{ condition: 'unhealthy', since: T - HOUR, firedAt: T, silenced: mute, notifiedAt: later }]);
    });

    it('does not mark a firing that was sent, even when the installation was muted at that poll', () => {
      const result = recordEpisodes(new Map([['a', []]]), [muted(fire(T - HOUR, T))], new Map(), T);
      expect(result.logs.get('a')?.[0]?.silenced).toBeUndefined();
    });

    it('reads back what it stored, and an episode whose silenced cannot be read without it', () => {
      const stored = encodeEpisodeLog([
        { condition: 'unhealthy', since: T - HOUR, firedAt: T, silenced: { ...mute, also: ['maintenance[1]'] }, notifiedAt: T + 1 },
      ]);
      expect(decodeEpisodeLog(stored)).toEqual([
        { condition: 'unhealthy', since: T - HOUR, firedAt: T, silenced: { ...mute, also: ['maintenance[1]'] }, notifiedAt: T + 1 },
      ]);
      const odd = JSON.stringify({ v: 1, episodes: [{ condition: 'unhealthy', since: null, firedAt: T, silenced: { by: 7, kind: 'silence', until: T } }] });
      expect(decodeEpisodeLog(odd)).toEqual([{ condition: 'unhealthy', since: null, firedAt: T }]);
    });

    it('reads a log stored before episodes were marked silenced as episodes that were never muted', () => {
      const before = JSON.stringify({
        v: 1,
        episodes: [{ condition: 'bad_credentials', since: T - DAY, firedAt: T - DAY + 60_000, endedAt: T, reason: 'recovered' }],
      });
      expect(decodeEpisodeLog(before)).toEqual([{ condition: 'bad_credentials', since: T - DAY, firedAt: T - DAY + 60_000, endedAt: T, reason: 'recovered' }]);
    });
  });

  it('closes an episode left open by a firing that never resolved, when the condition fires again', () => {
    const lost: Episode = { condition: 'unhealthy', since: T - DAY, firedAt: T - DAY };
    const result = recordEpisodes(new Map([['a', [lost]]]), [event('a', 'unhealthy', fire(T - HOUR, T))], new Map(), T);
    expect(result.logs.get('a')).toEqual([
      { ...lost, endedAt: T - HOUR },
      { condition: 'unhealthy', since: T - HOUR, firedAt: T },
    ]);
  });

  it('changes nothing for a reminder, and records nothing for an installation whose log was not read', () => {
    const remind: Exclude<AlertEvent, { kind: 'none' }> = { kind: 'remind', notify: true, since: T - DAY, firedAt: T - DAY };
    const result = recordEpisodes(
      new Map([['a', [open('unhealthy', T - DAY)]]]),
      [event('a', 'unhealthy', remind), event('b', 'unhealthy', fire(T, T))],
      new Map(),
      T,
    );
    expect(result.logs.size).toBe(0);
    expect(result.thisWeek.size).toBe(0);
  });

  it('prunes what it writes: episodes that ended more than 30 days ago go', () => {
    const ancient = closed('unhealthy', T - 50 * DAY, T - 40 * DAY);
    const result = recordEpisodes(new Map([['a', [ancient]]]), [event('a', 'bad_credentials', fire(T, T))], new Map(), T);
    expect(result.logs.get('a')).toEqual([{ condition: 'bad_credentials', since: T, firedAt: T }]);
  });
});
