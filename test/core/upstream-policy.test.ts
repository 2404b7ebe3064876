import { describe, expect, it } from 'vitest';
import { INITIAL_UPSTREAM_STATE, nextUpstreamState, type UpstreamEvent, type UpstreamState } from '../../src/core/upstream-policy.js';

const fail = (cycleId: string, configurationError = false): UpstreamEvent => ({ ok: false, cycleId, reason: configurationError ? 'unauthorized (HTTP 401)' : 'server_error (HTTP 503)', configurationError });
const ok = (cycleId: string): UpstreamEvent => ({ ok: true, cycleId });

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

  it('keeps quiet when a configuration fault follows a degraded alert', () => {
    const { notes, state } = run([fail('c1'), fail('c2'), fail('c3'), fail('c4', true)]);
    expect(notes).toHaveLength(1);
    expect(state.down).toBe(true);
  });
});
