import { describe, expect, it } from 'vitest';
import { formatDuration, formatUtc, sinceText, slackDateToken } from '../../src/core/slack-time.js';

const at = Date.parse('2026-12-01T14:02:37.512Z');

describe('formatUtc', () => {
  it('says the time in UTC to the minute', () => {
    expect(formatUtc(at)).toBe('2026-12-01 14:02 UTC');
    expect(formatUtc(Date.parse('2027-01-09T03:04:00Z'))).toBe('2027-01-09 03:04 UTC');
  });

  it('says an unknown time for a time that is not one', () => {
    expect(formatUtc(Number.NaN)).toBe('an unknown time');
  });
});

describe('slackDateToken', () => {
  it("is Slack's date token in whole seconds, with the UTC time as its fallback", () => {
    expect(slackDateToken(at)).toBe('<!date^1796133757^{date_short_pretty} {time}|2026-12-01 14:02 UTC>');
  });

  it('is the fallback text alone for a time that is not a number', () => {
    expect(slackDateToken(Number.NaN)).toBe('an unknown time');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [-5_000, '0 s'],
    [45_900, '45 s'],
    [60_000, '1 m'],
    [13 * 60_000 + 59_000, '13 m'],
    [2 * 3_600_000, '2 h'],
    [2 * 3_600_000 + 13 * 60_000 + 30_000, '2 h 13 m'],
    [86_400_000, '1 d'],
    [3 * 86_400_000 + 4 * 3_600_000 + 59 * 60_000, '3 d 4 h'],
    [Number.NaN, '0 s'],
  ])('says %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('sinceText', () => {
  it('says for how long and since when', () => {
    expect(sinceText(at, at + 2 * 3_600_000 + 13 * 60_000)).toBe(`for 2 h 13 m, since ${slackDateToken(at)}`);
  });

  it('says only since when without a later now', () => {
    expect(sinceText(at)).toBe(`since ${slackDateToken(at)}`);
    expect(sinceText(at, at - 1)).toBe(`since ${slackDateToken(at)}`);
  });
});
