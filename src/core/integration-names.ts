/**
 * The names of the project's integrations, for messages that show a name
 * rather than a UUID. Read from the body of `GET /projects/{p}/integrations`
 * (an array of spec `Integration`, whose display name is `name`); the ids to
 * poll come from `parseIntegrationList`, which is stricter: a name that cannot
 * be read only costs that integration its name.
 */
import type { ApiIntegration } from './ampersand-payloads.js';
import { cleanText } from './display-text.js';
import { MAX_DISPLAY_LENGTH } from './installation.js';
import { WarningTally, type ParseWarning } from './parse-warnings.js';
import { describeType, unchecked } from './unchecked-json.js';

export type IntegrationNamesResult =
  | { readonly ok: true; readonly names: ReadonlyMap<string, string>; readonly warnings: readonly ParseWarning[] }
  | { readonly ok: false; readonly error: string };

/**
 * Maps each integration id to its `name`, cleaned of control characters and
 * line breaks and cut to MAX_DISPLAY_LENGTH. An item without a string id, or
 * without a usable name, is left out of the map and noted (the message then
 * shows the id); only a body that is not a list fails. When one id comes
 * twice with different names, the name that sorts first is kept, so the
 * result does not depend on the API's order.
 */
export function integrationNames(body: unknown): IntegrationNamesResult {
  if (!Array.isArray(body)) return { ok: false, error: `expected a JSON array of integrations, got ${describeType(body)}` };
  const names = new Map<string, string>();
  const warnings = new WarningTally();
  for (const [index, item] of body.entries()) {
    const integration = unchecked<ApiIntegration>(item);
    const id = integration?.id;
    if (typeof id !== 'string' || id === '') {
      warnings.note('an integration has no string id; its name is not used', `integrations[${index}]`);
      continue;
    }
    const raw = integration?.name;
    if (typeof raw !== 'string') {
      warnings.note(`name is ${raw === undefined ? 'missing' : describeType(raw)}, not a string; the id is shown instead`, id);
      continue;
    }
    const { text, cleaned, cut } = cleanText(raw, MAX_DISPLAY_LENGTH);
    if (cleaned) warnings.note('name has control characters or line breaks; removed', id);
    if (cut) warnings.note(`name is longer than ${MAX_DISPLAY_LENGTH} characters; cut`, id);
    if (text === '') {
      warnings.note('name is empty; the id is shown instead', id);
      continue;
    }
    const earlier = names.get(id);
    if (earlier !== undefined && earlier !== text)
      warnings.note('integration id appears more than once with different names; the first by sort order is kept', id);
    names.set(id, earlier === undefined || text < earlier ? text : earlier);
  }
  return { ok: true, names, warnings: warnings.list() };
}
