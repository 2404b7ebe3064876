import { describe, expect, it } from 'vitest';
import { decodeOutboxEntry, encodeOutboxEntry, replayedEntryId, type OutboxEntry } from '../../src/core/outbox-entry.js';

/** Entries exactly as the release before the format version wrote them (produced with its code). */
const V1 = {
  baseline:
    '{"id":"int-1.b3f1.1.1","enqueuedAt":1796040000000,"notification":{"kind":"baseline","projectId":"proj-1","integrationId":"int-1","detectedAt":"2026-11-30T12:00:00.000Z","items":[{"severity":"problem","change":"baseline","installationId":"a","groupRef":"org-a","groupName":"Customer a","provider":"salesforce","field":"health_status","from":"unhealthy","to":"unhealthy"}],"part":1,"parts":1}}',
  transitions:
    '{"id":"int-1.b3f1.2.1","enqueuedAt":1796040000000,"notification":{"kind":"transitions","projectId":"proj-1","integrationId":"int-1","detectedAt":"2026-11-30T12:00:00.000Z","items":[{"severity":"recovery","change":"changed","installationId":"a","groupRef":"org-a","groupName":"Customer a","provider":"salesforce","field":"health_status","from":"unhealthy","to":"healthy"}],"part":1,"parts":1}}',
  upstream:
    '{"id":"upstream.7f0c2b1e","enqueuedAt":1796040000000,"notification":{"kind":"upstream","projectId":"proj-1","state":"down","reason":"upstream degraded: 1 consecutive poll cycles failed, last error: invalid_body: installations of int-1: boom","detectedAt":"2026-11-30T12:00:00.000Z"}}',
};

const upstreamEntry: OutboxEntry = {
  id: 'upstream.1',
  destination: 'slack',
  enqueuedAt: 5,
  notification: { kind: 'upstream', projectId: 'p', state: 'up', reason: 'r', detectedAt: 't', integrationId: 'int-1', noLongerMonitored: true },
};

const transitionsEntry: OutboxEntry = {
  id: 'int-1.L.2.1',
  destination: 'pager',
  enqueuedAt: 7,
  notification: {
    kind: 'transitions',
    projectId: 'p',
    integrationId: 'int-1',
    detectedAt: 't',
    items: [
      {
        severity: 'problem',
        change: 'changed',
        installationId: 'a',
        groupRef: 'g',
        groupName: 'G',
        provider: 'x',
        field: 'health_status',
        from: 'healthy',
        to: 'unhealthy',
      },
    ],
    part: 1,
    parts: 1,
  },
};

const alertsEntry: OutboxEntry = {
  id: 'int-1.L.3.1',
  destination: 'slack',
  enqueuedAt: 9,
  notification: {
    kind: 'alerts',
    projectId: 'p',
    integrationId: 'int-1',
    detectedAt: 't',
    installations: 40,
    firing: { unhealthy: 12, operation_failing: 0, bad_credentials: 0 },
    items: [],
    omitted: 0,
    mass: [
      {
        event: 'fire',
        installations: 12,
        conditions: { unhealthy: 12 },
        providers: [{ provider: 'salesforce', installations: 12 }],
        otherProviders: 0,
        sample: [],
        since: 3,
      },
    ],
  },
};

const detailedAlertsEntry: OutboxEntry = {
  id: 'int-1.b3f1.7.1',
  destination: 'slack',
  enqueuedAt: 7,
  notification: {
    kind: 'alerts',
    projectId: 'proj-1',
    integrationId: 'int-1',
    integrationName: 'Salesforce sync',
    detectedAt: '2026-12-01T14:03:00.000Z',
    installations: 120,
    firing: { unhealthy: 0, operation_failing: 1, bad_credentials: 0 },
    items: [
      {
        installationId: 'a',
        groupRef: 'org-a',
        groupName: 'Customer a',
        provider: 'salesforce',
        condition: 'operation_failing',
        event: 'fire',
        since: null,
        firedAt: 1,
        details: { operationId: 'op-1', actionType: 'read', result: undefined, errorLines: ['boom'], omittedErrorLines: 0, time: undefined },
        episodesThisWeek: 2,
      },
    ],
    omitted: 0,
  },
};

