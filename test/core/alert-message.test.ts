/**
 * The Slack messages of the alert digests (kind 'alerts'), pinned: each kind's
 * rendered JSON is a golden file in test/fixtures/slack-alerts/, reviewed as
 * part of a change, and each stays within Slack's limits. A change to the
 * wording shows as a diff of these files.
 */
import { describe, expect, it } from 'vitest';
import { buildAlertDigests, type AlertEventItem, type AlertNotification } from '../../src/core/alert-notification.js';
import type { FailureDetails } from '../../src/core/operation.js';
import {
  MESSAGE_LIMITS,
  alertHeadline,
  blockTextLength,
  escapeMrkdwn,
  plainTextMessage,
  providerLabel,
  renderSlackMessage,
  slackLink,
  type MessageLinks,
  type SlackMessage,
} from '../../src/core/slack-message.js';

const SINCE = Date.parse('2026-12-01T14:02:00Z');
const MINUTE = 60_000;
const links: MessageLinks = { ampersandDashboardUrl: 'https://dashboard.withampersand.com', runbookUrl: 'https://wiki.example.com/runbooks/ampersand' };

const item = (overrides: Partial<AlertEventItem> = {}): AlertEventItem => ({
  installationId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  groupRef: 'org-acme',
  groupName: 'Acme Corp',
  provider: 'salesforce',
  condition: 'unhealthy',
  event: 'fire',
  since: SINCE,
  firedAt: SINCE + MINUTE,
  consumerName: 'Jane Smith',
  consumerRef: 'user-42',
  ...overrides,
});

const digest = (items: AlertEventItem[], overrides: Partial<AlertNotification> = {}): AlertNotification => ({
  kind: 'alerts',
  projectId: 'proj-1',
  integrationId: 'int-1',
  integrationName: 'Salesforce account sync',
  detectedAt: new Date(SINCE + MINUTE).toISOString(),
  installations: 120,
  firing: { unhealthy: 3, operation_failing: 0, bad_credentials: 0 },
  items,
  omitted: 0,
  ...overrides,
});

const failure: FailureDetails = {
  operationId: 'op-2f1c',
  actionType: 'read',
  result: '[account] Read failed',
  errorLines: [
    'Provider error, retrying (attempt 1 of 2): INVALID_SESSION_ID: Session expired or invalid',
    'Read of account failed: INVALID_SESSION_ID: Session expired or invalid',
  ],
  omittedErrorLines: 1,
  time: new Date(SINCE - 4 * MINUTE).toISOString(),
};

