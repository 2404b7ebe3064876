import { describe, expect, it } from 'vitest';
import {
  ALL_OK,
  DEFAULT_ALERT_POLICY,
  NO_OBSERVATION,
  OK,
  forgetAlertState,
  forgetInstallationAlerts,
  nextAlertState,
  nextInstallationAlerts,
  readConditions,
  type AlertEvent,
  type AlertPolicy,
  type AlertState,
  type InstallationAlerts,
  type Observation,
} from '../../src/core/alert-state.js';
import type { AlertSubject } from '../../src/core/alert-subject.js';
import { diffSnapshots } from '../../src/core/diff.js';
import { compileWindows, findMute, mutesAt, type MaintenanceWindow, type Silence } from '../../src/core/silences.js';
import type { InstallationRecord } from '../../src/core/snapshot.js';
import { state as installation } from '../helpers/builders.js';

const T0 = Date.parse('2026-11-30T14:00:00Z');
const MINUTE = 60_000;
const at = (minutes: number): Date => new Date(T0 + minutes * MINUTE);

/** What a test writes per poll: B bad, G good, - no observation (a failed poll); a trailing m mutes it. */
type Token = 'B' | 'G' | '-' | 'Bm' | 'Gm' | '-m';

function observation(token: Token): Observation {
  const reading = token.startsWith('B') ? 'bad' : token.startsWith('G') ? 'good' : 'none';
  return { reading, muted: token.endsWith('m') };
}

function describeEvent(event: AlertEvent): string {
  switch (event.kind) {
    case 'none':
      return '';
    case 'fire':
      return ` +fire${event.notify ? '' : '(muted)'}${event.deferred ? '(deferred)' : ''}`;
    case 'remind':
      return ' +remind';
    case 'resolve':
      return ` +resolve${event.notify ? '' : '(unsent)'}`;
  }
}

/** Runs one condition through polls one minute apart from T0; returns "status +event" per poll. */
function run(polls: string, policy: AlertPolicy = DEFAULT_ALERT_POLICY): string[] {
  let current: AlertState = OK;
  return polls.split(' ').map((token, i) => {
    const { state, event } = nextAlertState(current, observation(token as Token), at(i), policy);
    current = state;
    return `${state.status}${describeEvent(event)}`;
  });
}

const policy = (alertAfterPolls: number, resolveAfterPolls: number, remindMinutes = 0): AlertPolicy => ({
  alertAfterPolls,
  resolveAfterPolls,
  remindIntervalMs: remindMinutes * MINUTE,
});

