import { describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/core/diff.js';
import {
  escapeLabelValue,
  exportsInstallation,
  installationLines,
  integrationLabels,
  isQuietInstallation,
  operationValues,
  statusLabel,
} from '../../src/core/installation-series.js';
import { UNREADABLE_VALUE } from '../../src/core/installation.js';
import type { InstallationRecord } from '../../src/core/snapshot.js';
import { state } from '../helpers/builders.js';

const record = (
  overrides: Partial<Pick<InstallationRecord, 'healthStatus' | 'lastOperationStatus' | 'connectionStatus' | 'groupName'>> = {},
): InstallationRecord => {
  const r = diffSnapshots(undefined, [state('a', overrides)]).next.get('a');
  if (r === undefined) throw new Error('no record');
  return r;
};

describe('statusLabel', () => {
  it('keeps a value of the spec, and "unknown" (no operation reported) among the operation values', () => {
    expect(statusLabel(['healthy', 'unhealthy'], 'unhealthy')).toBe('unhealthy');
    expect(statusLabel(operationValues, 'unknown')).toBe('unknown');
  });

  it('maps every value outside the spec, the unreadable one included, to "other"', () => {
    for (const value of ['degraded', 'HEALTHY', '', UNREADABLE_VALUE, 'x'.repeat(64)]) expect(statusLabel(['healthy', 'unhealthy'], value)).toBe('other');
  });
});

describe('exportsInstallation', () => {
  const quiet = record();
  const cases: [string, InstallationRecord][] = [
    ['unhealthy', record({ healthStatus: 'unhealthy' })],
    ['with a failed last operation', record({ lastOperationStatus: 'failure' })],
    ['with no operation reported yet', record({ lastOperationStatus: 'unknown' })],
    ['with bad credentials', record({ connectionStatus: 'bad_credentials' })],
    ['with a connection only created', record({ connectionStatus: 'created' })],
    ['with a health value outside the spec', record({ healthStatus: 'degraded' })],
  ];

  describe('in mode all', () => {
    it('exports every installation', () => {
      expect(exportsInstallation('all', quiet)).toBe(true);
      for (const [, r] of cases) expect(exportsInstallation('all', r)).toBe(true);
    });
  });

  describe('in mode unhealthy', () => {
    it('leaves out a healthy installation whose connection works and whose last operation succeeded or is running', () => {
      expect(exportsInstallation('unhealthy', quiet)).toBe(false);
      expect(exportsInstallation('unhealthy', record({ lastOperationStatus: 'in_progress' }))).toBe(false);
    });

    it.each(cases)('exports an installation %s', (_name, r) => {
      expect(isQuietInstallation(r)).toBe(false);
      expect(exportsInstallation('unhealthy', r)).toBe(true);
    });
  });

  describe('in mode none', () => {
    it('exports no installation', () => {
      expect(exportsInstallation('none', quiet)).toBe(false);
      for (const [, r] of cases) expect(exportsInstallation('none', r)).toBe(false);
    });
  });
});

describe('installationLines', () => {
  it('writes each one-hot family over the known values, and the info series with the group name', () => {
    const [health, operation, connection, info] = installationLines(integrationLabels('p', 'i'), 'a', record({ groupName: 'Acme "EU"\\\nx' }));
    const head = 'project_id="p",integration_id="i",installation_id="a",group_ref="org-a",provider="salesforce"';
    expect(health).toBe(
      `ampersand_installation_health_status{${head},status="healthy"} 1\nampersand_installation_health_status{${head},status="unhealthy"} 0\n`,
    );
    expect(operation.split('\n').filter(Boolean)).toHaveLength(4);
    expect(connection).toContain(`ampersand_installation_connection_status{${head},status="working"} 1\n`);
    expect(info).toBe(`ampersand_installation_info{${head},group_name="Acme \\"EU\\"\\\\\\nx"} 1\n`);
  });

  it('adds one status="other" series, at 1, for a value outside the spec', () => {
    const [health] = installationLines(integrationLabels('p', 'i'), 'a', record({ healthStatus: 'degraded' }));
    expect(
      health
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^.*status="([^"]*)"\} /, '$1 ')),
    ).toEqual(['healthy 0', 'unhealthy 0', 'other 1']);
  });
});

describe('escapeLabelValue', () => {
  it('escapes backslash, double quote and line feed, and nothing else', () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
    expect(escapeLabelValue('plain')).toBe('plain');
  });
});
