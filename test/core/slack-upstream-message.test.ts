/**
 * The "cannot read Ampersand" messages: golden JSON of each (test/core/__golden__/;
 * `npx vitest run -u` rewrites them after a deliberate change), and what each says:
 * what broke in words, since when, why, and what to do.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_REASONS } from '../../src/core/errors/ampersand-api-error.js';
import type { UpstreamNotification } from '../../src/core/notification.js';
import { MESSAGE_LIMITS, blockTextLength } from '../../src/core/slack-blocks.js';
import { plainTextMessage, renderSlackMessage } from '../../src/core/slack-message.js';
import { failureWords, REMEDIES, upstreamCause } from '../../src/core/slack-upstream-message.js';

const since = Date.parse('2026-12-01T14:02:00.000Z');
const detected = '2026-12-01T14:05:00.000Z';
const recovered = '2026-12-01T16:15:00.000Z';
const sinceToken = `<!date^${since / 1000}^{date_short_pretty} {time}|2026-12-01 14:02 UTC>`;

const MESSAGES: readonly (readonly [string, UpstreamNotification])[] = [
  [
    'project-down-key-rejected',
    {
      kind: 'upstream',
      projectId: 'proj-1',
      state: 'down',
      reason: 'unauthorized (HTTP 401): Invalid API key',
      detectedAt: detected,
      sinceMs: since,
      cause: 'unauthorized',
    },
  ],
  [
    'project-down-degraded',
    {
      kind: 'upstream',
      projectId: 'proj-1',
      state: 'down',
      reason: 'upstream degraded: 3 consecutive poll cycles failed, last error: server_error (HTTP 503): Service Unavailable',
      detectedAt: detected,
      sinceMs: since,
      cause: 'server_error',
    },
  ],
  [
    'project-up',
    {
      kind: 'upstream',
      projectId: 'proj-1',
      state: 'up',
      reason: 'polls succeed again (was: upstream degraded: 3 consecutive poll cycles failed, last error: server_error (HTTP 503): Service Unavailable)',
      detectedAt: recovered,
      sinceMs: since,
    },
  ],
  [
    'integration-down',
    {
      kind: 'upstream',
      projectId: 'proj-1',
      state: 'down',
      integrationId: 'int-1',
      reason: 'not_found (HTTP 404): integration int-1 not found (3 consecutive cycles)',
      detectedAt: detected,
      sinceMs: since,
      cause: 'not_found',
    },
  ],
  [
    'integration-up',
    {
      kind: 'upstream',
      projectId: 'proj-1',
      state: 'up',
      integrationId: 'int-1',
      reason: 'polls of integration int-1 succeed again (was: not_found (HTTP 404): integration int-1 not found (3 consecutive cycles))',
      detectedAt: recovered,
      sinceMs: since,
    },
  ],
  [
    'integration-no-longer-monitored',
    {
      kind: 'upstream',
      projectId: 'proj-1',
      state: 'up',
      integrationId: 'int-1',
      noLongerMonitored: true,
      reason: 'integration int-1 is no longer monitored (was: invalid_body: installations of int-1: installations[0].id is empty (3 consecutive cycles))',
      detectedAt: recovered,
      sinceMs: since,
    },
  ],
];

describe('renderSlackMessage of the upstream messages', () => {
  it.each(MESSAGES)('renders %s (golden)', async (name, n) => {
    const message = renderSlackMessage(n, `upstream.${name}`);
    await expect(JSON.stringify(message, null, 2)).toMatchFileSnapshot(`./__golden__/upstream-${name}.json`);
    expect(message.blocks.length).toBeLessThanOrEqual(MESSAGE_LIMITS.blocks);
    expect(blockTextLength(message.blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
    expect(plainTextMessage(message).text).toMatch(new RegExp(` · ref \`upstream\\.${name}\`$`));
  });

  it('says what broke in words, since when, why and what to do when the key is rejected', () => {
    const [, n] = MESSAGES[0] ?? [];
    const message = renderSlackMessage(n as UpstreamNotification, 'r');
    const body = JSON.stringify(message.blocks);
    expect(message.text).toBe('[FIRING] the monitor cannot read Ampersand project proj-1: unauthorized (HTTP 401): Invalid API key');
    expect(body).toContain("*What:* Ampersand rejects the monitor's API key (401). No installation of project `proj-1` is being checked meanwhile");
    expect(body).toContain(`*Since:* ${sinceToken} (for 3 m)`);
    expect(body).toContain('*Why:* unauthorized (HTTP 401): Invalid API key');
    expect(body).toContain('*What to do:* Check AMPERSAND_API_KEY');
    expect(message.plainText).toContain(' · since 2026-12-01 14:02 UTC · Check AMPERSAND_API_KEY');
  });

  it('says how long it could not read on recovery', () => {
    const [, n] = MESSAGES[2] ?? [];
    expect(JSON.stringify(renderSlackMessage(n as UpstreamNotification, 'r').blocks)).toContain(`It could not for 2 h 13 m, since ${sinceToken}.`);
  });

  it('has a remedy pointing at the configuration for a 404 and at the status page for a 5xx or a timeout', () => {
    expect(REMEDIES.not_found).toContain('AMPERSAND_API_URL');
    expect(REMEDIES.not_found).toContain('AMPERSAND_PROJECT_ID');
    for (const cause of ['server_error', 'timeout'] as const) expect(REMEDIES[cause]).toContain("Ampersand's status page");
    for (const cause of ERROR_REASONS) expect([failureWords[cause], REMEDIES[cause]].every((s) => s.length > 0)).toBe(true);
  });

  describe('an entry queued by the release before (no cause, no since)', () => {
    it.each([
      ['unauthorized (HTTP 401): Invalid API key', 'unauthorized'],
      ['upstream degraded: 3 consecutive poll cycles failed, last error: timeout: no answer within 30000 ms', 'timeout'],
      ['invalid_body: installations of int-1: installations[0].id is empty (3 consecutive cycles)', 'invalid_body'],
      ['something else: boom', undefined],
    ])('reads the kind of failure from its reason %j', (reason, cause) => {
      expect(upstreamCause({ kind: 'upstream', projectId: 'p', state: 'down', reason, detectedAt: detected })).toBe(cause);
    });

    it('says since the detection time, and the remedy of the kind its reason names', () => {
      const n: UpstreamNotification = { kind: 'upstream', projectId: 'p', state: 'down', reason: 'forbidden (HTTP 403): nope', detectedAt: detected };
      const body = JSON.stringify(renderSlackMessage(n, 'r').blocks);
      expect(body).toContain('*Since:* at least <!date^');
      expect(body).toContain(REMEDIES.forbidden);
    });
  });

  it('shows hostile text from the API as text', () => {
    const n: UpstreamNotification = {
      kind: 'upstream',
      projectId: 'p',
      state: 'down',
      reason: 'client_error (HTTP 400): <!channel> & <@U1>',
      detectedAt: detected,
    };
    const all = JSON.stringify(renderSlackMessage(n, 'r'));
    expect(all).not.toContain('<!channel>');
    expect(all).toContain('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });
});
