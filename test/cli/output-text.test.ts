import { describe, expect, it } from 'vitest';
import { notificationSummary, runDeadLettersReplay } from '../../src/cli/dead-letters.js';
import { groupText, installationTable, integrationTable, jsonText } from '../../src/cli/state-view.js';
import type { AlertItem } from '../../src/core/alert-policy.js';
import type { InstallationStatus, IntegrationStatus } from '../../src/core/status-report.js';
import type { ReplayResult } from '../../src/ports.js';

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

describe('the integration column of the tables', () => {
  const NOW = Date.parse('2026-12-01T12:00:00Z');
  // Ampersand's integration ids are UUIDs; status --integration and check --integration take the id.
  const id = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
  const sibling = '3fa85f64-5717-4562-b3fc-2c963f66afa7';
  const integration = (integrationId: string): IntegrationStatus => ({
    integrationId,
    projectId: 'p',
    lastSuccessMs: NOW,
    readable: true,
    total: 1,
    needingAttention: 1,
    byHealth: { unhealthy: 1 },
    byLastOperation: { success: 1 },
    byConnection: { working: 1 },
  });
  const installation = (integrationId: string): InstallationStatus => ({
    integrationId,
    projectId: 'p',
    installationId: 'inst-1',
    groupRef: 'org-1',
    groupName: 'Acme',
    provider: 'salesforce',
    healthStatus: 'unhealthy',
    lastOperationStatus: 'success',
    connectionStatus: 'working',
    problems: ['health_status'],
    since: undefined,
  });
  const firstCell = (line: string | undefined): string | undefined => line?.split(/ {2,}/)[0];

  it('keeps the whole id of a named integration, cutting its name instead', () => {
    const names = new Map([
      [id, 'Salesforce-accounts-and-contacts-nightly'],
      [sibling, 'Salesforce-accounts-and-contacts-hourly'],
    ]);
    const integrations = integrationTable([integration(id), integration(sibling)], names, NOW);
    expect(integrations.slice(1).map(firstCell)).toEqual([`Salesforce-accounts-… (${id})`, `Salesforce-accounts-… (${sibling})`]);
    const installations = installationTable([installation(id)], names, NOW);
    expect(firstCell(installations[1])).toBe(`Salesforce-accounts-… (${id})`);
  });

  it('shows a short name and its id whole, and the id alone when there is no name', () => {
    const names = new Map([[id, 'HubSpot contacts']]);
    expect(
      integrationTable([integration(id), integration(sibling)], names, NOW)
        .slice(1)
        .map(firstCell),
    ).toEqual([`HubSpot contacts (${id})`, sibling]);
  });
});

describe('runDeadLettersReplay', () => {
  describe('when a dead letter is trimmed while a long replay moves them a chunk at a time', () => {
    it('says which were replayed, and not that every one before the missing one was', async () => {
      // c was trimmed meanwhile; b, in c's chunk, did not move: the chunk moves whole or not at all.
      const result: ReplayResult = { replayed: [{ id: 'a', newId: 'a.replay-1' }], missing: ['c'], unreadable: [] };
      const out: string[] = [];
      const err: string[] = [];
      const code = await runDeadLettersReplay(
        { ids: ['a', 'b', 'c'] },
        {
          outbox: {
            deadLetters: () => Promise.resolve([]),
            replayDeadLetters: () => Promise.resolve(result),
            size: () => Promise.resolve(1),
            channelStatus: () => Promise.resolve({ up: true, reason: undefined, downSinceMs: undefined, lastSuccessMs: undefined, deadLetters: 1 }),
          },
          now: () => new Date('2026-12-01T12:00:00Z'),
          io: { out: (text) => out.push(text), err: (text) => err.push(text) },
          newToken: () => '1',
          pollIntervalMs: 60_000,
        },
      );
      expect(code).toBe(1);
      expect(out.join('')).toContain('  a → a.replay-1\n');
      expect(err).toEqual([
        'ampersand-health-monitor dead-letters replay: not a dead letter: "c"; the 1 listed above were replayed, the others not (see ampersand-health-monitor dead-letters list)\n',
      ]);
    });
  });
});
