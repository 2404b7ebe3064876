import { describe, expect, it } from 'vitest';
import {
  alertDigestLimits,
  alertItemFrameText,
  massEventShown,
  alertItemCost,
  buildAlertDigests,
  mergeAlertNotifications,
  type AlertEventItem,
  type DigestContext,
} from '../../src/core/alert-notification.js';
import { MESSAGE_LIMITS } from '../../src/core/slack-blocks.js';

const context: DigestContext = {
  projectId: 'p',
  integrationId: 'int-1',
  integrationName: 'Salesforce sync',
  detectedAt: '2026-12-01T00:00:00.000Z',
  installations: 120,
  firing: { unhealthy: 1, operation_failing: 1, bad_credentials: 1 },
};
const item = (installationId: string, event: AlertEventItem['event'], condition: AlertEventItem['condition']): AlertEventItem => ({
  installationId,
  groupRef: `g-${installationId}`,
  groupName: `G ${installationId}`,
  provider: 'salesforce',
  condition,
  event,
  since: 0,
  firedAt: 0,
});

describe('buildAlertDigests', () => {
  it('sends nothing for no event', () => {
    expect(buildAlertDigests(context, [])).toEqual([]);
  });

  it('puts every event of a poll in one digest: firings, then reminders, then recoveries; credentials before health before operations', () => {
    const [digest, ...rest] = buildAlertDigests(context, [
      item('a', 'resolve', 'unhealthy'),
      item('b', 'fire', 'operation_failing'),
      item('c', 'remind', 'unhealthy'),
      item('d', 'fire', 'bad_credentials'),
      item('a', 'fire', 'operation_failing'),
    ]);
    expect(rest).toEqual([]);
    expect(digest).toMatchObject({ kind: 'alerts', integrationName: 'Salesforce sync', installations: 120, omitted: 0 });
    expect(digest?.items.map((i) => `${i.event}:${i.condition}:${i.installationId}`)).toEqual([
      'fire:bad_credentials:d',
      'fire:operation_failing:a',
      'fire:operation_failing:b',
      'remind:unhealthy:c',
      'resolve:unhealthy:a',
    ]);
  });
});

const many = (n: number, event: AlertEventItem['event'], condition: AlertEventItem['condition'] = 'unhealthy', provider = 'salesforce'): AlertEventItem[] =>
  Array.from({ length: n }, (_, i) => ({ ...item(`${event}-${String(i).padStart(4, '0')}`, event, condition), provider, since: 1000 + i }));

const sized = (n: number): DigestContext => ({ ...context, installations: n });

describe('buildAlertDigests within the size budget', () => {
  it('shows the worst events that fit, and counts the rest as omitted', () => {
    const events = [...many(25, 'remind'), ...many(5, 'fire', 'bad_credentials')];
    const [digest, ...rest] = buildAlertDigests(sized(10_000), events);
    expect(rest).toEqual([]);
    const shown = digest?.items.length ?? 0;
    // Items of plain ids cost about 500 characters each: 14 fit the 7,000 left for items.
    expect(shown).toBe(14);
    expect(digest?.omitted).toBe(30 - shown);
    expect(digest?.items.slice(0, 5).every((i) => i.event === 'fire')).toBe(true);
    expect(digest?.mass).toBeUndefined();
  });

  it('shows at most 15 events, however small: few enough blocks for Slack, whatever the layout of an item', () => {
    const events = many(30, 'fire').map((it) => ({ ...it, installationId: 'i', groupRef: '', groupName: '', provider: '' }));
    const [digest] = buildAlertDigests(sized(10_000), events);
    expect(digest?.items.length).toBe(Math.floor((alertDigestLimits.blockText - alertDigestLimits.frameText) / alertItemFrameText));
    expect(digest?.items.length).toBe(15);
  });

  it('keeps the items within the block-text budget, however long their values', () => {
    const long = 'x'.repeat(5000);
    const details = { operationId: long, actionType: 'read', result: long, time: '2026-12-01T00:00:00Z', errorLines: [long, long, long], omittedErrorLines: 9 };
    const events = many(12, 'fire', 'operation_failing').map((it) => ({ ...it, groupName: '&'.repeat(300), groupRef: long, details }));
    const [digest] = buildAlertDigests(sized(10_000), events);
    const used = (digest?.items ?? []).reduce((n, it) => n + alertItemCost(it), 0);
    expect(used).toBeLessThanOrEqual(alertDigestLimits.blockText - alertDigestLimits.frameText);
    expect((digest?.items.length ?? 0) + (digest?.omitted ?? 0)).toBe(12);
    expect(digest?.omitted).toBeGreaterThan(0);
  });

  it('always shows the worst event, even one that alone is over the budget', () => {
    const huge = { ...item('a', 'fire', 'unhealthy'), pausedReads: Array.from({ length: 5000 }, (_, i) => `object${i}`) };
    const [digest] = buildAlertDigests(sized(1), [huge]);
    expect(digest?.items).toEqual([huge]);
    expect(alertItemCost(huge)).toBe(MESSAGE_LIMITS.sectionText);
  });
});

