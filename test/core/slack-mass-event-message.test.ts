/**
 * The mass event message: golden JSON of a mass event of 500 installations and
 * of its recovery (test/core/__golden__/; `npx vitest run -u` rewrites them
 * after a deliberate change), and the properties every such message keeps.
 */
import { describe, expect, it } from 'vitest';
import { buildAlertDigests, type AlertEventItem, type AlertNotification, type DigestContext } from '../../src/core/alert-notification.js';
import { MESSAGE_LIMITS, blockTextLength } from '../../src/core/slack-blocks.js';
import { renderSlackMessage } from '../../src/core/slack-message.js';
import { renderMassEvent } from '../../src/core/slack-mass-event-message.js';

const uuid = (i: number): string => `${(0x1000_0000 + i * 7919).toString(16)}-8c1e-4d2b-9f3a-${String(i).padStart(12, '0')}`;
const poll = Date.parse('2026-12-01T14:06:00.000Z');
const firstBad = Date.parse('2026-12-01T14:02:00.000Z');

const context: DigestContext = {
  projectId: 'proj-1',
  integrationId: '5f0c7a1e-2b7d-4a51-9d1e-7c3f0e9b2a44',
  integrationName: 'Salesforce sync',
  detectedAt: new Date(poll).toISOString(),
  installations: 2000,
  firing: { unhealthy: 500, operation_failing: 120, bad_credentials: 3 },
};

const event = (i: number, kind: AlertEventItem['event'], condition: AlertEventItem['condition']): AlertEventItem => ({
  installationId: uuid(i),
  groupRef: `org_${String(i).padStart(4, '0')}_eu-west-1_prod`,
  groupName: `Customer ${i} Holdings International Limited`,
  provider: 'salesforce',
  condition,
  event: kind,
  since: firstBad + i,
  firedAt: poll,
  ...(kind === 'resolve' ? { endedAt: firstBad + 2 * 3_600_000 + 13 * 60_000, reason: 'recovered' as const } : {}),
});

/** A mass firing of 500 installations (380 unhealthy, 120 of them also failing their last operation) and one reminder of another. */
function massFiring(): AlertNotification {
  const events = [
    ...Array.from({ length: 500 }, (_, i) => event(i, 'fire', 'unhealthy')),
    ...Array.from({ length: 120 }, (_, i) => event(i, 'fire', 'operation_failing')),
    { ...event(900, 'remind', 'bad_credentials'), since: firstBad - 5 * 3_600_000 },
  ];
  const [digest, ...rest] = buildAlertDigests(context, events);
  expect(rest).toEqual([]);
  return digest as AlertNotification;
}

function massRecovery(): AlertNotification {
  const events = Array.from({ length: 500 }, (_, i) => event(i, 'resolve', 'unhealthy'));
  const [digest] = buildAlertDigests({ ...context, detectedAt: new Date(poll + 2 * 3_600_000 + 15 * 60_000).toISOString() }, events);
  return digest as AlertNotification;
}

