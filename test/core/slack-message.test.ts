import { describe, expect, it } from 'vitest';
import type { AlertItem } from '../../src/core/alert-policy.js';
import { splitNotifications, type InstallationNotification } from '../../src/core/notification.js';
import { MESSAGE_LIMITS, blockTextLength, escapeMrkdwn, plainTextMessage, renderSlackMessage, truncate } from '../../src/core/slack-message.js';

const alertItem = (overrides: Partial<AlertItem> = {}): AlertItem => ({
  severity: 'problem',
  change: 'changed',
  installationId: 'inst-1',
  groupRef: 'org_1',
  groupName: 'Acme Corp',
  provider: 'salesforce',
  field: 'health_status',
  from: 'healthy',
  to: 'unhealthy',
  ...overrides,
});

const notification = (items: AlertItem[], overrides: Partial<InstallationNotification> = {}): InstallationNotification => ({
  kind: 'transitions',
  projectId: 'proj-1',
  integrationId: 'int-1',
  items,
  detectedAt: '2026-11-27T10:00:00.000Z',
  part: 1,
  parts: 1,
  ...overrides,
});

const allText = (message: unknown): string => JSON.stringify(message);

describe('renderSlackMessage', () => {
  describe('for one problem', () => {
    const message = renderSlackMessage(notification([alertItem()]));

    it('names integration, installation, group name and ref, provider, old and new value in the text', () => {
      expect(message.text).toBe('[FIRING:1] Ampersand integration int-1: inst-1 (group "Acme Corp" org_1, salesforce) health_status healthy → unhealthy');
    });

    it('carries the detail in Block Kit blocks', () => {
      expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
      expect(allText(message.blocks[1])).toContain('health_status healthy → unhealthy');
      expect(allText(message.blocks[1])).toContain('Acme Corp');
    });
  });

  it.each<[string, AlertItem[], string]>([
    ['a recovery', [alertItem({ severity: 'recovery', from: 'unhealthy', to: 'healthy' })], '[RESOLVED:1]'],
    ['a mix', [alertItem(), alertItem({ installationId: 'inst-2', severity: 'recovery' })], '[FIRING:1, RESOLVED:1]'],
    ['a new installation', [alertItem({ change: 'added', from: 'none' })], 'health_status none → unhealthy (new installation)'],
    [
      'a removed installation',
      [alertItem({ severity: 'recovery', change: 'removed', from: 'unhealthy', to: 'none' })],
      'unhealthy → none (installation removed)',
    ],
  ])('renders %s', (_name, items, expected) => {
    expect(renderSlackMessage(notification(items)).text).toContain(expected);
  });

  it('renders a baseline summary', () => {
    const msg = renderSlackMessage(notification([alertItem({ change: 'baseline', from: 'unhealthy' })], { kind: 'baseline' }));
    expect(msg.text).toBe(
      '[BASELINE] Ampersand integration int-1: monitoring started, already needing attention: inst-1 (group "Acme Corp" org_1, salesforce) health_status is unhealthy',
    );
  });

  it('renders the upstream messages', () => {
    const down = renderSlackMessage({ kind: 'upstream', projectId: 'p', state: 'down', reason: 'unauthorized (401)', detectedAt: 't' });
    expect(down.text).toBe('[FIRING] the monitor cannot read Ampersand project p: unauthorized (401)');
    const up = renderSlackMessage({ kind: 'upstream', projectId: 'p', state: 'up', reason: 'poll succeeded', detectedAt: 't' });
    expect(up.text).toContain('[RESOLVED]');
  });

  describe('escaping', () => {
    it('escapes &, < and > for mrkdwn', () => {
      expect(escapeMrkdwn('a & <b> c')).toBe('a &amp; &lt;b&gt; c');
    });

    it.each([
      ['groupName', { groupName: '<!channel> & <@U123>' }],
      ['groupRef', { groupRef: '<!here>' }],
      ['installationId', { installationId: '<https://evil.example|click>' }],
      ['provider', { provider: '<!everyone>' }],
      ['a new value', { to: '<!channel>' }],
    ])('never lets a %s from outside ping or link', (_name, overrides) => {
      const msg = renderSlackMessage(notification([alertItem(overrides)], { integrationId: '<!subteam^S1>' }));
      const serialised = allText(msg);
      expect(serialised).not.toMatch(/<[!@#]/);
      expect(serialised).not.toContain('<https');
      expect(msg.text).toContain('&lt;');
    });
  });

  describe('size limits', () => {
    const huge = 'x'.repeat(10_000);
    const msg = renderSlackMessage(
      notification(
        Array.from({ length: 40 }, (_, i) => alertItem({ installationId: `inst-${i}-${huge}`, groupName: huge, groupRef: huge })),
        { integrationId: huge },
      ),
    );

    it('keeps the header, sections, text and block count inside Slack limits', () => {
      expect(msg.blocks.length).toBeLessThanOrEqual(MESSAGE_LIMITS.blocks);
      const header = msg.blocks[0] as unknown as { text: { text: string } };
      expect(header.text.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.headerText);
      for (const block of msg.blocks.filter((b) => b.type === 'section')) {
        expect((block as unknown as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.sectionText);
      }
      expect(msg.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.text);
    });

    it('says how many items the text left out', () => {
      expect(msg.text).toMatch(/\(\+\d+ more\)$/);
    });
  });
});

describe('splitNotifications', () => {
  const base = { kind: 'transitions' as const, projectId: 'p', integrationId: 'i', detectedAt: 't' };

  it('returns nothing for no items', () => {
    expect(splitNotifications(base, [])).toEqual([]);
  });

  it('keeps the items of one installation in one message and numbers the parts', () => {
    const items = ['a', 'a', 'b', 'c', 'c', 'c', 'd'].map((id) => alertItem({ installationId: id }));
    const parts = splitNotifications(base, items, 2);
    expect(parts.map((p) => p.items.map((it) => it.installationId).join(''))).toEqual(['aab', 'cccd']);
    expect(parts.map((p) => `${p.part}/${p.parts}`)).toEqual(['1/2', '2/2']);
  });

  it('keeps 201 installations inside Slack limits once split and rendered', () => {
    const items = Array.from({ length: 201 }, (_, i) => alertItem({ installationId: `inst-${i}` }));
    const parts = splitNotifications(base, items);
    expect(parts).toHaveLength(6);
    expect(parts.flatMap((p) => p.items)).toEqual(items);
    for (const p of parts) expect(renderSlackMessage(p).blocks.length).toBeLessThanOrEqual(MESSAGE_LIMITS.blocks);
    expect(renderSlackMessage(parts[5]!).text).toContain('(part 6/6)');
  });
});

/** A big incident with realistic names: UUID ids, 45-character group names, 35-character group refs. */
const bigIncident = (count: number): AlertItem[] =>
  Array.from({ length: count }, (_, i) => {
    const installationId = `${String(i).padStart(8, '0')}-8c1e-4d2b-9f3a-2b7c9e4d1a6f`;
    const groupName = `Customer number ${i} Holdings International Ltd`.padEnd(45, '.').slice(0, 45);
    const groupRef = `org_${String(i).padStart(4, '0')}_eu-west-1_production_tenant`.padEnd(35, 'x').slice(0, 35);
    const common = { installationId, groupName, groupRef, provider: 'salesforce' };
    return [
      alertItem({ ...common, field: 'health_status', from: 'healthy', to: 'unhealthy' }),
      alertItem({ ...common, field: 'last_operation_status', from: 'success', to: 'failure' }),
      alertItem({ ...common, field: 'connection_status', from: 'working', to: 'bad_credentials' }),
    ];
  }).flat();

describe('splitNotifications within the block-text budget', () => {
  const base = { kind: 'transitions' as const, projectId: 'proj-1', integrationId: 'int-1', detectedAt: '2026-11-27T10:00:00.000Z' };
  const items = bigIncident(60);
  const parts = splitNotifications(base, items);

  it('keeps every message of a big incident under the budget and every documented limit', () => {
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      const msg = renderSlackMessage(p, `int-1.abcdef12.99999.${p.part}`);
      expect(blockTextLength(msg.blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
      expect(msg.blocks.length).toBeLessThanOrEqual(MESSAGE_LIMITS.blocks);
    }
  });

  it('names every installation in some part, in order', () => {
    expect(parts.flatMap((p) => p.items)).toEqual(items);
    const named = parts.flatMap((p) => [...new Set(p.items.map((it) => it.installationId))]);
    expect(named).toHaveLength(60);
    for (const p of parts) {
      const blocks = JSON.stringify(renderSlackMessage(p).blocks);
      for (const it of p.items) expect(blocks).toContain(it.installationId);
    }
  });
});

describe('blockTextLength', () => {
  it('counts the text of headers, sections, fields and context elements', () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'abc' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'de' }, fields: [{ type: 'mrkdwn', text: 'fgh' }] },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: 'ij' },
          { type: 'mrkdwn', text: 'k' },
        ],
      },
    ];
    expect(blockTextLength(blocks)).toBe(11);
  });
});