describe('buildAlertDigests when many installations flip at once', () => {
  it('makes one mass event of 500 firings: counts by condition and provider, a sample, and no line per installation', () => {
    const events = [
      ...many(300, 'fire', 'unhealthy'),
      ...many(200, 'fire', 'operation_failing', 'hubspot').map((it, i) => ({ ...it, installationId: `fire-${String(i).padStart(4, '0')}` })),
      item('z', 'remind', 'bad_credentials'),
    ];
    const digests = buildAlertDigests(sized(1000), events);
    expect(digests).toHaveLength(1);
    const [digest] = digests;
    expect(digest?.mass).toHaveLength(1);
    const [mass] = digest?.mass ?? [];
    expect(mass).toMatchObject({
      event: 'fire',
      installations: 300,
      conditions: { unhealthy: 300, operation_failing: 200 },
      providers: [
        { provider: 'salesforce', installations: 300 },
        { provider: 'hubspot', installations: 200 },
      ],
      otherProviders: 0,
      since: 1000,
    });
    expect(mass?.sample.map((it) => it.installationId)).toEqual(['fire-0000', 'fire-0001', 'fire-0002', 'fire-0003', 'fire-0004']);
    expect(digest?.items.map((it) => it.installationId)).toEqual(['z']);
    expect(digest?.omitted).toBe(0);
  });

  it.each([
    ['fewer than minCount', 9, 10, false],
    ['minCount, but under the fraction', 10, 41, false],
    ['minCount and the fraction', 10, 40, true],
  ])('is a mass event only with both thresholds: %s', (_name, flipped, installations, mass) => {
    const [digest] = buildAlertDigests(sized(installations), many(flipped, 'fire'));
    expect(digest?.mass !== undefined).toBe(mass);
    expect((digest?.items.length ?? 0) + (digest?.omitted ?? 0)).toBe(mass ? 0 : flipped);
  });

  it('takes its thresholds from the context', () => {
    const [digest] = buildAlertDigests({ ...sized(4), massEvent: { minCount: 3, fraction: 0.5 } }, many(3, 'fire'));
    expect(digest?.mass?.[0]?.installations).toBe(3);
    expect(buildAlertDigests({ ...sized(4), massEvent: { minCount: 4, fraction: 0.5 } }, many(3, 'fire'))[0]?.mass).toBeUndefined();
  });

  it('counts installations, not events: one installation failing three ways is one flip', () => {
    const three = (['unhealthy', 'operation_failing', 'bad_credentials'] as const).flatMap((c) => many(9, 'fire', c));
    expect(buildAlertDigests(sized(20), three)[0]?.mass).toBeUndefined();
  });

  it('makes one mass recovery, with when the problems began and ended', () => {
    const events = many(40, 'resolve').map((it, i) => ({ ...it, endedAt: 50_000 + i }));
    const [digest] = buildAlertDigests(sized(100), events);
    expect(digest?.mass).toEqual([expect.objectContaining({ event: 'resolve', installations: 40, since: 1000, endedAt: 50_039 })]);
    expect(digest?.items).toEqual([]);
  });

  it('lists at most massEventShown.providers providers, and counts the others', () => {
    const events = Array.from({ length: 24 }, (_, i) => ({ ...item(`i${i}`, 'fire', 'unhealthy'), provider: `p${String(i % 12).padStart(2, '0')}` }));
    const [mass] = buildAlertDigests(sized(24), events)[0]?.mass ?? [];
    expect(mass?.providers).toHaveLength(massEventShown.providers);
    expect(mass?.otherProviders).toBe(4);
  });
});