const within = (n: AlertNotification): void => {
  const message = renderSlackMessage(n, 'int.lineage.42.1');
  expect(message.blocks.length).toBeLessThanOrEqual(MESSAGE_LIMITS.blocks);
  expect(blockTextLength(message.blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
  expect(message.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.text);
  expect(message.plainText?.length).toBeLessThanOrEqual(MESSAGE_LIMITS.plainText);
  expect(message.plainText?.endsWith(' · ref `int.lineage.42.1`')).toBe(true);
};

describe('renderSlackMessage of a mass event', () => {
  it('renders 500 installations failing at once as one message (golden)', async () => {
    const n = massFiring();
    await expect(JSON.stringify(renderSlackMessage(n, 'int.lineage.42.1'), null, 2)).toMatchFileSnapshot('./__golden__/mass-event-firing.json');
    within(n);
  });

  it('renders their recovery as one message, with how long it lasted (golden)', async () => {
    const n = massRecovery();
    await expect(JSON.stringify(renderSlackMessage(n, 'int.lineage.43.1'), null, 2)).toMatchFileSnapshot('./__golden__/mass-event-recovery.json');
    const message = renderSlackMessage(n, 'int.lineage.43.1');
    expect(JSON.stringify(message.blocks)).toContain('the problem lasted 2 h 13 m, since <!date^');
  });

  it('says what broke, how many, since when, and that the provider or Ampersand may be down', () => {
    const message = renderSlackMessage(massFiring(), 'r');
    const blocks = JSON.stringify(message.blocks);
    expect(message.text).toMatch(
      /^\[MASS FIRING:500, REMINDER:1\] Ampersand integration Salesforce sync \(5f0c7a1e-[^)]+\): 500 of 2,000 installations started failing/,
    );
    expect(blocks).toContain('*500 of 2,000 installations* of *Salesforce sync*');
    expect(blocks).toContain('*By condition:* unhealthy 500 · last operation failing 120');
    expect(blocks).toContain('*By provider:* salesforce 500');
    expect(blocks).toContain(`since <!date^${Math.floor(firstBad / 1000)}^{date_short_pretty} {time}|2026-12-01 14:02 UTC>`);
    expect(blocks).toContain('the provider (salesforce) or at Ampersand itself');
    expect(blocks).toContain('and 495 more');
  });

  it('names only its sample, not every installation', () => {
    const blocks = JSON.stringify(renderSlackMessage(massFiring(), 'r').blocks);
    const named = Array.from({ length: 500 }, (_, i) => uuid(i)).filter((id) => blocks.includes(id));
    expect(named).toHaveLength(5);
  });

  it('stays within the budget with long, escaped values and a full digest of other events', () => {
    const long = '&<>'.repeat(100);
    const others = Array.from({ length: 40 }, (_, i) => ({ ...event(1000 + i, 'remind', 'unhealthy'), groupName: long, groupRef: long, provider: long }));
    const flips = Array.from({ length: 600 }, (_, i) => ({ ...event(i, 'fire', 'unhealthy'), groupName: long, groupRef: long, provider: `${long}${i % 20}` }));
    const [n] = buildAlertDigests({ ...context, integrationName: long }, [...flips, ...others]);
    expect(n?.mass).toHaveLength(1);
    expect(n?.omitted).toBeGreaterThan(0);
    within(n as AlertNotification);
  });

  it('shows a hostile integration or group name as text', () => {
    const events = Array.from({ length: 10 }, (_, i) => ({ ...event(i, 'fire', 'unhealthy'), groupName: '<!channel>' }));
    const [n] = buildAlertDigests({ ...context, integrationName: '<!here> & co', installations: 10 }, events);
    const message = renderSlackMessage(n as AlertNotification, 'r');
    const all = JSON.stringify(message);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<!here>');
    expect(all).toContain('&lt;!here&gt; &amp; co');
  });

  // renderSlackMessage sends such a digest to the full renderer (slack-message.ts); this is the compact
  // form the mass event message gives the other events of its poll.
  it('renders a digest without a mass event as one line per event, within the budget', () => {
    const long = '&<>'.repeat(100);
    const events = Array.from({ length: 60 }, (_, i) => ({
      ...event(i, i % 2 === 0 ? 'remind' : 'resolve', 'operation_failing'),
      groupName: long,
      groupRef: long,
    }));
    const [n] = buildAlertDigests({ ...context, installations: 1_000_000 }, events);
    expect(n?.mass).toBeUndefined();
    within(n as AlertNotification);
    const message = renderMassEvent(n as AlertNotification, 'int.lineage.42.1');
    expect(message.text.startsWith('[REMINDER:')).toBe(true);
    expect(JSON.stringify(message.blocks)).toContain(`+${n?.omitted} more event(s) of this poll not shown`);
  });
});
