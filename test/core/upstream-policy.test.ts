import { describe, expect, it } from 'vitest';
import {
  INITIAL_UPSTREAM_STATE,
  forgetUnlistedIntegrations,
  nextUpstreamState,
  type UpstreamEvent,
  type UpstreamState,
} from '../../src/core/upstream-policy.js';

const fail = (cycleId: string, configurationError = false, integrationId = 'int-1'): UpstreamEvent => ({
  ok: false,
  cycleId,
  integrationId,
  reason: configurationError ? 'unauthorized (HTTP 401)' : 'server_error (HTTP 503)',
  configurationError,
});
const ok = (cycleId: string, integrationId = 'int-1'): UpstreamEvent => ({ ok: true, cycleId, integrationId });
const invalid = (cycleId: string, integrationId = 'int-1'): UpstreamEvent => ({
  ok: false,
  cycleId,
  integrationId,
  reason: 'invalid_body: installations[0].id is empty',
  configurationError: false,
});

/** Cycles 1..n in which `failing` fails and `other` succeeds, in alternating order within the cycle. */
function oneFailsOthersSucceed(n: number, failing = 'int-1', other = 'int-2', from = 1): UpstreamEvent[] {
  const events: UpstreamEvent[] = [];
  for (let c = from; c < from + n; c += 1) {
    if (c % 2 === 0) events.push(ok(`c${c}`, other), invalid(`c${c}`, failing));
    else events.push(invalid(`c${c}`, failing), ok(`c${c}`, other));
  }
  return events;
}

/** Feeds events in order; returns the notifications they cause and the final state. */
function run(events: UpstreamEvent[], k = 3): { notes: string[]; state: UpstreamState } {
  let state = INITIAL_UPSTREAM_STATE;
  const notes: string[] = [];
  for (const event of events) {
    const decision = nextUpstreamState(state, event, k);
    state = decision.state;
    if (decision.notify)
      notes.push(
        `${decision.notify.state}${decision.notify.integrationId === undefined ? '' : `[${decision.notify.integrationId}]`}: ${decision.notify.reason}`,
      );
  }
  return { notes, state };
}