describe('nextAlertState', () => {
  describe.each<[string, string, AlertPolicy, string[]]>([
    // Flaps
    ['one bad poll between good ones', 'G B G', policy(2, 2), ['ok', 'pending', 'ok']],
    ['bad and good every other poll', 'B G B G B G', policy(2, 2), ['pending', 'ok', 'pending', 'ok', 'pending', 'ok']],
    ['a firing condition with one good poll', 'B B G B', policy(2, 2), ['pending', 'firing +fire', 'resolving', 'firing']],
    ['a firing condition flapping good and bad', 'B B G B G B', policy(2, 2), ['pending', 'firing +fire', 'resolving', 'firing', 'resolving', 'firing']],
    ['a firing condition that recovers for good', 'B B G G G', policy(2, 2), ['pending', 'firing +fire', 'resolving', 'ok +resolve', 'ok']],
    // Thresholds of 1, 2 and 3
    ['one bad poll, alerting after 1', 'G B B', policy(1, 1), ['ok', 'firing +fire', 'firing']],
    ['one good poll, resolving after 1', 'B G G', policy(1, 1), ['firing +fire', 'ok +resolve', 'ok']],
    ['two bad polls, alerting after 2', 'B B B', policy(2, 2), ['pending', 'firing +fire', 'firing']],
    ['two bad polls, alerting after 3', 'B B G', policy(3, 3), ['pending', 'pending', 'ok']],
    ['three bad polls, alerting after 3', 'B B B B', policy(3, 3), ['pending', 'pending', 'firing +fire', 'firing']],
    ['two good polls, resolving after 3', 'B G G B', policy(1, 3), ['firing +fire', 'resolving', 'resolving', 'firing']],
    ['three good polls, resolving after 3', 'B G G G', policy(1, 3), ['firing +fire', 'resolving', 'resolving', 'ok +resolve']],
    // A failed poll in the middle of a count neither advances nor resets it
    ['a failed poll between two bad ones', 'B - B', policy(2, 2), ['pending', 'pending', 'firing +fire']],
    ['failed polls in a count of 3', 'B - - B - B', policy(3, 2), ['pending', 'pending', 'pending', 'pending', 'pending', 'firing +fire']],
    ['a failed poll after one bad one, then a good one', 'B - G', policy(2, 2), ['pending', 'pending', 'ok']],
    ['a failed poll between two good ones', 'B B G - G', policy(2, 2), ['pending', 'firing +fire', 'resolving', 'resolving', 'ok +resolve']],
    ['a failed poll while firing', 'B B - B', policy(2, 2), ['pending', 'firing +fire', 'firing', 'firing']],
    ['only failed polls', '- - -', policy(1, 1), ['ok', 'ok', 'ok']],
    // Reminders: every 3 minutes here, polls one minute apart
    [
      'a condition firing for 7 minutes',
      'B B B B B B B B',
      policy(1, 2, 3),
      ['firing +fire', 'firing', 'firing', 'firing +remind', 'firing', 'firing', 'firing +remind', 'firing'],
    ],
    ['reminders turned off (0)', 'B B B B B B B', policy(1, 2, 0), ['firing +fire', 'firing', 'firing', 'firing', 'firing', 'firing', 'firing']],
    ['a failed poll when a reminder is due', 'B B B - B', policy(1, 2, 3), ['firing +fire', 'firing', 'firing', 'firing', 'firing +remind']],
    // The flap back to firing sends nothing; the reminder due by then goes at the next bad poll.
    ['a reminder due while resolving', 'B B B G B B', policy(1, 2, 3), ['firing +fire', 'firing', 'firing', 'resolving', 'firing', 'firing +remind']],
    // Silences and maintenance windows (m: muted at that poll)
    [
      'a firing muted when it crosses, sent once no longer muted',
      'B Bm Bm B B',
      policy(2, 2),
      ['pending', 'firing +fire(muted)', 'firing', 'firing +fire(deferred)', 'firing'],
    ],
    ['a silence expiring after a failed poll', 'Bm Bm -m - B', policy(2, 2), ['pending', 'firing +fire(muted)', 'firing', 'firing', 'firing +fire(deferred)']],
    ['an episode wholly inside a silence', 'Bm Bm Gm Gm B', policy(2, 2), ['pending', 'firing +fire(muted)', 'resolving', 'ok +resolve(unsent)', 'pending']],
    ['a muted episode recovering after the silence', 'Bm Bm G G', policy(2, 2), ['pending', 'firing +fire(muted)', 'resolving', 'ok +resolve(unsent)']],
    ['a sent firing that recovers inside a silence', 'B B Gm Gm', policy(2, 2), ['pending', 'firing +fire', 'resolving', 'ok +resolve']],
    ['a silence starting while firing', 'B B Bm Bm B', policy(2, 2), ['pending', 'firing +fire', 'firing', 'firing', 'firing']],
    ['reminders held by a silence', 'B Bm Bm Bm Bm B B', policy(1, 2, 3), ['firing +fire', 'firing', 'firing', 'firing', 'firing', 'firing +remind', 'firing']],
    [
      'a muted firing that flaps back while muted, then is sent',
      'Bm Gm Bm B',
      policy(1, 2),
      ['firing +fire(muted)', 'resolving', 'firing', 'firing +fire(deferred)'],
    ],
    ['a muted firing whose first unmuted poll is good', 'Bm G B B', policy(1, 2), ['firing +fire(muted)', 'resolving', 'firing', 'firing +fire(deferred)']],
  ])('when a condition sees %s', (_name, polls, p, expected) => {
    it('moves and notifies as the machine says', () => {
      expect(run(polls, p)).toEqual(expected);
    });
  });

  it('returns the previous state itself, and no event, for no observation', () => {
    const firing: AlertState = { status: 'firing', since: T0, firedAt: T0, notifiedAt: null };
    expect(nextAlertState(firing, NO_OBSERVATION, at(600), policy(1, 1, 1))).toEqual({ state: firing, event: { kind: 'none' } });
    expect(nextAlertState(firing, NO_OBSERVATION, at(600), policy(1, 1, 1)).state).toBe(firing);
  });

  describe('the times it keeps', () => {
    /** Runs from OK and returns every state and event, polls one minute apart. */
    function trace(polls: string, p: AlertPolicy): { state: AlertState; event: AlertEvent }[] {
      let current: AlertState = OK;
      return polls.split(' ').map((token, i) => {
        const step = nextAlertState(current, observation(token as Token), at(i), p);
        current = step.state;
        return step;
      });
    }

    it('starts the episode at its first bad poll and fires at the crossing', () => {
      const steps = trace('G B - B B', policy(2, 2));
      expect(steps[1]?.state).toEqual({ status: 'pending', since: T0 + MINUTE, badPolls: 1 });
      expect(steps[3]?.event).toEqual({ kind: 'fire', notify: true, deferred: false, since: T0 + MINUTE, firedAt: T0 + 3 * MINUTE });
      expect(steps[3]?.state).toEqual({ status: 'firing', since: T0 + MINUTE, firedAt: T0 + 3 * MINUTE, notifiedAt: T0 + 3 * MINUTE });
    });

    it('ends the episode at the first good poll of the streak that resolves it', () => {
      const steps = trace('B B G B G - G', policy(2, 2));
      expect(steps[5]?.state).toEqual({
        status: 'resolving',
        since: T0,
        firedAt: T0 + MINUTE,
        notifiedAt: T0 + MINUTE,
        goodSince: T0 + 4 * MINUTE,
        goodPolls: 1,
      });
      expect(steps[6]?.event).toEqual({ kind: 'resolve', notify: true, reason: 'recovered', since: T0, firedAt: T0 + MINUTE, endedAt: T0 + 4 * MINUTE });
    });

    it('records a muted firing as not sent, and counts reminders from when it is sent', () => {
      const steps = trace('Bm B B B B', policy(1, 2, 3));
      expect(steps[0]?.state).toEqual({ status: 'firing', since: T0, firedAt: T0, notifiedAt: null });
      expect(steps[1]?.event).toEqual({ kind: 'fire', notify: true, deferred: true, since: T0, firedAt: T0 });
      expect(steps.map((s) => s.event.kind)).toEqual(['fire', 'fire', 'none', 'none', 'remind']);
    });
  });
});

