import { describe, expect, it } from 'vitest';
import { matchesSubject, type AlertSubject, type SubjectMatch } from '../../src/core/alert-subject.js';
import { compileWindows, findMute, mutesAt, type MaintenanceWindow, type Silence } from '../../src/core/silences.js';

const subject: AlertSubject = { installationId: 'inst-1', groupRef: 'org-1', integrationId: 'int-1', projectId: 'proj-1', provider: 'salesforce' };

describe('matchesSubject', () => {
  it.each<[string, SubjectMatch, boolean]>([
    ['an empty match', {}, true],
    ['the installation', { installationId: 'inst-1' }, true],
    ['another installation', { installationId: 'inst-2' }, false],
    ['group and provider', { groupRef: 'org-1', provider: 'salesforce' }, true],
    ['group and another provider', { groupRef: 'org-1', provider: 'hubspot' }, false],
    ['every field', { installationId: 'inst-1', groupRef: 'org-1', integrationId: 'int-1', projectId: 'proj-1', provider: 'salesforce' }, true],
    ['the project only', { projectId: 'proj-1' }, true],
    ['the integration in another case', { integrationId: 'INT-1' }, false],
  ])('%s', (_name, match, expected) => {
    expect(matchesSubject(match, subject)).toBe(expected);
  });
});

const window = (cron: string, durationMinutes: number, timezone = 'Europe/Berlin', match: SubjectMatch = {}): MaintenanceWindow => ({
  match,
  cron,
  durationMinutes,
  timezone,
  reason: undefined,
});

/** When `w` mutes at `iso`: the end of the mute, or 'no'. */
function mutedUntil(w: MaintenanceWindow, iso: string): string {
  const mute = findMute(mutesAt([], compileWindows([w]), new Date(iso)), subject);
  return mute === undefined ? 'no' : mute.until.toISOString();
}