describe('mergeAlertNotifications', () => {
  const digest = (events: AlertEventItem[], overrides: Partial<DigestContext> = {}) => {
    const [n] = buildAlertDigests({ ...context, ...overrides }, events);
    if (n === undefined) throw new Error('no digest');
    return n;
  };

  it('reads as one message for both polls: the newer counts, the events of both, worst first', () => {
    const older = digest([item('a', 'fire', 'unhealthy')], { detectedAt: '2026-12-01T00:00:00.000Z' });
    const newer = digest([item('b', 'fire', 'bad_credentials'), item('c', 'resolve', 'unhealthy')], {
      detectedAt: '2026-12-01T00:01:00.000Z',
      installations: 121,
      firing: { unhealthy: 1, operation_failing: 0, bad_credentials: 1 },
    });
    const merged = mergeAlertNotifications(older, newer);
    expect(merged).toMatchObject({
      kind: 'alerts',
      detectedAt: '2026-12-01T00:01:00.000Z',
      installations: 121,
      firing: { unhealthy: 1, operation_failing: 0, bad_credentials: 1 },
      omitted: 0,
      coalesced: { digests: 2, firstDetectedAt: '2026-12-01T00:00:00.000Z' },
    });
    expect(merged?.items.map((i) => `${i.event}:${i.condition}:${i.installationId}`)).toEqual([
      'fire:bad_credentials:b',
      'fire:unhealthy:a',
      'resolve:unhealthy:c',
    ]);
  });

  it('keeps a firing and its recovery, replaces an older event of the same kind, and leaves out a reminder of a firing it shows', () => {
    const older = digest([item('a', 'fire', 'unhealthy'), item('b', 'remind', 'unhealthy'), { ...item('d', 'remind', 'unhealthy'), since: 1 }]);
    const newer = digest([
      item('a', 'resolve', 'unhealthy'),
      item('a', 'remind', 'unhealthy'),
      item('b', 'fire', 'unhealthy'),
      { ...item('d', 'remind', 'unhealthy'), since: 2 },
    ]);
    const merged = mergeAlertNotifications(older, newer);
    expect(merged?.items.map((i) => `${i.event}:${i.installationId}:${i.since}`)).toEqual(['fire:a:0', 'fire:b:0', 'remind:d:2', 'resolve:a:0']);
  });

  it('counts the polls of a digest merged before, and what either omitted', () => {
    const first = digest(many(30, 'fire'), { installations: 10_000 });
    const twice = mergeAlertNotifications(first, digest([item('z', 'remind', 'unhealthy')]));
    const thrice = twice && mergeAlertNotifications(twice, digest([item('y', 'remind', 'unhealthy')]));
    expect(thrice?.coalesced).toEqual({ digests: 3, firstDetectedAt: context.detectedAt });
    expect((thrice?.items.length ?? 0) + (thrice?.omitted ?? 0)).toBe(32);
  });

  it('adds up the mass events of each kind, and keeps the widest span', () => {
    const older = digest(many(12, 'fire'), { installations: 40 });
    const newer = digest(
      many(15, 'fire', 'operation_failing', 'hubspot').map((it) => ({ ...it, installationId: `n-${it.installationId}`, since: 5 })),
      { installations: 40 },
    );
    const merged = mergeAlertNotifications(older, newer);
    expect(merged?.mass).toEqual([
      expect.objectContaining({
        event: 'fire',
        installations: 27,
        conditions: { unhealthy: 12, operation_failing: 15 },
        providers: [
          { provider: 'hubspot', installations: 15 },
          { provider: 'salesforce', installations: 12 },
        ],
        since: 5,
      }),
    ]);
    expect(merged?.mass?.[0]?.sample).toHaveLength(massEventShown.sample);
    const recovered = mergeAlertNotifications(older, digest(many(12, 'resolve'), { installations: 40 }));
    expect(recovered?.mass?.map((m) => m.event)).toEqual(['fire', 'resolve']);
  });

  it('never merges digests of two integrations or projects', () => {
    const a = digest([item('a', 'fire', 'unhealthy')]);
    expect(mergeAlertNotifications(a, digest([item('b', 'fire', 'unhealthy')], { integrationId: 'int-2' }))).toBeUndefined();
    expect(mergeAlertNotifications(a, digest([item('b', 'fire', 'unhealthy')], { projectId: 'p2' }))).toBeUndefined();
  });
});
