/**
 * planPoll with the silences and maintenance windows of the monitor
 * configuration file: the mutes in force at the poll's time decide whether a
 * firing is sent, and a firing held back is sent when its mute ends while it
 * still fires. Table-driven, as issue 8 asks: silences starting and expiring,
 * maintenance windows across both changes of daylight saving time in
 * Europe/Berlin.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_POLICY } from '../../src/core/alert-state.js';
import type { InstallationState } from '../../src/core/installation.js';
import { completePollPlan, isSilenced, planPoll, type PollPlan, type PollPlanOptions, type StoredPollState } from '../../src/core/poll-plan.js';
import { compileWindows, type MaintenanceWindow, type MuteRules, type Silence } from '../../src/core/silences.js';
import type { SubjectMatch } from '../../src/core/alert-subject.js';
import { renderSlackMessage } from '../../src/core/slack-message.js';
import { state } from '../helpers/builders.js';

const MINUTE = 60_000;
const T0 = new Date('2026-12-01T10:00:00Z');
const at = (minutes: number, from: Date = T0): Date => new Date(from.getTime() + minutes * MINUTE);
const ids = { integrationId: 'int-1', projectId: 'proj-1', newLineage: () => 'lin' };

const silence = (until: Date, match: SubjectMatch = { installationId: 'a' }, reason: string | undefined = 'migration'): Silence => ({ match, until, reason });
const window = (cron: string, durationMinutes: number, timezone = 'Europe/Berlin', match: SubjectMatch = {}): MaintenanceWindow => ({
  match,
  cron,
  durationMinutes,
  timezone,
  reason: 'provider maintenance',
});
const rules = (silences: Silence[], windows: MaintenanceWindow[] = []): MuteRules => ({ silences, windows: compileWindows(windows) });

/** Polls planned one after the other from a baseline of `list`, each from the state the one before left. */
function run(list: readonly InstallationState[], start: Date) {
  const first = planPoll(undefined, list, start, ids);
  let stored: StoredPollState = {
    version: 1,
    lineage: 'lin',
    projectId: 'proj-1',
    snapshot: first.snapshot,
    ...(first.alertStates === undefined ? {} : { alertStates: first.alertStates }),
  };
  return (listing: readonly InstallationState[], time: Date, options: PollPlanOptions): PollPlan => {
    const plan = planPoll(stored, listing, time, ids, options);
    const alertStates = plan.alertStates ?? stored.alertStates;
    stored = {
      version: plan.version,
      lineage: plan.lineage,
      projectId: plan.projectId,
      snapshot: plan.snapshot,
      ...(alertStates === undefined ? {} : { alertStates }),
    };
    return plan;
  };
}

const healthy = [state('a'), state('b')];
const aBad = [state('a', { healthStatus: 'unhealthy' }), state('b')];
/** What a poll did about installation a's health: `-` nothing, `fire`, `fire (muted)`, `fire (deferred)`, `remind`, `resolve`, `resolve (unsent)`. */
function what(plan: PollPlan): string {
  const e = plan.alertEvents.find((x) => x.installationId === 'a' && x.condition === 'unhealthy');
  if (e === undefined) return '-';
  if (e.event.kind === 'fire') return e.event.notify ? (e.event.deferred ? 'fire (deferred)' : 'fire') : 'fire (muted)';
  return e.event.notify ? e.event.kind : `${e.event.kind} (unsent)`;
}

