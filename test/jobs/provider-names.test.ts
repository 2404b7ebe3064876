/**
 * The cache of provider display names, with a scripted Ampersand client and a
 * fixed clock: read once per ttl, shared by concurrent polls, and soft when
 * the catalog cannot be read (the names it had, none at first, and no new try
 * before retryMs).
 */
import { describe, expect, it } from 'vitest';
import { createProviderNameCache } from '../../jobs/provider-names.js';
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import { buildProviderInfo } from '../../src/simulator/fixtures.js';
import { createFakeAmpersandClient } from '../fakes/fake-ampersand-client.js';
import { createFixedClock } from '../fakes/fixed-clock.js';
import { captureLogs } from '../helpers/logger.js';

const catalog = { body: { hubspot: buildProviderInfo('hubspot'), salesforce: buildProviderInfo('salesforce') } };

function setup() {
  const ampersand = createFakeAmpersandClient();
  const clock = createFixedClock();
  const logs = captureLogs();
  const cache = createProviderNameCache({ ampersand, logger: logs.logger, now: clock.now, ttlMs: 60_000, retryMs: 10_000, timeoutMs: 200 });
  const reads = (): number => ampersand.calls.filter((c) => c === 'providers').length;
  return { ampersand, clock, logs, cache, reads };
}

describe('createProviderNameCache', () => {
  it('reads the catalog once per ttl, and once for polls that ask at the same time', async () => {
    const { ampersand, clock, cache, reads } = setup();
    ampersand.scriptProviders(catalog);
    const [first, second] = await Promise.all([cache.get(), cache.get()]);
    expect(first).toEqual(
      new Map([
        ['hubspot', 'HubSpot'],
        ['salesforce', 'Salesforce'],
      ]),
    );
    expect(second).toBe(first);
    clock.advance(59_999);
    await cache.get();
    expect(reads()).toBe(1);
    clock.advance(1);
    await cache.get();
    expect(reads()).toBe(2);
  });

  it('keeps the names it had when a read fails, says why once, and tries again only after retryMs', async () => {
    const { ampersand, clock, cache, reads, logs } = setup();
    ampersand.scriptProviders(catalog, { error: new AmpersandApiError('GET /providers: HTTP 503 server_error', 'server_error', 503) }, catalog);
    await cache.get();
    clock.advance(60_000);
    expect(await cache.get()).toEqual(
      new Map([
        ['hubspot', 'HubSpot'],
        ['salesforce', 'Salesforce'],
      ]),
    );
    expect(logs.text()).toContain('provider display names not read (GET /providers: HTTP 503 server_error)');
    clock.advance(9_999);
    await cache.get();
    expect(reads()).toBe(2);
    clock.advance(1);
    await cache.get();
    expect(reads()).toBe(3);
  });

  it('gives no names, without throwing, when the first read hangs past its timeout or the body is unreadable', async () => {
    const { ampersand, clock, cache } = setup();
    ampersand.scriptProviders({ hang: true }, { body: ['not', 'a', 'catalog'] });
    expect(await cache.get()).toEqual(new Map());
    clock.advance(10_000);
    expect(await cache.get()).toEqual(new Map());
  });
});
