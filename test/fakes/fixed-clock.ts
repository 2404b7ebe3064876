/**
 * A Clock that stands still until a test moves it, so that jobs and tests
 * agree on the time without fake timers or waits. `now` is a plain function,
 * so `clock.now` can be handed to a job's `now` dependency as is.
 */
import type { Clock } from '../../src/ports.js';

export interface FixedClock extends Clock {
  advance(ms: number): void;
}

export function createFixedClock(start: Date | string = '2026-01-01T00:00:00.000Z'): FixedClock {
  let ms = new Date(start).getTime();
  return {
    now: () => new Date(ms),
    advance(by) {
      ms += by;
    },
  };
}