describe('nextUpstreamState', () => {
  it('opens one alert at once on a configuration fault, and one recovery', () => {
    const { notes } = run([ok('c1'), fail('c2', true), fail('c2', true), fail('c3', true), fail('c4'), ok('c5'), ok('c6')]);
    expect(notes).toEqual(['down: unauthorized (HTTP 401)', 'up: polls succeed again (was: unauthorized (HTTP 401))']);
  });

  it('closes a refused discovery at the next successful poll of any integration, which no poll of the discovery label would', () => {
    const { notes } = run([fail('c1', true, '_discovery'), fail('c2', true, '_discovery'), ok('c3', 'int-1')]);
    expect(notes).toEqual(['down: unauthorized (HTTP 401)', 'up: polls succeed again (was: unauthorized (HTTP 401))']);
  });

  it('opens the degraded alert after K consecutive failed cycles, not before', () => {
    expect(run([fail('c1'), fail('c1'), fail('c2')]).notes).toEqual([]);
    const { notes, state } = run([fail('c1'), fail('c2'), fail('c3'), fail('c4'), fail('c5')]);
    expect(notes).toEqual(['down: upstream degraded: 3 consecutive poll cycles failed, last error: server_error (HTTP 503)']);
    expect(state.failedCycles).toBe(5);
  });

  it('does not count a cycle that had a successful poll as failed', () => {
    const { notes, state } = run([fail('c1'), ok('c2'), fail('c2'), fail('c3'), ok('c4'), fail('c4'), fail('c5')]);
    expect(notes).toEqual([]);
    expect(state.failedCycles).toBe(1);
  });

  it('resets the count on success', () => {
    expect(run([fail('c1'), fail('c2'), ok('c3'), fail('c4'), fail('c5')]).state.failedCycles).toBe(2);
  });

  it('keeps quiet when a configuration fault follows a degraded alert, but reports it as one', () => {
    const { notes, state } = run([fail('c1'), fail('c2'), fail('c3'), fail('c4', true)]);
    expect(notes).toHaveLength(1);
    expect(state).toMatchObject({ down: true, configurationError: true, reason: 'unauthorized (HTTP 401)' });
  });

  it('does not flap when one integration is refused while another succeeds, cycle after cycle', () => {
    const events: UpstreamEvent[] = [];
    for (let c = 1; c <= 5; c += 1) {
      // The order inside a cycle varies; both orders are covered.
      if (c % 2 === 0) events.push(ok(`c${c}`, 'int-2'), fail(`c${c}`, true, 'int-1'));
      else events.push(fail(`c${c}`, true, 'int-1'), ok(`c${c}`, 'int-2'));
    }
    expect(run(events).notes).toEqual(['down: unauthorized (HTTP 401)']);
    expect(run([...events, ok('c6', 'int-1')]).notes).toHaveLength(2);
  });

  describe('when one integration fails while the others succeed', () => {
    it('opens its own alert after K of its cycles, once, and closes it at its next success', () => {
      expect(run(oneFailsOthersSucceed(2)).notes).toEqual([]);
      const { notes, state } = run([...oneFailsOthersSucceed(6), ok('c7', 'int-2'), ok('c7', 'int-1'), ok('c8', 'int-1')]);
      expect(notes).toEqual([
        'down[int-1]: invalid_body: installations[0].id is empty (3 consecutive cycles)',
        'up[int-1]: polls of integration int-1 succeed again (was: invalid_body: installations[0].id is empty (3 consecutive cycles))',
      ]);
      expect(state.integrations).toEqual({});
      expect(state.down).toBe(false);
    });

    it('restarts its count after a success', () => {
      const { notes, state } = run([...oneFailsOthersSucceed(2), ok('c3', 'int-1'), ...oneFailsOthersSucceed(2, 'int-1', 'int-2', 4)]);
      expect(notes).toEqual([]);
      expect(state.integrations['int-1']).toMatchObject({ failedCycles: 2, down: false });
    });

    it('sends no per-integration message when every integration fails: the project-wide alert covers them', () => {
      const events: UpstreamEvent[] = [];
      for (let c = 1; c <= 6; c += 1) events.push(invalid(`c${c}`, 'int-1'), fail(`c${c}`, false, 'int-2'));
      events.push(ok('c7', 'int-2'), ok('c7', 'int-1'));
      expect(run(events).notes).toEqual([
        'down: upstream degraded: 3 consecutive poll cycles failed, last error: invalid_body: installations[0].id is empty',
        'up: polls succeed again (was: upstream degraded: 3 consecutive poll cycles failed, last error: invalid_body: installations[0].id is empty)',
      ]);
    });

    it('sends the project-wide recovery first and its own recovery at its next success', () => {
      const events = [...oneFailsOthersSucceed(3)];
      for (let c = 4; c <= 6; c += 1) events.push(fail(`c${c}`, false, 'int-1'), fail(`c${c}`, false, 'int-2'));
      events.push(ok('c7', 'int-1'), ok('c8', 'int-1'));
      expect(run(events).notes.map((n) => n.slice(0, n.indexOf(':')))).toEqual(['down[int-1]', 'down', 'up', 'up[int-1]']);
    });

    it.each(['_discovery', '_cycle'])('never opens an alert of its own for the project-wide label %s', (label) => {
      expect(run(oneFailsOthersSucceed(6, label)).notes).toEqual([]);
    });

    it('leaves 401/403 to the project-wide configuration alert', () => {
      const events: UpstreamEvent[] = [];
      for (let c = 1; c <= 5; c += 1) events.push(fail(`c${c}`, true, 'int-1'), ok(`c${c}`, 'int-2'));
      expect(run(events).notes).toEqual(['down: unauthorized (HTTP 401)']);
    });

    describe('while another integration is refused with 401/403', () => {
      const forbidden = (cycleId: string, integrationId = 'x'): UpstreamEvent => ({
        ok: false,
        cycleId,
        integrationId,
        reason: 'forbidden (HTTP 403)',
        configurationError: true,
      });
      type Make = (cycleId: string) => UpstreamEvent;
      /** Cycles 1..n of the given events, their order inside a cycle rotating from cycle to cycle. */
      const cycles = (n: number, makers: readonly Make[]): UpstreamEvent[] => {
        const events: UpstreamEvent[] = [];
        for (let c = 1; c <= n; c += 1) for (let i = 0; i < makers.length; i += 1) events.push(makers[(i + c) % makers.length]!(`c${c}`));
        return events;
      };
      const zDown = (k: number): string => `down[z]: invalid_body: installations[0].id is empty (${k} consecutive cycles)`;
      const x403: Make = (c) => forbidden(c);
      const yOk: Make = (c) => ok(c, 'y');
      const zBad: Make = (c) => invalid(c, 'z');
      const yFails: Make = (c) => fail(c, false, 'y');

      it.each<[string, number, Make[], string[], boolean]>([
        ['opens the alert of one that fails while another is read fine', 3, [x403, yOk, zBad], ['down: forbidden (HTTP 403)', zDown(3)], true],
        ['does so after K cycles with K = 1 too', 1, [x403, yOk, zBad], ['down: forbidden (HTTP 403)', zDown(1)], true],
        ['does so with K = 5', 5, [x403, yOk, zBad], ['down: forbidden (HTTP 403)', zDown(5)], true],
        ['sends one message when every other integration fails too', 3, [x403, yFails, zBad], ['down: forbidden (HTTP 403)'], false],
        ['sends one message when the only other integration fails', 3, [x403, zBad], ['down: forbidden (HTTP 403)'], false],
      ])('%s', (_name, k, makers, expected, zIsDown) => {
        const { notes, state } = run(cycles(20, makers), k);
        // With K = 1 both may open in the first cycle, in either order.
        expect([...notes].sort()).toEqual([...expected].sort());
        expect(state).toMatchObject({ down: true, configurationError: true, configurationErrorIntegration: 'x' });
        expect(state.integrations['z']).toMatchObject({ failedCycles: 20, down: zIsDown });
        expect(state.integrations['x']).toBeUndefined();
      });

      it('keeps that alert open when the refused one recovers, and closes it at its own next success', () => {
        const events = [...cycles(4, [x403, yOk, zBad]), ok('c5', 'x'), invalid('c5', 'z'), ok('c6', 'z')];
        expect(run(events).notes.map((n) => n.slice(0, n.indexOf(':')))).toEqual(['down', 'down[z]', 'up', 'up[z]']);
      });

      it('does not count a cycle that had a success as failed when a 401/403 follows it', () => {
        expect(run([ok('c1', 'y'), forbidden('c1'), ok('c2', 'y'), forbidden('c2')]).state.failedCycles).toBe(0);
      });
    });

    it('reads a state stored by the release without per-integration counts', () => {
      const { integrations: _omitted, ...stored } = INITIAL_UPSTREAM_STATE;
      let state = stored as unknown as UpstreamState;
      const notes: string[] = [];
      for (const event of oneFailsOthersSucceed(3)) {
        const decision = nextUpstreamState(state, event, 3);
        state = decision.state;
        if (decision.notify) notes.push(decision.notify.integrationId ?? '');
      }
      expect(notes).toEqual(['int-1']);
    });
  });
});

