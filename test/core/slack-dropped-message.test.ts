/** The notice of dropped alert messages: golden JSON (test/core/__golden__/), and what it says. */
import { describe, expect, it } from 'vitest';
import { MESSAGE_LIMITS, blockTextLength } from '../../src/core/slack-blocks.js';
import { plainTextMessage, renderSlackMessage } from '../../src/core/slack-message.js';

const notice = {
  kind: 'dropped' as const,
  count: 1234,
  sinceMs: Date.parse('2026-12-01T14:02:00.000Z'),
  cap: 1000,
  detectedAt: '2026-12-01T14:40:00.000Z',
};

describe('renderSlackMessage of the dropped notice', () => {
  it('says how many, since when, why, and where the state is (golden)', async () => {
    const message = renderSlackMessage(notice, 'dropped.1796133720000.1');
    await expect(JSON.stringify(message, null, 2)).toMatchFileSnapshot('./__golden__/dropped-notice.json');
    expect(message.text).toBe('[DROPPED] 1,234 alert message(s) were dropped since 2026-12-01 14:02 UTC: the outbox was full (1,000 waiting); see /metrics');
    const body = JSON.stringify(message.blocks);
    expect(body).toContain('SLACK_OUTBOX_MAX');
    expect(body).toContain('ampersand_slack_outbox_dropped_total');
    expect(body).toContain('<!date^1796133720^{date_short_pretty} {time}|2026-12-01 14:02 UTC>');
    expect(blockTextLength(message.blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
    expect(plainTextMessage(message).text).toMatch(/ · ref `dropped\.1796133720000\.1`$/);
  });
});