describe('forgetAlertState', () => {
  const now = at(10);
  it.each<[string, AlertState, AlertEvent]>([
    ['ok', OK, { kind: 'none' }],
    ['pending', { status: 'pending', since: T0, badPolls: 1 }, { kind: 'none' }],
    [
      'firing, sent',
      { status: 'firing', since: T0, firedAt: at(1).getTime(), notifiedAt: at(1).getTime() },
      { kind: 'resolve', notify: true, reason: 'removed', since: T0, firedAt: at(1).getTime(), endedAt: now.getTime() },
    ],
    [
      'firing, muted',
      { status: 'firing', since: T0, firedAt: at(1).getTime(), notifiedAt: null },
      { kind: 'resolve', notify: false, reason: 'removed', since: T0, firedAt: at(1).getTime(), endedAt: now.getTime() },
    ],
    [
      'resolving',
      { status: 'resolving', since: null, firedAt: T0, notifiedAt: T0, goodSince: at(5).getTime(), goodPolls: 1 },
      { kind: 'resolve', notify: true, reason: 'removed', since: null, firedAt: T0, endedAt: now.getTime() },
    ],
  ])('resolves a removed installation whose condition was %s as the policy of today does', (_name, previous, event) => {
    expect(forgetAlertState(previous, now)).toEqual({ state: OK, event });
  });
});