describe('planPoll with silences', () => {
  // Each row: a poll at minute m, whether a is bad, and what it does. The silence on a ends at minute 3 (exclusive).
  it.each<[string, [minute: number, bad: boolean, expected: string][]]>([
    [
      'a silence in force when the condition fires holds the firing, which is sent once when the silence expires while still bad',
      [
        [0, true, '-'],
        [1, true, 'fire (muted)'],
        [2, true, '-'],
        [3, true, 'fire (deferred)'],
        [4, true, '-'],
      ],
    ],
    [
      'a firing held by a silence that recovers before it expires sends nothing at all, not even its recovery',
      [
        [0, true, '-'],
        [1, true, 'fire (muted)'],
        [2, false, '-'],
        [2.5, false, 'resolve (unsent)'],
        [3, false, '-'],
        [4, false, '-'],
      ],
    ],
    [
      'a firing held by a silence that recovers after it expired is sent at expiry and its recovery is sent too',
      [
        [0, true, '-'],
        [1, true, 'fire (muted)'],
        [3, true, 'fire (deferred)'],
        [4, false, '-'],
        [5, false, 'resolve'],
      ],
    ],
    [
      'a flap during a silence sends nothing, before or after it',
      [
        [0, true, '-'],
        [1, false, '-'],
        [3, false, '-'],
        [4, true, '-'],
        [5, false, '-'],
      ],
    ],
  ])('%s', (_name, rows) => {
    const poll = run(healthy, at(-1));
    const muting = rules([silence(at(3))]);
    const seen = rows.map(([minute, bad]) => what(poll(bad ? aBad : healthy, at(minute), { muting })));
    expect(seen).toEqual(rows.map(([, , expected]) => expected));
  });

  it('starts to hold reminders when a silence starts while the condition fires, and reminds when it expires if one is due', () => {
    const poll = run(healthy, at(-1));
    const policy = { ...DEFAULT_ALERT_POLICY, remindIntervalMs: 10 * MINUTE };
    const added = rules([silence(at(30))]);
    const none = rules([]);
    // The file gains the silence at minute 5 (the service restarted with it), after the firing was sent.
    const rows: [number, PollPlanOptions, string][] = [
      [0, { policy, muting: none }, '-'],
      [1, { policy, muting: none }, 'fire'],
      [5, { policy, muting: added }, '-'],
      [11, { policy, muting: added }, '-'],
      [29, { policy, muting: added }, '-'],
      [30, { policy, muting: added }, 'remind'],
      [31, { policy, muting: added }, '-'],
    ];
    expect(rows.map(([minute, options]) => what(poll(aBad, at(minute), options)))).toEqual(rows.map(([, , e]) => e));
  });

  it('still sends the recovery of a firing that was sent, though a silence covers it now', () => {
    const poll = run(healthy, at(-1));
    poll(aBad, at(0), {});
    expect(what(poll(aBad, at(1), {}))).toBe('fire');
    const muting = rules([silence(at(60))]);
    poll(healthy, at(2), { muting });
    expect(what(poll(healthy, at(3), { muting }))).toBe('resolve');
  });

  it.each<[string, SubjectMatch, boolean]>([
    ['its installation id', { installationId: 'a' }, true],
    ['its group', { groupRef: 'org-a' }, true],
    ['its integration', { integrationId: 'int-1' }, true],
    ['its project', { projectId: 'proj-1' }, true],
    ['its provider', { provider: 'salesforce' }, true],
    ['everything', {}, true],
    ['another installation', { installationId: 'b' }, false],
    ['another integration', { integrationId: 'int-2' }, false],
    ['its group but another provider', { groupRef: 'org-a', provider: 'hubspot' }, false],
  ])('matches a silence naming %s against the installation', (_name, match, muted) => {
    const poll = run(healthy, at(-1));
    const muting = rules([silence(at(60), match)]);
    poll(aBad, at(0), { muting });
    expect(what(poll(aBad, at(1), { muting }))).toBe(muted ? 'fire (muted)' : 'fire');
  });

  it('says which rule muted a firing, so the poll job counts it and the episode log records it', () => {
    const poll = run(healthy, at(-1));
    const muting = rules(
      [silence(at(60), { groupRef: 'elsewhere' }), silence(at(90), { installationId: 'a' }, 'customer migrating')],
      [window('0 10 * * *', 60, 'UTC')],
    );
    poll(aBad, at(0), { muting });
    const plan = poll(aBad, at(1), { muting });
    expect(plan.notifications).toEqual([]);
    const silenced = plan.alertEvents.filter(isSilenced);
    expect(silenced.map((e) => [e.installationId, e.condition, e.mute])).toEqual([
      ['a', 'unhealthy', { by: 'silences[1]', kind: 'silence', reason: 'customer migrating', until: at(90).getTime(), also: ['maintenance[0]'] }],
    ]);
  });

  it('names the rule that held a firing back when it is sent, from the episode log', () => {
    const poll = run(healthy, at(-1));
    const muting = rules([silence(at(3), { installationId: 'a' }, 'customer migrating')]);
    poll(aBad, at(0), { muting });
    const held = poll(aBad, at(1), { muting });
    const logs = completePollPlan(held, { episodes: new Map([['a', []]]) }, at(1)).episodeLogs;
    const sent = completePollPlan(poll(aBad, at(3), { muting }), { episodes: logs }, at(3));
    expect(sent.alertItems).toEqual([
      expect.objectContaining({ installationId: 'a', deferred: true, heldBy: { by: 'silences[0]', reason: 'customer migrating' } }),
    ]);
    const [entry] = sent.notifications;
    if (entry === undefined || entry.notification.kind !== 'alerts') throw new Error('one alert digest expected');
    const text = JSON.stringify(renderSlackMessage(entry.notification));
    expect(text).toContain('(held back by silence silences[0] (customer migrating) until now)');
  });

  it('leaves muted installations out of a mass event: only what is sent is counted', () => {
    const many = Array.from({ length: 20 }, (_, i) => state(`i${String(i).padStart(2, '0')}`, { groupRef: i < 10 ? 'org-quiet' : `org-${i}` }));
    const bad = many.map((s, i) => (i < 12 ? { ...s, healthStatus: 'unhealthy' } : s));
    const poll = run(many, at(-1));
    const options = { muting: rules([silence(at(60), { groupRef: 'org-quiet' })]), massEvent: { minCount: 10, fraction: 0.25 } };
    poll(bad, at(0), options);
    const plan = poll(bad, at(1), options);
    expect(plan.alertEvents.filter(isSilenced)).toHaveLength(10);
    expect(plan.alertItems.map((i) => i.installationId)).toEqual(['i10', 'i11']);
    const [entry] = plan.notifications;
    expect(entry?.notification.kind === 'alerts' ? entry.notification.mass : 'none').toBeUndefined();
    // The firing gauge still counts them: they fire, they are only not sent.
    expect(plan.digest.firing.unhealthy).toBe(12);
  });
});

