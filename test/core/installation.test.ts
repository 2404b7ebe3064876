import { describe, expect, it } from 'vitest';
import { parseInstallationList, parseIntegrationList } from '../../src/core/installation.js';
import { buildInstallation, buildIntegration } from '../../src/demo/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { specErrors } from '../helpers/spec.js';

describe('parseInstallationList', () => {
  describe('when the body is a spec-conformant list', () => {
    it('normalises every installation and reads the group and provider', () => {
      const body = [buildInstallation(installationSpec('a')), buildInstallation(installationSpec('b', { healthStatus: 'unhealthy' }))];
      expect(specErrors('Installation', body, true)).toBe('');
      const result = parseInstallationList(body);
      expect(result).toEqual({
        ok: true,
        warnings: [],
        installations: [
          expect.objectContaining({ id: 'a', groupRef: 'org-a', groupName: 'Customer a', provider: 'salesforce', healthStatus: 'healthy' }),
          expect.objectContaining({ id: 'b', healthStatus: 'unhealthy', projectId: 'proj-1', integrationId: 'int-1' }),
        ],
      });
    });

    it('reports a missing lastOperationStatus as unknown', () => {
      const body = [buildInstallation(installationSpec('a', { lastOperationStatus: undefined }))];
      expect(specErrors('Installation', body, true)).toBe('');
      const result = parseInstallationList(body);
      expect(result.ok && result.installations[0]?.lastOperationStatus).toBe('unknown');
    });

    it('falls back to the connection group when the installation has none', () => {
      const inst = buildInstallation(installationSpec('a'));
      delete inst['group'];
      expect(specErrors('Installation', [inst], true)).toBe('');
      const result = parseInstallationList([inst]);
      expect(result.ok && result.installations[0]?.groupRef).toBe('org-a');
    });
  });

  describe('when a value is not in the spec enums', () => {
    it.each([
      ['healthStatus', { healthStatus: 'degraded' }, 'healthStatus "degraded"'],
      ['lastOperationStatus', { lastOperationStatus: 'cancelled' }, 'lastOperationStatus "cancelled"'],
      ['connection.status', { connectionStatus: 'revoked' }, 'connection.status "revoked"'],
    ])('keeps the %s value and warns once', (_field, overrides, expected) => {
      const body = [buildInstallation(installationSpec('a', overrides)), buildInstallation(installationSpec('b', overrides)), buildInstallation(installationSpec('c'))];
      const result = parseInstallationList(body);
      if (!result.ok) throw new Error(result.error);
      expect(result.installations).toHaveLength(3);
      expect(result.warnings).toEqual([`value not in the spec: ${expected} on 2 installation(s); kept as is`]);
    });
  });

  describe('when the body cannot be used', () => {
    const good = (): Record<string, unknown> => buildInstallation(installationSpec('a'));
    it.each<[string, unknown, string]>([
      ['an object instead of an array', { installations: [] }, 'expected a JSON array'],
      ['null', null, 'got null'],
      ['an item that is a string', ['x'], 'installations[0] must be an object'],
      ['a numeric id', [{ ...good(), id: 5 }], 'installations[0].id must be a string, got number'],
      ['a null healthStatus', [{ ...good(), healthStatus: null }], 'installations[0].healthStatus must be a string, got null'],
      ['a missing connection', [{ ...good(), connection: undefined }], 'installations[0].connection must be an object'],
      ['a connection without status', [{ ...good(), connection: { provider: 'x' } }], 'installations[0].connection.status must be a string'],
      ['a huge id', [{ ...good(), id: 'x'.repeat(5000) }], 'is 5000 characters long'],
    ])('rejects %s with a reason', (_name, body, reason) => {
      const result = parseInstallationList(body);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toContain(reason);
    });
  });

  it('keeps the first of two installations with the same id and warns', () => {
    const result = parseInstallationList([buildInstallation(installationSpec('a')), buildInstallation(installationSpec('a', { healthStatus: 'unhealthy' }))]);
    expect(result.ok && result.installations.map((i) => i.healthStatus)).toEqual(['healthy']);
    expect(result.ok && result.warnings[0]).toContain('appears more than once');
  });
});

describe('parseIntegrationList', () => {
  it('returns the ids of spec-conformant integrations', () => {
    const body = [buildIntegration('proj-1', 'int-1', 'salesforce'), buildIntegration('proj-1', 'int-2', 'hubspot')];
    expect(specErrors('Integration', body, true)).toBe('');
    expect(parseIntegrationList(body)).toEqual({ ok: true, ids: ['int-1', 'int-2'] });
  });

  it('rejects an item without an id', () => {
    expect(parseIntegrationList([{ name: 'x' }]).ok).toBe(false);
  });
});