describe('plainTextMessage', () => {
  it('sends text only, within 4,000 characters, naming the outbox ref', () => {
    const items = bigIncident(60);
    const msg = plainTextMessage(renderSlackMessage(notification(items), 'int-1.L.2.1'));
    expect(msg.blocks).toEqual([]);
    expect(msg.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.plainText);
    expect(msg.text.length).toBeGreaterThan(MESSAGE_LIMITS.text);
    expect(msg.text).toMatch(/\(\+\d+ more\) · ref `int-1\.L\.2\.1`$/);
  });

  it.each([
    ['project down', { state: 'down' as const }],
    ['project up', { state: 'up' as const }],
    ['integration down', { state: 'down' as const, integrationId: 'int-9' }],
    ['integration up', { state: 'up' as const, integrationId: 'int-9' }],
    ['integration no longer monitored', { state: 'up' as const, integrationId: 'int-9', noLongerMonitored: true as const }],
  ])('keeps the ref in the plain text of an upstream message (%s)', (_name, overrides) => {
    const rendered = renderSlackMessage({ kind: 'upstream', projectId: 'p', reason: 'unauthorized (401)', detectedAt: 't', ...overrides }, 'upstream.p.7');
    const msg = plainTextMessage(rendered);
    expect(msg.blocks).toEqual([]);
    expect(msg.text.startsWith(rendered.text)).toBe(true);
    expect(msg.text).toMatch(/ · ref `upstream\.p\.7`$/);
  });

  it('keeps the ref in the plain text of every installation message kind', () => {
    for (const kind of ['transitions', 'baseline'] as const) {
      const msg = plainTextMessage(renderSlackMessage(notification([alertItem()], { kind }), 'int-1.L.3.1'));
      expect(msg.text).toMatch(/ · ref `int-1\.L\.3\.1`$/);
    }
  });
});

