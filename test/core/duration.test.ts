import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/core/duration.js';

const MIN = 60_000;

describe('formatDuration', () => {
  it.each([
    [-5000, '0 s'],
    [0, '0 s'],
    [59_999, '59 s'],
    [60_000, '1 m'],
    [59 * MIN, '59 m'],
    [60 * MIN, '1 h'],
    [125 * MIN, '2 h 5 m'],
    [24 * 60 * MIN, '1 d'],
    [(2 * 24 + 4) * 60 * MIN + 59_000, '2 d 4 h'],
  ])('reads %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
