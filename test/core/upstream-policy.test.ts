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

/** Feeds events in order; returns the notifications they cause and the final state. */
function run(events: UpstreamEvent[], k = 3): { notes: string[]; state: UpstreamState } {
  let state = INITIAL_UPSTREAM_STATE;
  const notes: string[] = [];
  for (const event of events) {
    const decision = nextUpstreamState(state, event, k);
    state = decision.state;
    if (decision.notify) notes.push(`${decision.notify.state}: ${decision.notify.reason}`);
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
});
