/** What every UpstreamStore must do, whatever keeps the data. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { INITIAL_UPSTREAM_STATE } from '../../src/core/upstream-policy.js';
import type { StoresFactory, StoresSubject } from './subjects.js';
import { entry } from '../helpers/store-builders.js';

export function upstreamStoreContract(create: StoresFactory): void {
  let s: StoresSubject;
  beforeEach(async () => {
    s = await create();
  });
  afterEach(() => s.close());

  it('starts from the initial state at revision 0', async () => {
    expect(await s.upstream.load('proj-1')).toEqual({ rev: 0, state: INITIAL_UPSTREAM_STATE });
  });

  it('commits against the loaded revision only, with its notification in the outbox', async () => {
    const down = { ...INITIAL_UPSTREAM_STATE, down: true, reason: 'r' };
    expect(await s.upstream.commit('proj-1', 0, down, entry('u1'))).toEqual({ committed: true, version: 1, outboxHead: 'u1' });
    expect(await s.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, entry('u2'))).toEqual({ committed: false });
    expect(await s.upstream.load('proj-1')).toEqual({ rev: 1, state: down });
    expect(await s.outbox.deadLetters()).toEqual([]);
    expect((await s.outbox.head())?.entry).toEqual(entry('u1'));
    expect(await s.outbox.size()).toBe(1);
  });

  it('keeps the per-integration entries, and commits without a notification', async () => {
    const integrations = { 'int-1': { failedCycles: 3, lastFailedCycle: 'c3', down: true, reason: 'invalid_body' } };
    expect(await s.upstream.commit('proj-1', 0, { ...INITIAL_UPSTREAM_STATE, failedCycles: 1, integrations }, undefined)).toEqual({
      committed: true,
      version: 1,
      outboxHead: undefined,
    });
    expect(await s.upstream.commit('proj-1', 1, { ...INITIAL_UPSTREAM_STATE, failedCycles: 2, integrations }, undefined)).toMatchObject({
      committed: true,
      version: 2,
    });
    expect(await s.upstream.load('proj-1')).toEqual({ rev: 2, state: { ...INITIAL_UPSTREAM_STATE, failedCycles: 2, integrations } });
    expect(await s.outbox.size()).toBe(0);
  });
}
