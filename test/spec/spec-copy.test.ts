import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONNECTION_STATUSES, HEALTH_STATUSES, OPERATION_STATUSES } from '../../src/core/installation.js';
import { SPEC_PATH, spec } from '../helpers/spec.js';

const SHARED = fileURLToPath(new URL('../../../shared/ampersand-openapi/api/generated/api.bundled.json', import.meta.url));

const enumOf = (schema: string, prop: string): unknown => {
  const s = spec.components.schemas[schema] as { properties: Record<string, { enum?: unknown }> };
  return s.properties[prop]?.enum;
};

describe('the vendored OpenAPI spec', () => {
  it.skipIf(!existsSync(SHARED))('is identical to ../shared/ampersand-openapi', () => {
    expect(readFileSync(SPEC_PATH, 'utf8')).toBe(readFileSync(SHARED, 'utf8'));
  });

  it('has the enums the parser treats as known', () => {
    expect(enumOf('Installation', 'healthStatus')).toEqual([...HEALTH_STATUSES]);
    expect(enumOf('Installation', 'lastOperationStatus')).toEqual([...OPERATION_STATUSES]);
    expect(enumOf('Connection', 'status')).toEqual([...CONNECTION_STATUSES]);
  });

  it('lists installations at the path the client calls, with groupRef as a query parameter', () => {
    const op = spec.paths['/projects/{projectIdOrName}/integrations/{integrationId}/installations']?.['get'] as {
      parameters: { name: string; in: string }[];
    };
    expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:projectIdOrName', 'path:integrationId', 'query:groupRef']);
  });
});

describe('the spec validator used by the fixture tests', () => {
  it('rejects what the spec forbids, so a passing fixture check means something', async () => {
    const { buildInstallation } = await import('../../src/simulator/fixtures.js');
    const { installationSpec } = await import('../helpers/builders.js');
    const { specErrors } = await import('../helpers/spec.js');
    expect(specErrors('Installation', buildInstallation(installationSpec('a', { healthStatus: 'degraded' })))).toContain('must be equal to one of the allowed values');
    const missing: Record<string, unknown> = buildInstallation(installationSpec('a'));
    delete missing['createdBy'];
    expect(specErrors('Installation', missing)).toContain("must have required property 'createdBy'");
  });
});
