import { describe, expect, it } from 'vitest';
import { INITIAL_UPSTREAM_STATE, nextUpstreamState, type UpstreamEvent, type UpstreamState } from '../../src/core/upstream-policy.js';

const fail = (cycleId: string, configurationError = false, integrationId = 'int-1'): UpstreamEvent => ({
  ok: false,
  cycleId,
  integrationId,
  reason: configurationError ? 'unauthorized (HTTP 401)' : 'server_error (HTTP 503)',
  configurationError,
});
const ok = (cycleId: string, integrationId = 'int-1'): UpstreamEvent => ({ ok: true, cycleId, integrationId });
const invalid = (cycleId: string, integrationId = 'int-1'): UpstreamEvent => ({ ok: false, cycleId, integrationId, reason: 'invalid_body: installations[0].id is empty', configurationError: false });

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
    if (decision.notify) notes.push(`${decision.notify.state}${decision.notify.integrationId === undefined ? '' : `[${decision.notify.integrationId}]`}: ${decision.notify.reason}`);
  }
  return { notes, state };
}

describe('nextUpstreamState', () => {
  it('opens one alert at once on a configuration fault, and one recovery', () => {
    const { notes } = run([ok('c1'), fail('c2', true), fail('c2', true), fail('c3', true), fail('c4'), ok('c5'), ok('c6')]);
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
