/**
 * A baseline is one summary message, whatever the count: golden JSON of a
 * baseline of 500 bad installations (test/core/__golden__/; `npx vitest run -u`
 * rewrites it after a deliberate change), its counts, its order, its budget,
 * and baselines queued by the release before (split into parts) still render.
 */
import { describe, expect, it } from 'vitest';
import type { AlertItem } from '../../src/core/alert-policy.js';
import { summarizeBaseline } from '../../src/core/alert-policy.js';
import { diffSnapshots } from '../../src/core/diff.js';
import { splitNotifications, type InstallationNotification } from '../../src/core/notification.js';
import { decodeOutboxEntry } from '../../src/core/outbox-entry.js';
import { MESSAGE_LIMITS, blockTextLength, renderSlackMessage } from '../../src/core/slack-message.js';
import { state } from '../helpers/builders.js';

const uuid = (i: number): string => `${(0x1000_0000 + i * 7919).toString(16)}-8c1e-4d2b-9f3a-${String(i).padStart(12, '0')}`;
const base = { kind: 'baseline' as const, projectId: 'proj-1', integrationId: 'int-1', detectedAt: '2026-12-01T14:02:00.000Z' };

/** 500 bad installations: every 50th has rejected credentials too, every 5th a failed last operation, all unhealthy. */
function baselineOf500(): AlertItem[] {
  const listing = Array.from({ length: 500 }, (_, i) =>
    state(uuid(i), {
      healthStatus: 'unhealthy',
      lastOperationStatus: i % 5 === 0 ? 'failure' : 'success',
      connectionStatus: i % 50 === 0 ? 'bad_credentials' : 'working',
      groupName: `Customer ${i} Holdings International Limited`,
      groupRef: `org_${String(i).padStart(4, '0')}_eu-west-1_prod`,
    }),
  );
  return summarizeBaseline(diffSnapshots(undefined, listing, 0));
}

describe('splitNotifications of a baseline', () => {
  it('makes one summary message of 500 bad installations, within the budget', () => {
    const notifications = splitNotifications(base, baselineOf500());
    expect(notifications).toHaveLength(1);
    const [n] = notifications as [InstallationNotification];
    expect(n).toMatchObject({ part: 1, parts: 1 });
    expect(n.summary).toEqual({
      installations: 500,
      fields: { health_status: 500, last_operation_status: 100, connection_status: 10 },
      omitted: expect.any(Number),
    });
    const shown = new Set(n.items.map((it) => it.installationId)).size;
    expect(shown).toBeGreaterThan(0);
    expect(n.summary?.omitted).toBe(500 - shown);
    const message = renderSlackMessage(n, 'int-1.L.1.1');
    expect(message.blocks.length).toBeLessThanOrEqual(MESSAGE_LIMITS.blocks);
    expect(blockTextLength(message.blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
    expect(message.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.text);
    expect(message.plainText?.length).toBeLessThanOrEqual(MESSAGE_LIMITS.plainText);
  });

  it('shows the worst first: the most bad fields, then rejected credentials before health before operations', () => {
    const [n] = splitNotifications(base, baselineOf500());
    const ids = [...new Set(n?.items.map((it) => it.installationId))];
    // Three bad fields: every 50th (0, 50, …, 450); then two, credentials first (none left), unhealthy and failing: every 5th.
    expect(ids.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => uuid(i * 50)));
    expect(ids.slice(10, 12)).toEqual([uuid(5), uuid(10)]);
  });

  it('renders as one message with the counts by condition and +N more (golden)', async () => {
    const [n] = splitNotifications(base, baselineOf500());
    const message = renderSlackMessage(n as InstallationNotification, 'int-1.b3f1.1.1');
    await expect(JSON.stringify(message, null, 2)).toMatchFileSnapshot('./__golden__/baseline-summary.json');
    const blocks = JSON.stringify(message.blocks);
    expect(message.blocks[0]).toMatchObject({ text: { text: 'Monitoring started: 500 installation(s) already need attention · int-1' } });
    expect(blocks).toContain('*500 installation(s) already need attention:* credentials rejected 10 · unhealthy 500 · last operation failing 100');
    expect(blocks).toContain(`+${n?.summary?.omitted} more installation(s) need attention`);
    expect(message.text).toMatch(/^\[BASELINE\] Ampersand integration int-1: monitoring started, already needing attention: /);
  });

  it('keeps a small baseline whole, as before, with its counts', () => {
    const items = summarizeBaseline(diffSnapshots(undefined, [state('a', { healthStatus: 'unhealthy' }), state('b')], 0));
    const [n, ...rest] = splitNotifications(base, items);
    expect(rest).toEqual([]);
    expect(n?.summary).toEqual({ installations: 1, fields: { health_status: 1 }, omitted: 0 });
    expect(renderSlackMessage(n as InstallationNotification).text).toBe(
      '[BASELINE] Ampersand integration int-1: monitoring started, already needing attention: a (group "Customer a" org-a, salesforce) health_status is unhealthy',
    );
  });

  it('still splits transitions into parts', () => {
    const items = baselineOf500().map((it) => ({ ...it, change: 'changed' as const, from: 'healthy' }));
    expect(splitNotifications({ ...base, kind: 'transitions' }, items).length).toBeGreaterThan(1);
  });
});

describe('a baseline part queued by the release before', () => {
  it('still renders, as a part without counts', () => {
    const raw =
      '{"id":"int-1.b3f1.1.2","enqueuedAt":1796040000000,"notification":{"kind":"baseline","projectId":"proj-1","integrationId":"int-1","detectedAt":"2026-11-30T12:00:00.000Z","items":[{"severity":"problem","change":"baseline","installationId":"a","groupRef":"org-a","groupName":"Customer a","provider":"salesforce","field":"health_status","from":"unhealthy","to":"unhealthy"}],"part":2,"parts":13}}';
    const decoded = decodeOutboxEntry(raw);
    if (!decoded.ok) throw new Error(decoded.error);
    const message = renderSlackMessage(decoded.entry.notification, decoded.entry.id);
    expect(message.text).toBe(
      '[BASELINE] Ampersand integration int-1 (part 2/13): monitoring started, already needing attention: a (group "Customer a" org-a, salesforce) health_status is unhealthy',
    );
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });
});