describe('forgetUnlistedIntegrations', () => {
  const FORGET = 600_000;
  /** int-1 fails 3 cycles while int-2 succeeds: int-1's own alert is open. */
  const open = (): UpstreamState => run(oneFailsOthersSucceed(3)).state;
  type Step = readonly [listed: readonly string[], atMs: number];

  /** Tells the policy each list in turn, calling again while a call sends a message, as the tracker does. */
  function listings(state: UpstreamState, steps: readonly Step[]): { notes: string[]; state: UpstreamState } {
    const notes: string[] = [];
    for (const [listed, atMs] of steps) {
      for (;;) {
        const decision = forgetUnlistedIntegrations(state, new Set(listed), atMs, FORGET);
        state = decision.state;
        if (decision.notify === undefined) break;
        notes.push(`${decision.notify.state}[${decision.notify.integrationId ?? ''}]: ${decision.notify.reason}`);
      }
    }
    return { notes, state };
  }
  const resolved = 'up[int-1]: integration int-1 is no longer monitored (was: invalid_body: installations[0].id is empty (3 consecutive cycles))';

  it.each<[string, Step[], string[], string[]]>([
    [
      'resolves an open alert once its integration has been missing for the forget time',
      [
        [['int-2'], 0],
        [['int-2'], FORGET - 1],
        [['int-2'], FORGET],
        [['int-2'], 2 * FORGET],
      ],
      [resolved],
      [],
    ],
    [
      'keeps it while the integration is missing for less than that',
      [
        [['int-2'], 0],
        [['int-2'], FORGET - 1],
      ],
      [],
      ['int-1'],
    ],
    [
      'keeps it, and restarts the clock, when a short or empty list is followed by one that lists it',
      [
        [[], 0],
        [['int-1', 'int-2'], FORGET - 1],
        [[], FORGET],
        [[], 2 * FORGET - 1],
      ],
      [],
      ['int-1'],
    ],
    [
      'keeps a listed integration however long',
      [
        [['int-1'], 0],
        [['int-1'], 100 * FORGET],
      ],
      [],
      ['int-1'],
    ],
  ])('%s', (_name, steps, expectedNotes, kept) => {
    const { notes, state } = listings(open(), steps);
    expect(notes).toEqual(expectedNotes);
    expect(Object.keys(state.integrations)).toEqual(kept);
  });

  it('drops an entry without an open alert silently', () => {
    const counting = run(oneFailsOthersSucceed(1)).state;
    expect(counting.integrations['int-1']?.down).toBe(false);
    const { notes, state } = listings(counting, [
      [['int-2'], 0],
      [['int-2'], FORGET],
    ]);
    expect(notes).toEqual([]);
    expect(state.integrations).toEqual({});
  });

  it('resolves each of several open alerts once, one message per call', () => {
    const both = run([...oneFailsOthersSucceed(3, 'int-1', 'int-2'), ...oneFailsOthersSucceed(3, 'int-3', 'int-2', 4)]).state;
    expect(Object.values(both.integrations).map((e) => e.down)).toEqual([true, true]);
    const { notes, state } = listings(both, [
      [['int-2'], 0],
      [['int-2'], FORGET],
    ]);
    expect(notes.map((n) => n.slice(0, n.indexOf(':')))).toEqual(['up[int-1]', 'up[int-3]']);
    expect(state.integrations).toEqual({});
  });

  it('does not restart the clock when a poll queued before it left the list fails', () => {
    let { state } = listings(open(), [[['int-2'], 0]]);
    state = nextUpstreamState(state, invalid('c9'), 3).state;
    expect(listings(state, [[['int-2'], FORGET]]).notes).toEqual([resolved]);
  });

  it('reads a state stored without the field, or without per-integration entries, as listed until now', () => {
    const { integrations: _omitted, ...older } = INITIAL_UPSTREAM_STATE;
    expect(
      listings(older as unknown as UpstreamState, [
        [[], 0],
        [[], FORGET],
      ]),
    ).toEqual({ notes: [], state: INITIAL_UPSTREAM_STATE });
    // Entries written before missingSinceMs existed start their clock at the first list that misses them.
    expect(
      listings(open(), [
        [['int-2'], 5 * FORGET],
        [['int-2'], 6 * FORGET - 1],
      ]).notes,
    ).toEqual([]);
  });
});

