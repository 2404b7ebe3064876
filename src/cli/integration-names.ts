/**
 * The display names of integrations: the one place the CLI looks them up.
 * Every table shows `integrationLabel(names, id)`, so a name appears wherever
 * an integration does.
 *
 * The names are in the body of `GET /projects/{project}/integrations`
 * (listIntegrations), read by the core's `integrationNames`. The look-up is
 * soft and short: `status` must work from Redis alone, so a failed, slow or
 * unreadable answer leaves the ids, with one line on stderr saying why.
 */
import { integrationNames } from '../core/integration-names.js';
import { firstLine } from '../core/errors/to-error.js';
import type { AmpersandClient } from '../ports.js';
import { cell, displayWidth, terminalSafe, truncateToWidth } from './terminal-text.js';

export type IntegrationNames = ReadonlyMap<string, string>;

/** How long a person waits for the names before the ids are shown instead. */
const nameLookupTimeoutMs = 3000;
/** Widest reason in the warning line. */
const maxReasonWidth = 300;

export async function lookUpIntegrationNames(ampersand: Pick<AmpersandClient, 'listIntegrations'>, warn: (line: string) => void): Promise<IntegrationNames> {
  try {
    const parsed = integrationNames(await ampersand.listIntegrations(AbortSignal.timeout(nameLookupTimeoutMs)));
    if (parsed.ok) return parsed.names;
    warn(`integration names not shown (the API's list of integrations is unreadable: ${cell(parsed.error, maxReasonWidth)}); ids only`);
  } catch (error) {
    // The API's problem title and detail are in the message: made terminal-safe like every other text from outside.
    warn(`integration names not shown (${cell(firstLine(error), maxReasonWidth)}); ids only`);
  }
  return new Map();
}

/** The fewest columns of a name worth showing beside its id; with less room the id is shown alone. */
const minNameWidth = 4;

/**
 * The name of an integration with its id, or the id alone when the name is
 * unknown, in at most `max` terminal columns. The name is cut, never the id:
 * the id is what `--integration` takes, and two integrations may share the
 * start of a name (ids are UUIDs, 36 columns, so a label cut at its end would
 * lose the id).
 */
export function integrationLabel(names: IntegrationNames, integrationId: string, max = Number.POSITIVE_INFINITY): string {
  const name = names.get(integrationId);
  if (name === undefined || name === integrationId) return integrationId;
  const id = terminalSafe(integrationId);
  const room = max - displayWidth(id) - ' ()'.length;
  return room < minNameWidth ? integrationId : `${truncateToWidth(terminalSafe(name), room)} (${id})`;
}