/** Every limit of Slack's that the renderer promises to keep. */
function expectWithinBudget(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(MESSAGE_LIMITS.blocks);
  expect(blockTextLength(message.blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
  expect(message.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.text);
  expect(message.plainText?.length ?? 0).toBeLessThanOrEqual(MESSAGE_LIMITS.plainText);
  for (const block of message.blocks) {
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.headerText);
    if (block.type === 'section') expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(MESSAGE_LIMITS.sectionText);
    if (block.type === 'context') for (const e of block.elements) expect('text' in e ? e.text.length : 0).toBeLessThanOrEqual(MESSAGE_LIMITS.sectionText);
  }
}

const REF = 'int-1.a1b2c3d4.42.1';
const golden = (name: string): string => `../fixtures/slack-alerts/${name}.json`;

describe('the alert messages, pinned', () => {
  const cases: [string, AlertNotification][] = [
    ['firing', digest([item()])],
    [
      'recovery',
      digest([item({ event: 'resolve', reason: 'recovered', endedAt: SINCE + 2 * 60 * MINUTE + 13 * MINUTE })], {
        detectedAt: new Date(SINCE + 2 * 60 * MINUTE + 14 * MINUTE).toISOString(),
        firing: { unhealthy: 2, operation_failing: 0, bad_credentials: 0 },
      }),
    ],
    [
      'reminder',
      digest([item({ event: 'remind' }), item({ event: 'remind', installationId: 'inst-2', groupRef: 'org-globex', groupName: 'Globex', since: null })], {
        detectedAt: new Date(SINCE + 4 * 60 * MINUTE + MINUTE).toISOString(),
        firing: { unhealthy: 2, operation_failing: 0, bad_credentials: 0 },
      }),
    ],
    [
      'bad-credentials',
      digest([item({ condition: 'bad_credentials', provider: 'hubspot' })], { firing: { unhealthy: 0, operation_failing: 0, bad_credentials: 1 } }),
    ],
    [
      'operation-failure',
      digest([item({ condition: 'operation_failing', details: failure, pausedReads: ['contacts', 'leads'], episodesThisWeek: 3 })], {
        firing: { unhealthy: 0, operation_failing: 4, bad_credentials: 0 },
      }),
    ],
    [
      // A route's mention (monitor configuration file): on a firing digest, first in the text and in its own section.
      'firing-with-mention',
      digest(
        [
          item(),
          item({ event: 'resolve', reason: 'recovered', installationId: 'inst-2', groupRef: 'org-globex', groupName: 'Globex', endedAt: SINCE + 90 * MINUTE }),
        ],
        {
          mention: '<!subteam^S0123ABCD|oncall-crm> <@U0456EFGH>',
        },
      ),
    ],
    [
      'hostile-group-name',
      digest(
        [
          item({
            condition: 'operation_failing',
            groupName: '<!channel> *Acme* & <https://evil.example|click here>\nSecond line',
            groupRef: '<@U123>`ref`',
            consumerName: '<!here> Mallory',
            details: { ...failure, result: '<!everyone> ran', errorLines: ['error <script>&amp; `code`'] },
          }),
        ],
        { integrationName: '<!channel> integration', firing: { unhealthy: 0, operation_failing: 1, bad_credentials: 0 } },
      ),
    ],
  ];

  it.each(cases)('%s: as pinned, and within every limit', async (name, notification) => {
    const message = renderSlackMessage(notification, REF, links);
    expectWithinBudget(message);
    await expect(`${JSON.stringify({ text: message.text, blocks: message.blocks, plainText: message.plainText }, null, 2)}\n`).toMatchFileSnapshot(
      golden(name),
    );
  });
});

describe("a route's mention", () => {
  const mention = '<!here>';
  it('is shown on a digest that fires, and never on one of recoveries or reminders only', () => {
    expect(renderSlackMessage(digest([item()], { mention }), REF, links).text).toMatch(/^<!here> \[FIRING:1\]/);
    for (const event of ['resolve', 'remind'] as const) {
      const message = renderSlackMessage(digest([item({ event, reason: 'recovered', endedAt: SINCE + 9 * MINUTE })], { mention }), REF, links);
      expect(JSON.stringify(message)).not.toContain('<!here>');
    }
  });

  it('is shown on a mass event that fires, and not on one that recovers', () => {
    const mass = (event: 'fire' | 'resolve') => ({
      event,
      installations: 500,
      conditions: { unhealthy: 500 },
      providers: [{ provider: 'salesforce', installations: 500 }],
      otherProviders: 0,
      sample: [item({ event })],
      since: SINCE,
      ...(event === 'resolve' ? { endedAt: SINCE + 9 * MINUTE } : {}),
    });
    const firing = renderSlackMessage(digest([], { mention, mass: [mass('fire')] }), REF, links);
    expect(firing.text.startsWith('<!here> ')).toBe(true);
    expect(firing.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<!here>' } });
    expectWithinBudget(firing);
    expect(JSON.stringify(renderSlackMessage(digest([], { mention, mass: [mass('resolve')] }), REF, links))).not.toContain('<!here>');
  });

  it('keeps the fullest digest within every limit with the longest mention allowed', () => {
    const longest = Array.from({ length: 9 }, (_, i) => `<!subteam^S000000${i}|team-${i}>`)
      .join(' ')
      .slice(0, 200);
    const items = Array.from({ length: 40 }, (_, i) =>
      item({
        installationId: `${'i'.repeat(60)}-${i}`,
        groupName: 'G'.repeat(200),
        groupRef: 'r'.repeat(200),
        condition: 'operation_failing',
        details: failure,
      }),
    );
    const [built] = buildAlertDigests(
      {
        projectId: 'proj-1',
        integrationId: 'int-1',
        detectedAt: new Date(SINCE).toISOString(),
        installations: 120,
        firing: { unhealthy: 0, operation_failing: 40, bad_credentials: 0 },
      },
      items,
      { mention: longest },
    );
    expect(built?.mention).toBe(longest);
    expectWithinBudget(renderSlackMessage(built as AlertNotification, REF, links));
  });
});

describe('the alert messages say', () => {
  const render = (n: AlertNotification, l: MessageLinks = links): SlackMessage => renderSlackMessage(n, REF, l);
  const allText = (m: SlackMessage): string => JSON.stringify(m.blocks);

  it('what broke, in words, with the provider', () => {
    expect(alertHeadline(item({ condition: 'operation_failing', details: failure }))).toBe('Salesforce reads failing');
    expect(alertHeadline(item({ condition: 'operation_failing', details: { ...failure, actionType: 'write' } }))).toBe('Salesforce writes failing');
    expect(alertHeadline(item({ condition: 'operation_failing' }))).toBe('Salesforce operations failing');
    expect(alertHeadline(item({ condition: 'bad_credentials', provider: 'hubspot' }))).toBe('Hubspot credentials rejected');
    expect(alertHeadline(item({ provider: '' }))).toBe('Installation unhealthy');
    expect(alertHeadline(item({ provider: '', condition: 'bad_credentials' }))).toBe('Credentials rejected');
    expect(providerLabel('zendesk')).toBe('Zendesk');
  });

  it('for whom, how many, and since when with a Slack date token and a UTC fallback', () => {
    const m = render(digest([item()]));
    expect(allText(m)).toContain('For *Acme Corp* (`org-acme`)');
    expect(allText(m)).toContain('consumer Jane Smith (`user-42`)');
    expect(allText(m)).toContain('*3 of 120* unhealthy');
    expect(allText(m)).toContain(`since <!date^${SINCE / 1000}^{date_short_pretty} {time}|2026-12-01 14:02 UTC>`);
    expect(m.plainText).toContain('since 2026-12-01 14:02 UTC');
  });

  it('how long a recovered problem lasted, and since when', () => {
    const m = render(digest([item({ event: 'resolve', reason: 'recovered', endedAt: SINCE + 133 * MINUTE })]));
    expect(allText(m)).toContain('Salesforce recovered: unhealthy for 2 h 13 m, since <!date^');
    expect(m.text).toBe('[RESOLVED:1] Salesforce account sync (int-1): Salesforce recovered: unhealthy — Acme Corp (org-acme)');
  });

  it('"at least" when the start of the problem is not known (carried over from the release before)', () => {
    const m = render(digest([item({ event: 'resolve', reason: 'recovered', since: null, endedAt: SINCE + MINUTE + 60 * MINUTE })]));
    expect(allText(m)).toContain('Salesforce recovered: unhealthy for at least 1 h, since at least <!date^');
  });

  it('why: the failing operation, its result and its error lines, escaped', () => {
    const m = render(digest([item({ condition: 'operation_failing', details: { ...failure, errorLines: ['a <b> & c'] } })]));
    expect(allText(m)).toContain('*Why* operation `op-2f1c` (read, <!date^');
    expect(allText(m)).toContain('> `a &lt;b&gt; &amp; c`');
    expect(m.plainText).toContain('error: `a &lt;b&gt; &amp; c`');
  });

  it('what to do, with the consumer to ask for credentials, and the links; the runbook only on messages that fire', () => {
    const firing = render(digest([item({ condition: 'bad_credentials' })]));
    expect(allText(firing)).toContain('*What to do* The customer must reconnect: ask Jane Smith to reconnect their Salesforce account in your app.');
    expect(allText(firing)).toContain('<https://dashboard.withampersand.com|Ampersand dashboard>');
    expect(allText(firing)).toContain('<https://wiki.example.com/runbooks/ampersand|Runbook>');
    const recovered = render(digest([item({ event: 'resolve', reason: 'recovered', endedAt: SINCE + 5 * MINUTE })]));
    expect(allText(recovered)).not.toContain('Runbook');
    expect(allText(recovered)).not.toContain('What to do');
    expect(allText(render(digest([item()]), { ampersandDashboardUrl: 'https://dashboard.example.com' }))).not.toContain('Runbook');
  });

  it('the episode count from the second time this week', () => {
    expect(allText(render(digest([item({ episodesThisWeek: 1 })])))).not.toContain('time this week');
    expect(allText(render(digest([item({ episodesThisWeek: 2 })])))).toContain('*2nd time this week*');
  });

  it('the name of the integration only once when the API names it after its id', () => {
    expect(render(digest([item()], { integrationName: 'int-1' })).text).toMatch(/^\[FIRING:1\] integration int-1: /);
    const { integrationName: _none, ...unnamed } = digest([item()]);
    expect(render(unnamed).text).toMatch(/^\[FIRING:1\] integration int-1: /);
  });
});

describe('a digest too big for one message', () => {
  const many = Array.from({ length: 300 }, (_, i) =>
    item({
      installationId: `inst-${String(i).padStart(3, '0')}-${'x'.repeat(150)}`,
      groupName: `Customer ${i} ${'&'.repeat(190)}`,
      groupRef: 'r'.repeat(200),
      consumerName: '<'.repeat(200),
      condition: 'operation_failing',
      details: { ...failure, errorLines: ['&'.repeat(300), '<'.repeat(300), '>'.repeat(300)] },
      pausedReads: Array.from({ length: 50 }, (_, j) => `object-${j}-${'&'.repeat(80)}`),
    }),
  );

  it('shows what fits, worst first, says how many more, and keeps within every limit', () => {
    const m = renderSlackMessage(digest(many, { omitted: 25 }), REF, {
      ampersandDashboardUrl: `https://dashboard.example.com/${'a'.repeat(2000)}`,
      runbookUrl: `https://wiki.example.com/${'b'.repeat(2000)}`,
    });
    expectWithinBudget(m);
    const shown = m.blocks.filter((b) => b.type === 'section').length - 1;
    expect(shown).toBeGreaterThan(0);
    expect(JSON.stringify(m.blocks)).toContain(`+${300 - shown + 25} more event(s) not shown here`);
    expect(m.text).toMatch(/\(\+\d+ more\) \(\+25 more\)$/);
    const plain = plainTextMessage(m);
    expect(plain.blocks).toEqual([]);
    expect(plain.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.plainText);
    expect(plain.text).toMatch(/\(\+\d+ more\) \(\+25 more\) · ref `int-1\.a1b2c3d4\.42\.1`$/);
  });

  it('never has more blocks than Slack takes, however small each event', () => {
    const small = Array.from({ length: 200 }, (_, i): AlertEventItem => ({
      installationId: `i${i}`,
      groupRef: '',
      groupName: '',
      provider: 'salesforce',
      condition: 'unhealthy',
      event: 'resolve',
      reason: 'recovered',
      since: SINCE,
      firedAt: SINCE,
      endedAt: SINCE + MINUTE,
    }));
    const m = renderSlackMessage(digest(small), REF, links);
    expectWithinBudget(m);
    expect(m.blocks).toHaveLength(MESSAGE_LIMITS.blocks);
    expect(JSON.stringify(m.blocks)).toContain(`+${200 - (MESSAGE_LIMITS.blocks - 4)} more event(s) not shown here`);
  });
});

describe('slackLink', () => {
  it('keeps a link from ending early or opening another, and escapes &', () => {
    expect(slackLink('https://x.example/a|b>c<d e?x=1&y=2', 'Run <book>')).toBe('<https://x.example/a%7Cb%3Ec%3Cd%20e?x=1&amp;y=2|Run &lt;book&gt;>');
    expect(escapeMrkdwn('<!channel>')).toBe('&lt;!channel&gt;');
  });
});

describe('the provider display name and the rule that held a firing back', () => {
  const render = (items: AlertEventItem[]): string => JSON.stringify(renderSlackMessage(digest(items), REF, links));

  it('names the provider by its display name from GET /providers, beside its id', () => {
    const text = render([item({ provider: 'hubspot', providerName: 'HubSpot', condition: 'bad_credentials' })]);
    expect(alertHeadline(item({ provider: 'hubspot', providerName: 'HubSpot' }))).toBe('HubSpot installation unhealthy');
    expect(text).toContain('HubSpot credentials rejected');
    expect(text).toContain('provider HubSpot (`hubspot`)');
    expect(text).toContain('reconnect their HubSpot account');
  });

  it('falls back to the id, capitalised, when the display name is not known', () => {
    expect(providerLabel('hubspot')).toBe('Hubspot');
    expect(providerLabel('hubspot', 'HubSpot')).toBe('HubSpot');
    const text = render([item({ provider: 'hubspot' })]);
    expect(text).toContain('Hubspot installation unhealthy');
    expect(text).toContain('provider hubspot');
  });

  it('says which silence held a deferred firing back, and why, escaped', () => {
    const text = render([item({ deferred: true, heldBy: { by: 'silences[2]', reason: 'migration <@U123>' } })]);
    expect(text).toContain('(held back by silence silences[2] (migration &lt;@U123&gt;) until now)');
    const plain = render([item({ deferred: true })]);
    expect(plain).toContain('(held back by a silence or maintenance window until now)');
  });
});
