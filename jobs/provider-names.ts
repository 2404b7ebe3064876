/**
 * The providers' display names (`GET /providers`), cached in the process:
 * the catalog changes when Ampersand adds a provider, not between two polls,
 * so it is read at most once per `ttlMs` (an hour by default), and only when
 * a poll has an alert to send. Failing softly: a look-up that fails or is slow
 * leaves the names it had (none at first), the message shows the provider's
 * id, and the next try waits `retryMs`, so an API that cannot answer is not
 * asked on every poll. Concurrent polls share one request.
 */
import { firstLine } from '../src/core/errors/to-error.js';
import { providerNames } from '../src/core/provider-names.js';
import type { AmpersandClient, Logger } from '../src/ports.js';

export interface ProviderNamesDeps {
  readonly ampersand: Pick<AmpersandClient, 'listProviders'>;
  readonly logger: Logger;
  readonly now: () => Date;
  /** How long a catalog read is used; an hour unless a test says otherwise. */
  readonly ttlMs?: number;
  /** How long after a failed read the next is tried. */
  readonly retryMs?: number;
  /** How long a poll waits for the catalog before it sends with ids: an alert without names beats a late one. */
  readonly timeoutMs?: number;
}

export interface ProviderNameCache {
  /** The display names by provider id; an empty map when none could be read. Never throws. */
  get(): Promise<ReadonlyMap<string, string>>;
}

export const providerNamesDefaults = { ttlMs: 3_600_000, retryMs: 300_000, timeoutMs: 3000 } as const;

export function createProviderNameCache(deps: ProviderNamesDeps): ProviderNameCache {
  const { ttlMs, retryMs, timeoutMs } = { ...providerNamesDefaults, ...deps };
  let names: ReadonlyMap<string, string> = new Map();
  /** Epoch ms after which the catalog is read again. */
  let refreshAt = 0;
  let inFlight: Promise<ReadonlyMap<string, string>> | undefined;

  async function refresh(): Promise<ReadonlyMap<string, string>> {
    try {
      const parsed = providerNames(await deps.ampersand.listProviders(AbortSignal.timeout(timeoutMs)));
      if (!parsed.ok) throw new Error(`the list of providers is unreadable: ${parsed.error}`);
      names = parsed.names;
      refreshAt = deps.now().getTime() + ttlMs;
    } catch (error) {
      refreshAt = deps.now().getTime() + retryMs;
      deps.logger.warn({ err: error }, `provider display names not read (${firstLine(error)}); messages show provider ids until a later try`);
    }
    return names;
  }

  return {
    get() {
      if (deps.now().getTime() < refreshAt) return Promise.resolve(names);
      inFlight ??= refresh().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}
