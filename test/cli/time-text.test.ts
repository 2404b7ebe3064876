import { describe, expect, it } from 'vitest';
import { formatDuration, formatSince, jsonTime } from '../../src/cli/time-text.js';

const now = Date.UTC(2026, 4, 1, 12, 0, 0);

describe('formatSince', () => {
  it('gives the time and how long ago when the change was seen', () => {
    expect(formatSince({ ms: now - 3 * 3_600_000 - 5 * 60_000, exact: true }, now)).toBe('2026-05-01T08:55:00Z (3 h 5 m ago)');
  });

  it('says "≥" and "first seen" when it is only when the monitor first saw the state', () => {
    expect(formatSince({ ms: now - 90_000, exact: false }, now)).toBe('≥ 2026-05-01T11:58:30Z (first seen 1 m ago)');
  });

  it('says "unknown" when nobody knows', () => {
    expect(formatSince(undefined, now)).toBe('unknown');
  });
});

describe('formatDuration', () => {
  it('uses at most two units, and 0 s for a time ahead (clock skew)', () => {
    expect([45_000, 12 * 60_000, 2 * 3_600_000, 50 * 3_600_000, 48 * 3_600_000, -5000].map(formatDuration)).toEqual([
      '45 s',
      '12 m',
      '2 h',
      '2 d 2 h',
      '2 d',
      '0 s',
    ]);
  });
});

describe('jsonTime', () => {
  it('is ISO 8601, or null for an unknown time', () => {
    expect([jsonTime(now), jsonTime(0), jsonTime(undefined)]).toEqual(['2026-05-01T12:00:00.000Z', null, null]);
  });
});