describe('truncate', () => {
  const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

  it('never cuts inside a surrogate pair, wherever the cut falls', () => {
    const value = 'ab😀cd🔥ef👍🏽gh'.repeat(3);
    for (let max = 2; max < value.length; max += 1) {
      const cut = truncate(value, max);
      expect(cut).not.toMatch(loneSurrogate);
      expect(cut.length).toBeLessThanOrEqual(max);
    }
    expect(truncate('ab😀cd', 4)).toBe('ab…');
  });

  it('keeps an emoji group name whole or drops it whole in a rendered message', () => {
    const msg = renderSlackMessage(notification([alertItem({ groupName: '😀'.repeat(150) })]));
    expect(JSON.stringify(msg)).not.toMatch(/\\ud83d(?!\\ude00)/i);
    expect(JSON.stringify(msg.blocks)).not.toMatch(loneSurrogate);
  });

  it.each([
    ['short', 10, 'short'],
    ['abcdefghij', 5, 'abcd…'],
    ['ab &amp; cd', 6, 'ab …'],
    ['ab &lt;&gt;', 10, 'ab &lt;…'],
  ])('cuts %j to %i characters as %j', async (value, max, expected) => {
    const { truncate } = await import('../../src/core/slack-message.js');
    expect(truncate(value, max)).toBe(expected);
  });
});