describe('since when', () => {
  const at = (event: UpstreamEvent, atMs: number): UpstreamEvent =>
    event.ok ? { ...event, atMs } : { ...event, atMs, cause: event.configurationError ? 'unauthorized' : 'server_error' };
  const feed = (events: UpstreamEvent[], k = 3) => {
    let state = INITIAL_UPSTREAM_STATE;
    const notices = [];
    for (const event of events) {
      const decision = nextUpstreamState(state, event, k);
      state = decision.state;
      if (decision.notify) notices.push(decision.notify);
    }
    return { notices, state };
  };

  it('dates the degraded alert from the first failed cycle of the streak, and its recovery too', () => {
    const { notices } = feed([at(ok('c0'), 0), at(fail('c1'), 1000), at(fail('c2'), 2000), at(fail('c3'), 3000), at(fail('c4'), 4000), at(ok('c5'), 5000)]);
    expect(notices).toEqual([
      expect.objectContaining({ state: 'down', sinceMs: 1000, cause: 'server_error' }),
      expect.objectContaining({ state: 'up', sinceMs: 1000 }),
    ]);
    expect(notices[1]).not.toHaveProperty('cause');
  });

  it('starts a new streak after a success', () => {
    const { notices } = feed([at(fail('c1'), 1000), at(ok('c2'), 2000), at(fail('c3'), 3000), at(fail('c4'), 4000), at(fail('c5'), 5000)]);
    expect(notices).toEqual([expect.objectContaining({ state: 'down', sinceMs: 3000 })]);
  });

  it('dates a configuration fault from the event that opens it, with its cause', () => {
    const { notices, state } = feed([at(ok('c1'), 500), at(fail('c1', true), 1000)]);
    expect(notices).toEqual([expect.objectContaining({ state: 'down', sinceMs: 1000, cause: 'unauthorized' })]);
    expect(state).toMatchObject({ failingSinceMs: 1000, cause: 'unauthorized' });
  });

  it("dates one integration's alert from its first failed poll, and its recovery too", () => {
    const events = oneFailsOthersSucceed(4).map((e, i) => at(e, 1000 * (i + 1)));
    const { notices } = feed([...events, at(ok('c5', 'int-1'), 99_000)]);
    expect(notices).toEqual([
      expect.objectContaining({ state: 'down', integrationId: 'int-1', sinceMs: 1000, cause: 'server_error' }),
      expect.objectContaining({ state: 'up', integrationId: 'int-1', sinceMs: 1000 }),
    ]);
  });

  it('says nothing of since when for events without a time, as the release before sent them', () => {
    const { notices } = feed([fail('c1'), fail('c2'), fail('c3')]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).not.toHaveProperty('sinceMs');
  });
});