describe('planPoll with maintenance windows across the changes of daylight saving time (Europe/Berlin)', () => {
  // Sundays at 02:00 Berlin time for 120 minutes. The poll at `iso` is the second bad one: it fires, muted or not.
  const muting = rules([], [window('0 2 * * SUN', 120)]);
  it.each<[string, string, boolean]>([
    ['a winter Sunday, before the window', '2026-03-22T00:59:00Z', false],
    ['a winter Sunday, in the window (02:00 CET = 01:00 UTC)', '2026-03-22T01:00:00Z', true],
    ['a winter Sunday, at its end', '2026-03-22T03:00:00Z', false],
    // 29 March: 02:00 is skipped, the window starts at 03:00 CEST (01:00 UTC) and lasts 120 real minutes.
    ['the night the clocks go forward, at 01:30 CET', '2026-03-29T00:30:00Z', false],
    ['the night the clocks go forward, at 03:00 CEST', '2026-03-29T01:00:00Z', true],
    ['the night the clocks go forward, at 04:59 CEST', '2026-03-29T02:59:00Z', true],
    ['the night the clocks go forward, at 05:00 CEST', '2026-03-29T03:00:00Z', false],
    ['a summer Sunday, in the window (02:00 CEST = 00:00 UTC)', '2026-04-05T00:00:00Z', true],
    ['a summer Sunday, at its end', '2026-04-05T02:00:00Z', false],
    // 25 October: 02:00 happens twice; the window starts at the first (00:00 UTC) and ends 120 minutes later.
    ['the night the clocks go back, before', '2026-10-24T23:59:00Z', false],
    ['the night the clocks go back, at the first 02:00 (CEST)', '2026-10-25T00:00:00Z', true],
    ['the night the clocks go back, at the second 02:00 (CET)', '2026-10-25T01:00:00Z', true],
    ['the night the clocks go back, 120 minutes after the first 02:00', '2026-10-25T02:00:00Z', false],
  ])('%s (%s)', (_name, iso, muted) => {
    const time = new Date(iso);
    const poll = run(healthy, at(-2, time));
    poll(aBad, at(-1, time), { muting });
    const plan = poll(aBad, time, { muting });
    expect(what(plan)).toBe(muted ? 'fire (muted)' : 'fire');
    expect(plan.alertEvents.filter(isSilenced).map((e) => e.mute.kind)).toEqual(muted ? ['maintenance'] : []);
  });

  it('sends a firing held through the night the clocks go forward at the end of the window, not before', () => {
    const start = new Date('2026-03-29T01:00:00Z');
    const poll = run(healthy, at(-2, start));
    poll(aBad, at(-1, start), { muting });
    const polls = [0, 60, 119, 120].map((m) => what(poll(aBad, at(m, start), { muting })));
    expect(polls).toEqual(['fire (muted)', '-', '-', 'fire (deferred)']);
  });
});
