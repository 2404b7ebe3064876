import { describe, expect, it } from 'vitest';
import { notificationSummary } from '../../src/cli/dead-letters.js';
import { groupText, jsonText } from '../../src/cli/state-view.js';
import type { AlertItem } from '../../src/core/alert-policy.js';

const item = (installationId: string, overrides: Partial<AlertItem> = {}): AlertItem => ({
  severity: 'problem',
  change: 'changed',
  installationId,
  groupRef: `org-${installationId}`,
  groupName: `Customer ${installationId}`,
  provider: 'salesforce',
  field: 'health_status',
  from: 'healthy',
  to: 'unhealthy',
  ...overrides,
});

describe('notificationSummary', () => {
  it('counts the problems and recoveries of a transitions message and names each change', () => {
    const summary = notificationSummary({
      kind: 'transitions',
      projectId: 'p',
      integrationId: 'int-1',
      detectedAt: 't',
      part: 2,
      parts: 3,
      items: [item('a'), item('b', { severity: 'recovery', from: 'unhealthy', to: 'healthy' })],
    });
    expect(summary).toBe('int-1 (part 2/3): 1 problem(s), 1 recovery(ies): a health_status healthy → unhealthy; b health_status unhealthy → healthy');
  });

  it('says what a baseline found, and what an upstream message is about', () => {
    const baseline = { kind: 'baseline', projectId: 'p', integrationId: 'int-1', detectedAt: 't', part: 1, parts: 1 } as const;
    expect(
      notificationSummary({
        ...baseline,
        items: [item('a', { change: 'baseline', to: 'unhealthy' }), item('a', { field: 'connection_status', to: 'bad_credentials' })],
      }),
    ).toBe('int-1: first look, 1 installation(s) need attention: a health_status unhealthy; a connection_status bad_credentials');
    const upstream = { kind: 'upstream', projectId: 'p', detectedAt: 't' } as const;
    expect(notificationSummary({ ...upstream, state: 'down', reason: 'HTTP 401' })).toBe('Ampersand API cannot be read: HTTP 401');
    expect(notificationSummary({ ...upstream, state: 'up', reason: '', integrationId: 'int-2', noLongerMonitored: true })).toBe(
      'Ampersand API, integration int-2: no longer monitored',
    );
  });
});

describe('notificationSummary of the alert digests and the dropped notice', () => {
  it('names each event, the mass events and what was left out, and the dropped count', () => {
    const event = { groupRef: 'g', groupName: 'G', provider: 'hubspot', since: 0, firedAt: 0 } as const;
    const digest = {
      kind: 'alerts',
      projectId: 'p',
      integrationId: 'int-7',
      detectedAt: '2026-12-01T00:00:00.000Z',
      installations: 600,
      firing: { unhealthy: 501, operation_failing: 1, bad_credentials: 0 },
      items: [{ ...event, installationId: 'x', condition: 'operation_failing', event: 'fire' }],
      mass: [{ event: 'fire', installations: 500, conditions: { unhealthy: 500 }, providers: [], otherProviders: 0, sample: [], since: null }],
      omitted: 3,
    } as const;
    expect(notificationSummary(digest)).toBe('int-7: mass event: 500 installation(s) failing; x operation_failing fire; +3 more');
    expect(notificationSummary({ kind: 'dropped', count: 42, sinceMs: 0, cap: 1000, detectedAt: '2026-12-01T00:00:00.000Z' })).toBe(
      'outbox: 42 message(s) dropped past its cap of 1000',
    );
  });
});

describe('groupText', () => {
  it('shows the name and the ref, whichever is there', () => {
    expect([groupText('Acme', 'org-1'), groupText('', 'org-1'), groupText('Acme', ''), groupText('', '')]).toEqual(['Acme (org-1)', 'org-1', 'Acme', '-']);
  });
});

describe('jsonText', () => {
  it('escapes what a terminal would act on, and keeps the data', () => {
    const value = { name: 'a\u001b[31m\u009b\u202e\u2028b\u{e0041}', plain: 'Société 顧客 🚀' };
    const text = jsonText(value);
    // eslint-disable-next-line no-control-regex -- control characters are what must not be there
    expect(text).not.toMatch(/[\u001b\u007f-\u009f\u2028\u202e\u{e0041}]/u);
    expect(text).toContain('\\u202e');
    expect(text).toContain('\\udb40\\udc41');
    expect(JSON.parse(text)).toEqual(value);
    expect(text.endsWith('}\n')).toBe(true);
  });
});
