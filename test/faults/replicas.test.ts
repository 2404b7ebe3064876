/**
 * Replicas: three worker processes share one Redis for 100 lockstep cycles
 * with random transitions while some are killed and restarted. Zero lost,
 * zero duplicated, exactly one job scheduler at the end.
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

describe('three replicas', () => {
  it('alert each transition once while replicas are killed and restarted', async () => {
    const seed = Number(process.env['CHAOS_SEED'] ?? (Date.now() + 7) % 1_000_000);
    const figures = await runChaos(h, h.redis, {
      label: 'replicas',
      processes: 3,
      steps: Number(process.env['CHAOS_STEPS'] ?? 100),
      killMeanMs: 1500,
      seed,
      env: CHAOS_ENV,
    });
    expect(figures.kills).toBeGreaterThanOrEqual(3);
    // A re-send needs a kill between Slack's OK and the pop; each kill can cause at most one.
    expect(figures.windowDuplicates).toBeLessThanOrEqual(figures.kills);
    expect(figures).toMatchObject({ lost: 0, falseAlerts: 0, duplicated: 0, outOfOrder: 0, schedulers: 1 });
  }, 600_000);
});
