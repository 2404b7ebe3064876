import { describe, expect, it } from 'vitest';
import { formatDuration, ordinal, slackDateToken, utcText } from '../../src/core/time-text.js';

const T = Date.parse('2026-12-01T14:02:59.999Z');

describe('utcText', () => {
  it('writes the time to the minute, in UTC, saying so', () => {
    expect(utcText(T)).toBe('2026-12-01 14:02 UTC');
    expect(utcText(Date.parse('2027-01-05T03:04:00Z'))).toBe('2027-01-05 03:04 UTC');
  });
});

describe('slackDateToken', () => {
  it("is Slack's date token in whole seconds, with the UTC time as its fallback", () => {
    expect(slackDateToken(T)).toBe('<!date^1796133779^{date_short_pretty} {time}|2026-12-01 14:02 UTC>');
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [-5_000, '0 s'],
    [0, '0 s'],
    [45_999, '45 s'],
    [60_000, '1 m'],
    [13 * 60_000 + 59_999, '13 m'],
    [3_600_000, '1 h'],
    [2 * 3_600_000 + 13 * 60_000 + 59_000, '2 h 13 m'],
    [24 * 3_600_000, '1 d'],
    [3 * 24 * 3_600_000 + 4 * 3_600_000 + 59 * 60_000, '3 d 4 h'],
  ])('writes %i ms as %s, cut down, never rounded up', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('ordinal', () => {
  it.each<[number, string]>([
    [1, '1st'],
    [2, '2nd'],
    [3, '3rd'],
    [4, '4th'],
    [11, '11th'],
    [12, '12th'],
    [13, '13th'],
    [21, '21st'],
    [22, '22nd'],
    [101, '101st'],
    [111, '111th'],
  ])('writes %i as %s', (n, text) => {
    expect(ordinal(n)).toBe(text);
  });
});