describe('readConditions', () => {
  const record = (overrides: Partial<InstallationRecord>): InstallationRecord => ({
    healthStatus: 'healthy',
    lastOperationStatus: 'success',
    settledOperationStatus: 'success',
    connectionStatus: 'working',
    groupRef: 'org-a',
    groupName: 'Customer a',
    provider: 'salesforce',
    ...overrides,
  });

  it.each<[string, Partial<InstallationRecord>, ReturnType<typeof readConditions>]>([
    ['a healthy installation', {}, { unhealthy: 'good', operation_failing: 'good', bad_credentials: 'good' }],
    [
      'everything bad',
      { healthStatus: 'unhealthy', lastOperationStatus: 'failure', settledOperationStatus: 'failure', connectionStatus: 'bad_credentials' },
      { unhealthy: 'bad', operation_failing: 'bad', bad_credentials: 'bad' },
    ],
    ['a created connection', { connectionStatus: 'created' }, { unhealthy: 'good', operation_failing: 'good', bad_credentials: 'good' }],
    [
      'an operation in progress after a failure (the settled status counts)',
      { lastOperationStatus: 'in_progress', settledOperationStatus: 'failure' },
      { unhealthy: 'good', operation_failing: 'bad', bad_credentials: 'good' },
    ],
    [
      'an operation in progress after a success',
      { lastOperationStatus: 'in_progress', settledOperationStatus: 'success' },
      { unhealthy: 'good', operation_failing: 'good', bad_credentials: 'good' },
    ],
    [
      'no operation yet',
      { lastOperationStatus: 'unknown', settledOperationStatus: 'unknown' },
      { unhealthy: 'good', operation_failing: 'none', bad_credentials: 'good' },
    ],
    [
      'values the spec does not know, or unreadable ones',
      { healthStatus: 'degraded', connectionStatus: '(unreadable)' },
      { unhealthy: 'none', operation_failing: 'good', bad_credentials: 'none' },
    ],
  ])('reads %s', (_name, overrides, expected) => {
    expect(readConditions(record(overrides))).toEqual(expected);
  });

  it('reads no observation where the listing could not read a status, whatever the record kept from before', () => {
    const kept = record({ healthStatus: 'unhealthy', settledOperationStatus: 'failure', lastOperationStatus: 'failure', connectionStatus: 'bad_credentials' });
    const unreadable = { healthStatus: '(unreadable)', lastOperationStatus: '(unreadable)', connectionStatus: '(unreadable)' };
    expect(readConditions(kept, unreadable)).toEqual({ unhealthy: 'none', operation_failing: 'none', bad_credentials: 'none' });
    expect(readConditions(kept, { ...unreadable, lastOperationStatus: 'in_progress' })).toEqual({
      unhealthy: 'none',
      operation_failing: 'bad',
      bad_credentials: 'none',
    });
  });
});

