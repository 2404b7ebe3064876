import { describe, expect, it } from 'vitest';
import { MAX_DISPLAY_LENGTH } from '../../src/core/installation.js';
import { integrationNames } from '../../src/core/integration-names.js';
import { buildIntegration } from '../../src/simulator/fixtures.js';
import { specErrors } from '../helpers/spec.js';

const named = (id: string, name: unknown): Record<string, unknown> => ({ ...buildIntegration('proj-1', id, 'salesforce'), name });

describe('integrationNames', () => {
  it('maps each id of a spec-conformant list to its name', () => {
    const body = [named('9f1c', 'Salesforce accounts'), named('77ab', 'HubSpot contacts')];
    expect(specErrors('Integration', body, true)).toBe('');
    expect(integrationNames(body)).toEqual({
      ok: true,
      names: new Map([
        ['9f1c', 'Salesforce accounts'],
        ['77ab', 'HubSpot contacts'],
      ]),
      warnings: [],
    });
  });

  it.each<[string, unknown]>([
    ['an object', { integrations: [] }],
    ['null', null],
  ])('fails a body that is %s', (_name, body) => {
    expect(integrationNames(body)).toEqual({ ok: false, error: expect.stringContaining('expected a JSON array of integrations') });
  });

  it.each<[string, Record<string, unknown>, string | undefined, string]>([
    ['a missing name', named('i', undefined), undefined, 'name is missing, not a string; the id is shown instead'],
    ['a numeric name', named('i', 42), undefined, 'name is number, not a string; the id is shown instead'],
    ['an empty name', named('i', '   '), undefined, 'name is empty; the id is shown instead'],
    ['a name with control characters', named('i', 'Sales\u0000force\nsync'), 'Salesforce sync', 'name has control characters or line breaks; removed'],
    ['a 5,000-character name', named('i', 'n'.repeat(5000)), `${'n'.repeat(MAX_DISPLAY_LENGTH - 1)}…`, 'name is longer than 256 characters; cut'],
  ])('keeps the others with %s, and warns about it', (_name, item, name, warning) => {
    const result = integrationNames([named('ok', 'Fine'), item]);
    if (!result.ok) throw new Error(result.error);
    expect(result.names.get('ok')).toBe('Fine');
    expect(result.names.get('i')).toBe(name);
    expect(result.warnings).toEqual([{ message: warning, count: 1, examples: ['i'] }]);
  });

  it('skips an item without a string id, naming its index', () => {
    const result = integrationNames([{ name: 'x' }, 'junk', named('ok', 'Fine')]);
    expect(result).toEqual({
      ok: true,
      names: new Map([['ok', 'Fine']]),
      warnings: [{ message: 'an integration has no string id; its name is not used', count: 2, examples: ['integrations[0]', 'integrations[1]'] }],
    });
  });

  it('keeps the same name for a duplicate id whatever the order', () => {
    const a = named('dup', 'Beta');
    const b = named('dup', 'Alpha');
    for (const body of [
      [a, b],
      [b, a],
    ]) {
      const result = integrationNames(body);
      expect(result.ok && result.names.get('dup')).toBe('Alpha');
      expect(result.ok && result.warnings.map((w) => w.message)).toEqual([
        'integration id appears more than once with different names; the first by sort order is kept',
      ]);
    }
  });
});
