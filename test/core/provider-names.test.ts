import { describe, expect, it } from 'vitest';
import { maxProviderNameLength, providerNames } from '../../src/core/provider-names.js';
import { buildProviderInfo } from '../../src/simulator/fixtures.js';

describe('providerNames', () => {
  it('maps each provider of the catalog to its display name', () => {
    const body = { salesforce: buildProviderInfo('salesforce'), hubspot: buildProviderInfo('hubspot') };
    expect(providerNames(body)).toEqual({
      ok: true,
      names: new Map([
        ['salesforce', 'Salesforce'],
        ['hubspot', 'HubSpot'],
      ]),
    });
  });

  it.each<[string, unknown]>([
    ['no display name (the spec: it defaults to the id)', buildProviderInfo('acme', undefined)],
    ['a display name that is not a string', { ...buildProviderInfo('acme'), displayName: 42 }],
    ['an empty display name', { ...buildProviderInfo('acme'), displayName: ' \n ' }],
    ['an entry that is not an object', 'acme'],
  ])('leaves out a provider with %s, so its id is shown', (_name, entry) => {
    const result = providerNames({ acme: entry, hubspot: buildProviderInfo('hubspot') });
    expect(result).toEqual({ ok: true, names: new Map([['hubspot', 'HubSpot']]) });
  });

  it('cleans a display name of line breaks and control characters, and cuts it', () => {
    const result = providerNames({ x: { ...buildProviderInfo('x'), displayName: `Evil\n\u202eCorp${'y'.repeat(200)}` } });
    const name = result.ok ? result.names.get('x') : undefined;
    expect(name?.startsWith('Evil Corpyyy')).toBe(true);
    expect(Array.from(name ?? '')).toHaveLength(maxProviderNameLength);
  });

  it.each<[string, unknown]>([
    ['an array', []],
    ['null', null],
    ['a string', 'providers'],
  ])('fails for a body that is %s', (_name, body) => {
    expect(providerNames(body)).toMatchObject({ ok: false, error: expect.stringContaining('expected a JSON object of providers') as string });
  });
});