describe('nextInstallationAlerts', () => {
  /** Polls one installation through listings one minute apart, through the real diff, and returns the events of each poll. */
  function poll(listings: Parameters<typeof installation>[1][], p: AlertPolicy = DEFAULT_ALERT_POLICY): string[][] {
    let snapshot: ReturnType<typeof diffSnapshots>['next'] | undefined;
    let alerts: InstallationAlerts | undefined;
    return listings.map((overrides, i) => {
      const listed = installation('a', overrides);
      const diff = diffSnapshots(snapshot, [listed]);
      snapshot = diff.next;
      const record = snapshot.get('a');
      if (record === undefined) throw new Error('no record');
      const step = nextInstallationAlerts(alerts, readConditions(record, listed), at(i), p, false);
      alerts = step.alerts;
      return step.events.map((e) => `${e.event.kind} ${e.condition}`);
    });
  }

  it('moves each condition on its own', () => {
    const bad = { healthStatus: 'unhealthy', connectionStatus: 'bad_credentials' };
    expect(poll([{}, bad, bad, { connectionStatus: 'bad_credentials' }, {}])).toEqual([
      [],
      [],
      ['fire unhealthy', 'fire bad_credentials'],
      [],
      ['resolve unhealthy'],
    ]);
  });

  it('keeps in_progress transparent: failure, in progress, failure is two bad polls', () => {
    expect(poll([{ lastOperationStatus: 'failure' }, { lastOperationStatus: 'in_progress' }, { lastOperationStatus: 'failure' }])).toEqual([
      [],
      ['fire operation_failing'],
      [],
    ]);
  });

  it('keeps in_progress transparent: success, in progress, success sends nothing', () => {
    expect(poll([{}, { lastOperationStatus: 'in_progress' }, {}, { lastOperationStatus: 'in_progress' }], policy(1, 1))).toEqual([[], [], [], []]);
  });

  it('holds a count over an unreadable value and one the spec does not know, as over a failed poll', () => {
    const unhealthy = { healthStatus: 'unhealthy' };
    // The diff keeps the stored "unhealthy" over the unreadable value; that must not count as a second bad poll.
    expect(poll([unhealthy, { healthStatus: '(unreadable)' }, { healthStatus: 'degraded' }, unhealthy, unhealthy], policy(3, 2))).toEqual([
      [],
      [],
      [],
      [],
      ['fire unhealthy'],
    ]);
  });

  it('starts from all ok when there is no stored entry, and passes muted to every condition', () => {
    const readings = { unhealthy: 'bad', operation_failing: 'bad', bad_credentials: 'good' } as const;
    const step = nextInstallationAlerts(undefined, readings, at(0), policy(1, 1), true);
    expect(step.events.map((e) => [e.condition, e.event.kind, e.event.notify])).toEqual([
      ['unhealthy', 'fire', false],
      ['operation_failing', 'fire', false],
    ]);
    expect(step.alerts.bad_credentials).toEqual(OK);
  });

  it('resolves every firing condition of a removed installation, and nothing when all are ok', () => {
    const firing: AlertState = { status: 'firing', since: T0, firedAt: T0, notifiedAt: T0 };
    const step = forgetInstallationAlerts({ ...ALL_OK, unhealthy: firing, bad_credentials: firing }, at(3));
    expect(step.alerts).toEqual(ALL_OK);
    expect(step.events.map((e) => `${e.event.kind} ${e.condition}`)).toEqual(['resolve unhealthy', 'resolve bad_credentials']);
    expect(forgetInstallationAlerts(undefined, at(3)).events).toEqual([]);
  });
});