describe('maintenance windows', () => {
  describe('across the changes of daylight saving time in Europe/Berlin (last Sunday of March and October 2026)', () => {
    // Sundays at 02:00 Berlin time for 120 minutes: 01:00-03:00 UTC in winter (CET), 00:00-02:00 UTC in summer (CEST).
    const sunday2am = window('0 2 * * SUN', 120);
    it.each<[string, string, string]>([
      ['the Sunday before, winter time, just before', '2026-03-22T00:59:59Z', 'no'],
      ['the Sunday before, winter time, at the start', '2026-03-22T01:00:00Z', '2026-03-22T03:00:00.000Z'],
      ['the Sunday before, winter time, at the end', '2026-03-22T03:00:00Z', 'no'],
      // 02:00 does not exist on 29 March: the window starts at 03:00 CEST (01:00 UTC), the first time after the gap.
      ['the night the clocks go forward, at 01:00 CET', '2026-03-29T00:00:00Z', 'no'],
      ['the night the clocks go forward, at 03:00 CEST', '2026-03-29T01:00:00Z', '2026-03-29T03:00:00.000Z'],
      ['the night the clocks go forward, 119 minutes in', '2026-03-29T02:59:00Z', '2026-03-29T03:00:00.000Z'],
      ['the night the clocks go forward, 120 minutes in', '2026-03-29T03:00:00Z', 'no'],
      ['the Sunday after, summer time, at the start', '2026-04-05T00:00:00Z', '2026-04-05T02:00:00.000Z'],
      ['the Sunday after, summer time, at the end', '2026-04-05T02:00:00Z', 'no'],
      // 02:00 happens twice on 25 October: the window starts at the first (CEST, 00:00 UTC) and lasts 120 real minutes.
      ['the night the clocks go back, before', '2026-10-24T23:59:00Z', 'no'],
      ['the night the clocks go back, at the first 02:00', '2026-10-25T00:00:00Z', '2026-10-25T02:00:00.000Z'],
      ['the night the clocks go back, at the second 02:00', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00.000Z'],
      ['the night the clocks go back, 120 minutes in', '2026-10-25T02:00:00Z', 'no'],
      ['the Sunday after, winter time again', '2026-11-01T01:30:00Z', '2026-11-01T03:00:00.000Z'],
      ['a Saturday', '2026-10-31T01:30:00Z', 'no'],
    ])('%s (%s)', (_name, iso, until) => {
      expect(mutedUntil(sunday2am, iso)).toBe(until);
    });

    it('counts the duration in real minutes, so a window from 01:00 the night the clocks go forward ends at 04:00 on the wall clock', () => {
      const daily1am = window('0 1 * * *', 120);
      expect(mutedUntil(daily1am, '2026-03-29T00:00:00Z')).toBe('2026-03-29T02:00:00.000Z');
      expect(mutedUntil(daily1am, '2026-03-29T02:00:00Z')).toBe('no');
    });

    it('moves a start in the skipped hour to 03:00, and starts once in the repeated hour', () => {
      const at230 = window('30 2 * * *', 60);
      expect(mutedUntil(at230, '2026-03-29T00:59:00Z')).toBe('no');
      expect(mutedUntil(at230, '2026-03-29T01:00:00Z')).toBe('2026-03-29T02:00:00.000Z');
      expect(mutedUntil(at230, '2026-10-25T00:30:00Z')).toBe('2026-10-25T01:30:00.000Z');
      expect(mutedUntil(at230, '2026-10-25T01:30:00Z')).toBe('no');
    });

    it('moves a start in the skipped hour for a list of hours too, not only a single one', () => {
      expect(mutedUntil(window('0 2,14 * * *', 60), '2026-03-29T01:30:00Z')).toBe('2026-03-29T02:00:00.000Z');
    });

    it('starts an expression with a step in each repeated time, and joins the back-to-back starts into one mute', () => {
      const every30 = window('*/30 2 * * *', 30);
      // 02:00, 02:30 CEST and 02:00, 02:30 CET: 00:00 to 02:00 UTC without a gap.
      expect(mutedUntil(every30, '2026-10-25T00:10:00Z')).toBe('2026-10-25T02:00:00.000Z');
      expect(mutedUntil(every30, '2026-10-25T01:45:00Z')).toBe('2026-10-25T02:00:00.000Z');
    });
  });

  it.each<[string, MaintenanceWindow, string, string]>([
    ['in UTC', window('0 2 * * SAT', 120, 'UTC'), '2026-12-05T03:59:00Z', '2026-12-05T04:00:00.000Z'],
    ['in New York', window('0 22 * * FRI', 60, 'America/New_York'), '2026-12-05T03:30:00Z', '2026-12-05T04:00:00.000Z'],
    ['overlapping itself', window('0 * * * *', 90, 'UTC'), '2026-12-05T10:45:00Z', expect.any(String) as string],
    ['back to back over four hours', window('0 0-3 * * *', 60, 'UTC'), '2026-12-05T00:30:00Z', '2026-12-05T04:00:00.000Z'],
  ])('mutes %s', (_name, w, iso, until) => {
    expect(mutedUntil(w, iso)).toEqual(until);
  });

  it('follows a window that never pauses only so far, with an end far enough to say "until further notice"', () => {
    const until = Date.parse(mutedUntil(window('0 * * * *', 90, 'UTC'), '2026-12-05T10:45:00Z'));
    expect(until).toBeGreaterThan(Date.parse('2026-12-08T00:00:00Z'));
    expect(until).toBeLessThan(Date.parse('2026-12-10T00:00:00Z'));
  });

  it('refuses to compile an expression that monitor-config.ts would refuse', () => {
    expect(() => compileWindows([window('0 0 2 * * SAT', 60)])).toThrow(/5 parts/);
  });
});

describe('mutesAt and findMute', () => {
  const silences: Silence[] = [
    { match: { groupRef: 'org-1' }, until: new Date('2026-12-01T12:00:00Z'), reason: 'customer migrating' },
    { match: { installationId: 'inst-2' }, until: new Date('2026-12-31T00:00:00Z'), reason: undefined },
    { match: {}, until: new Date('2026-12-01T10:00:00Z'), reason: 'incident 42' },
  ];
  const windows = compileWindows([window('0 11 * * *', 120, 'UTC', { provider: 'salesforce' }), window('0 11 * * *', 60, 'UTC', { provider: 'hubspot' })]);
  const find = (iso: string, s: AlertSubject = subject) => findMute(mutesAt(silences, windows, new Date(iso)), s);

  it('mutes a subject until the longest of the matching rules in force ends, naming each, silences first', () => {
    expect(find('2026-12-01T09:00:00Z')).toEqual({
      until: new Date('2026-12-01T12:00:00Z'),
      sources: [
        { kind: 'silence', index: 0, reason: 'customer migrating' },
        { kind: 'silence', index: 2, reason: 'incident 42' },
      ],
    });
    expect(find('2026-12-01T11:30:00Z')).toEqual({
      until: new Date('2026-12-01T13:00:00Z'),
      sources: [
        { kind: 'silence', index: 0, reason: 'customer migrating' },
        { kind: 'maintenance', index: 0, reason: undefined },
      ],
    });
  });

  it('ends a silence at its until, exclusive', () => {
    expect(find('2026-12-01T09:59:59.999Z')?.sources).toHaveLength(2);
    expect(find('2026-12-01T10:00:00Z')?.sources).toEqual([{ kind: 'silence', index: 0, reason: 'customer migrating' }]);
  });

  it('mutes nothing that no rule in force matches', () => {
    expect(find('2026-12-01T10:30:00Z', { ...subject, groupRef: 'org-9' })).toBeUndefined();
    expect(find('2026-12-01T13:30:00Z')).toBeUndefined();
    expect(find('2026-12-01T11:30:00Z', { ...subject, groupRef: 'org-9', provider: 'hubspot' })).toEqual({
      until: new Date('2026-12-01T12:00:00Z'),
      sources: [{ kind: 'maintenance', index: 1, reason: undefined }],
    });
  });

  it('does not count a rule that starts later, even before the end of the one in force', () => {
    // The silence of org-1 ends at 12:00; the window from 11:00 is not in force at 10:30.
    expect(find('2026-12-01T10:30:00Z')?.until).toEqual(new Date('2026-12-01T12:00:00Z'));
  });
});
