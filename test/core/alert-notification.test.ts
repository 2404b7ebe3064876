import { describe, expect, it } from 'vitest';
import { buildAlertDigests, type AlertEventItem, type DigestContext } from '../../src/core/alert-notification.js';

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
