/**
 * The display names of providers, for messages that say "HubSpot (hubspot)"
 * rather than an id. Read from the body of `GET /providers` (the spec's
 * listProviders: a `CatalogType`, an object keyed by provider name whose
 * values are `ProviderInfo`, with an optional `displayName`: "if omitted,
 * defaults to provider name"). Pure and lenient: an entry that cannot be read
 * only costs that provider its name; only a body that is not an object fails.
 */
import type { ApiProviderInfo } from './ampersand-payloads.js';
import { cleanText } from './display-text.js';
import { describeType, unchecked } from './unchecked-json.js';

/** A display name longer than this is cut: it is shown in a headline. */
export const maxProviderNameLength = 60;

export type ProviderNamesResult = { readonly ok: true; readonly names: ReadonlyMap<string, string> } | { readonly ok: false; readonly error: string };

/**
 * Maps each provider (the catalog's key) to its `displayName`, cleaned of
 * control characters and line breaks and cut. A provider without a usable
 * display name is left out: the messages then show its id, as the spec's
 * default says.
 */
export function providerNames(body: unknown): ProviderNamesResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: `expected a JSON object of providers keyed by name, got ${describeType(body)}` };
  }
  const names = new Map<string, string>();
  for (const [provider, value] of Object.entries(body)) {
    const raw = unchecked<ApiProviderInfo>(value)?.displayName;
    if (typeof raw !== 'string') continue;
    const { text } = cleanText(raw, maxProviderNameLength);
    if (text !== '') names.set(provider, text);
  }
  return { ok: true, names };
}
