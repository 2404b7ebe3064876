import { describe, expect, it } from 'vitest';
import { createByteBudget, type BudgetLease } from '../src/byte-budget.js';

/** Whether a promise has settled, after every queued microtask has run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('createByteBudget', () => {
  it('grants reservations that fit at once', async () => {
    const budget = createByteBudget(100);
    const a = await budget.reserve(60);
    const b = await budget.reserve(40);
    expect([a.held, b.held]).toEqual([60, 40]);
  });

  describe('when a reservation does not fit beside the others', () => {
    it('waits until enough is released', async () => {
      const budget = createByteBudget(100);
      const first = await budget.reserve(70);
      const second = budget.reserve(70);
      expect(await settled(second)).toBe(false);
      first.release();
      expect((await second).held).toBe(70);
    });

    it('grants in arrival order, so a big body is not starved by small ones', async () => {
      const budget = createByteBudget(100);
      const first = await budget.reserve(50);
      const big = budget.reserve(100);
      const small = budget.reserve(10);
      expect(await settled(small)).toBe(false);
      first.release();
      const bigLease = await big;
      expect(await settled(small)).toBe(false);
      bigLease.release();
      expect((await small).held).toBe(10);
    });

    it('stops waiting when its signal aborts, and lets the ones behind it through', async () => {
      const budget = createByteBudget(100);
      const first = await budget.reserve(50);
      const controller = new AbortController();
      const big = budget.reserve(100, controller.signal);
      const small = budget.reserve(10);
      controller.abort(new Error('poll cancelled'));
      await expect(big).rejects.toThrow('poll cancelled');
      expect((await small).held).toBe(10);
      first.release();
    });
  });

  it('holds at most the whole budget for one reservation, so one body can always be read alone', async () => {
    const budget = createByteBudget(100);
    expect((await budget.reserve(1_000)).held).toBe(100);
  });

  it('lets a lease grow past the budget without waiting, and counts the growth until release', async () => {
    const budget = createByteBudget(100);
    const growing: BudgetLease = await budget.reserve(10);
    growing.grow(120);
    expect(growing.held).toBe(130);
    const next = budget.reserve(1);
    expect(await settled(next)).toBe(false);
    growing.release();
    growing.release();
    expect((await next).held).toBe(1);
    // Released twice, counted once: the whole budget is free again.
    expect((await budget.reserve(99)).held).toBe(99);
  });

  it('refuses a budget that is not a positive integer', () => {
    expect(() => createByteBudget(0)).toThrow(RangeError);
    expect(() => createByteBudget(1.5)).toThrow(RangeError);
  });
});
