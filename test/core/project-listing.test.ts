import { describe, expect, it } from 'vitest';
import { splitProjectListing } from '../../src/core/project-listing.js';

const item = (id: string, integrationId: unknown): Record<string, unknown> => ({ id, integrationId });

describe('splitProjectListing', () => {
  it("gives each asked integration its installations in the listing's order, and [] to one it has none of", () => {
    const split = splitProjectListing([item('a', 'A'), item('x', 'X'), item('b', 'B'), item('c', 'A')], ['A', 'B', 'C']);
    expect(split).toEqual({
      ok: true,
      byIntegration: new Map([
        ['A', [item('a', 'A'), item('c', 'A')]],
        ['B', [item('b', 'B')]],
        ['C', []],
      ]),
      others: 1,
    });
  });

  it.each([
    ['a body that is not a list', { results: [] }, 'expected a JSON array of installations, got object'],
    ['an item that is not an object', [item('a', 'A'), 'b'], 'installation [1] cannot be told to an integration: it is string, not an object'],
    ['an item without a string integrationId', [item('a', 7)], 'installation [0] cannot be told to an integration: its integrationId is number'],
    ['an item whose integrationId is missing', [{ id: 'a' }], 'installation [0] cannot be told to an integration: its integrationId is undefined'],
  ])('fails the whole listing for %s, rather than read its installation as gone', (_name, body, error) => {
    expect(splitProjectListing(body, ['A'])).toEqual({ ok: false, error });
  });
});
