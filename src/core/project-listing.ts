/**
 * AMPERSAND_LIST_MODE=project reads every installation of a project in one
 * call (`listInstallationsForProject`, one unpaginated array) and splits it by
 * the spec's required `integrationId`, so that each integration's part goes
 * through the same parse, plan and commit as its own listing would.
 */
import { describeType, isObject } from './unchecked-json.js';

export type ProjectListingSplit =
  | {
      readonly ok: true;
      /** Each asked integration's installations, as listed (unparsed); [] for one the listing has none of. */
      readonly byIntegration: ReadonlyMap<string, readonly unknown[]>;
      /** Installations of integrations the cycle did not ask for (not configured), left out. */
      readonly others: number;
    }
  | { readonly ok: false; readonly error: string };

/**
 * Splits a project's listing among `integrationIds`, keeping each item as it
 * is and in its order. A body that is not an array, or an item whose
 * integration cannot be told (not an object, or no string `integrationId`),
 * fails the whole listing: that item belongs to some integration, and leaving
 * it out would read as its installation gone, a recovery that did not happen.
 */
export function splitProjectListing(body: unknown, integrationIds: readonly string[]): ProjectListingSplit {
  if (!Array.isArray(body)) return { ok: false, error: `expected a JSON array of installations, got ${describeType(body)}` };
  const byIntegration = new Map<string, unknown[]>(integrationIds.map((id) => [id, []]));
  let others = 0;
  for (const [index, item] of body.entries()) {
    const integrationId = isObject(item) ? item['integrationId'] : undefined;
    if (typeof integrationId !== 'string') {
      const what = isObject(item) ? `its integrationId is ${describeType(integrationId)}` : `it is ${describeType(item)}, not an object`;
      return { ok: false, error: `installation [${index}] cannot be told to an integration: ${what}` };
    }
    const list = byIntegration.get(integrationId);
    if (list === undefined) others += 1;
    else list.push(item);
  }
  return { ok: true, byIntegration, others };
}
