/** What every InitMarker must do, whatever keeps the data. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { StoresFactory, StoresSubject } from './subjects.js';

export function initMarkerContract(create: StoresFactory): void {
  let s: StoresSubject;
  beforeEach(async () => {
    s = await create();
  });
  afterEach(() => s.close());

  it('is false until marked, stays true when marked again, and is false after the data is gone', async () => {
    expect(await s.initMarker.isInitialised()).toBe(false);
    await s.initMarker.markInitialised(1);
    await s.initMarker.markInitialised(2);
    expect(await s.initMarker.isInitialised()).toBe(true);
    await s.wipe();
    expect(await s.initMarker.isInitialised()).toBe(false);
  });
}