describe('nextAlertState driven by silences and maintenance windows', () => {
  const subject: AlertSubject = { installationId: 'inst-1', groupRef: 'org-1', integrationId: 'int-1', projectId: 'proj-1', provider: 'salesforce' };
  const HALF_HOUR = 30 * MINUTE;

  interface Rules {
    readonly silences?: readonly Silence[];
    readonly windows?: readonly MaintenanceWindow[];
  }

  /**
   * Polls one condition every 30 minutes from `start`, muted as the rules in
   * force at each poll say (`rules` may change from a given poll on); returns
   * the time (UTC, HH:MM) and description of every event.
   */
  function scenario(start: string, polls: string, rules: (i: number) => Rules, p: AlertPolicy = policy(2, 2)): string[] {
    let current: AlertState = OK;
    const events: string[] = [];
    polls.split(' ').forEach((token, i) => {
      const now = new Date(Date.parse(start) + i * HALF_HOUR);
      const { silences = [], windows = [] } = rules(i);
      const muted = findMute(mutesAt(silences, compileWindows(windows), now), subject) !== undefined;
      const reading = token === 'B' ? 'bad' : token === 'G' ? 'good' : 'none';
      const { state, event } = nextAlertState(current, { reading, muted }, now, p);
      current = state;
      if (event.kind !== 'none') events.push(`${now.toISOString().slice(11, 16)}${describeEvent(event)}`);
    });
    return events;
  }

  const sunday2am: MaintenanceWindow = {
    match: { provider: 'salesforce' },
    cron: '0 2 * * SUN',
    durationMinutes: 120,
    timezone: 'Europe/Berlin',
    reason: undefined,
  };

  it('records a firing during a silence and sends it when the silence expires while it still fires', () => {
    const silence: Silence = { match: { groupRef: 'org-1' }, until: new Date('2026-12-01T10:00:00Z'), reason: 'migration' };
    expect(scenario('2026-12-01T08:30:00Z', 'G B B B B B', () => ({ silences: [silence] }))).toEqual(['09:30 +fire(muted)', '10:00 +fire(deferred)']);
  });

  it('sends nothing for an episode that ends inside the silence', () => {
    const silence: Silence = { match: { installationId: 'inst-1' }, until: new Date('2026-12-01T12:00:00Z'), reason: undefined };
    expect(scenario('2026-12-01T08:30:00Z', 'B B G G B', () => ({ silences: [silence] }))).toEqual(['09:00 +fire(muted)', '10:00 +resolve(unsent)']);
  });

  it('holds the reminders of a sent firing while a silence added later is in force, and still sends its recovery', () => {
    const silence: Silence = { match: {}, until: new Date('2026-12-01T12:00:00Z'), reason: undefined };
    const hourly = policy(2, 2, 60);
    expect(scenario('2026-12-01T08:00:00Z', 'B B B B B B G G', (i) => (i >= 2 ? { silences: [silence] } : {}), hourly)).toEqual([
      '08:30 +fire',
      '11:30 +resolve',
    ]);
    expect(scenario('2026-12-01T08:00:00Z', 'B B B B B B G G', () => ({}), hourly)).toEqual([
      '08:30 +fire',
      '09:30 +remind',
      '10:30 +remind',
      '11:30 +resolve',
    ]);
  });

  it('sends nothing for a silence that does not match', () => {
    const silence: Silence = { match: { groupRef: 'org-2' }, until: new Date('2026-12-01T12:00:00Z'), reason: undefined };
    expect(scenario('2026-12-01T08:30:00Z', 'B B', () => ({ silences: [silence] }))).toEqual(['09:00 +fire']);
  });

  it('mutes a weekly window at 02:00 Berlin time the night the clocks go back (00:00-02:00 UTC), and sends at its end', () => {
    // Bad from 00:00 UTC (02:00 CEST); a window read as CET would run to 03:00 UTC.
    expect(scenario('2026-10-24T23:30:00Z', 'G B B B - B B', () => ({ windows: [sunday2am] }))).toEqual(['00:30 +fire(muted)', '02:00 +fire(deferred)']);
  });

  it('mutes a weekly window at 02:00 Berlin time the night the clocks go forward from 03:00 CEST (01:00-03:00 UTC)', () => {
    // Bad from 00:30 UTC, before the window; a window read as CEST would start at 00:00 UTC and mute the crossing.
    expect(scenario('2026-03-29T00:00:00Z', 'G B B B B B B B', () => ({ windows: [sunday2am] }))).toEqual(['01:00 +fire(muted)', '03:00 +fire(deferred)']);
  });
});