describe('encodeOutboxEntry', () => {
  it('writes the format version and the destination first', () => {
    expect(encodeOutboxEntry(upstreamEntry).startsWith('{"v":2,"destination":"slack","id":"upstream.1",')).toBe(true);
  });

  it.each([
    ['an upstream entry', upstreamEntry],
    ['a transitions entry for another destination', transitionsEntry],
    ['an alert digest with a mass event', alertsEntry],
    ['an alerts digest with failure details', detailedAlertsEntry],
  ])('round-trips %s', (_name, entry) => {
    expect(decodeOutboxEntry(encodeOutboxEntry(entry))).toEqual({ ok: true, entry });
  });
});

describe('decodeOutboxEntry', () => {
  describe('when the entry was written by the previous release (v1)', () => {
    it.each(Object.entries(V1))('upgrades the %s entry to v2 for Slack, keeping every field', (_kind, raw) => {
      const decoded = decodeOutboxEntry(raw);
      expect(decoded).toEqual({ ok: true, entry: { ...(JSON.parse(raw) as object), destination: 'slack' } });
    });

    it('ignores a destination a v1 entry cannot have had', () => {
      const raw = JSON.stringify({ ...(JSON.parse(V1.upstream) as object), destination: 'pager' });
      expect(decodeOutboxEntry(raw)).toMatchObject({ ok: true, entry: { destination: 'slack' } });
    });
  });

  describe('when the entry cannot be read', () => {
    const valid = JSON.parse(encodeOutboxEntry(upstreamEntry)) as Record<string, unknown>;
    const without = (field: string): string => JSON.stringify(Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field)));
    it.each<[string, string, string]>([
      ['not JSON', '{"id":', 'not JSON'],
      ['JSON null', 'null', 'not a JSON object'],
      ['an array', '[]', 'not a JSON object'],
      ['a newer format version', JSON.stringify({ ...valid, v: 3 }), 'unknown format version 3'],
      ['a format version that is not a number', JSON.stringify({ ...valid, v: '2' }), 'unknown format version "2"'],
      ['no id', without('id'), 'no string "id"'],
      ['a numeric id', JSON.stringify({ ...valid, id: 1 }), 'no string "id"'],
      ['a v2 entry without destination', without('destination'), 'no "destination"'],
      ['an empty destination', JSON.stringify({ ...valid, destination: '' }), 'no "destination"'],
      ['no enqueuedAt', without('enqueuedAt'), 'no numeric "enqueuedAt"'],
      ['a string enqueuedAt', JSON.stringify({ ...valid, enqueuedAt: '5' }), 'no numeric "enqueuedAt"'],
      ['no notification', without('notification'), 'no notification of a known kind'],
      ['a notification of an unknown kind', JSON.stringify({ ...valid, notification: { kind: 'page' } }), 'no notification of a known kind'],
      ['a v1 entry without notification', '{"id":"x","enqueuedAt":1}', 'no notification of a known kind'],
    ])('reports %s', (_name, raw, error) => {
      expect(decodeOutboxEntry(raw)).toEqual({ ok: false, error });
    });
  });
});

describe('replayedEntryId', () => {
  it('adds a replay suffix, replacing an earlier one, so the id is new and keeps its origin', () => {
    expect(replayedEntryId('int-1.ab12.3.1', '9f8e7d6c')).toBe('int-1.ab12.3.1.replay-9f8e7d6c');
    expect(replayedEntryId('int-1.ab12.3.1.replay-9f8e7d6c', '0a1b2c3d')).toBe('int-1.ab12.3.1.replay-0a1b2c3d');
  });

  it('refuses a token that could make an id BullMQ or the suffix rule cannot take', () => {
    expect(() => replayedEntryId('x', 'a:b')).toThrow(RangeError);
    expect(() => replayedEntryId('x', '')).toThrow(RangeError);
  });
});
