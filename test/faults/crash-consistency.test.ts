/**
 * Crash consistency: one worker process, SIGKILLed at random moments and
 * restarted, over 200 lockstep poll cycles with random transitions. Every
 * transition must reach Slack exactly once; the one window no design closes
 * (Slack accepted, process killed before the outbox pop) is counted apart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';
import { CHAOS_ENV, runChaos } from './chaos.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.stop();
});

describe('crash consistency', () => {
  it('delivers every transition once across 200 cycles with random SIGKILLs', async () => {
    const seed = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);
    const figures = await runChaos(h, h.redis, {
      label: 'crash',
      processes: 1,
      steps: Number(process.env['CHAOS_STEPS'] ?? 200),
      killMeanMs: 2500,
      seed,
      env: CHAOS_ENV,
      killOnSlackAcceptEvery: 25,
    });
    expect(figures.kills).toBeGreaterThanOrEqual(5);
    // A re-send needs a kill between Slack's OK and the pop; each kill can cause at most one.
    expect(figures.windowDuplicates).toBeLessThanOrEqual(figures.kills);
    expect(figures).toMatchObject({ lost: 0, falseAlerts: 0, duplicated: 0, outOfOrder: 0, schedulers: 1 });
  }, 600_000);
});
