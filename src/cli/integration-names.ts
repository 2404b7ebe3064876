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
import { cell } from './terminal-text.js';

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

/** The name of an integration with its id, or the id alone when the name is unknown. */
export function integrationLabel(names: IntegrationNames, integrationId: string): string {
  const name = names.get(integrationId);
  return name === undefined || name === integrationId ? integrationId : `${name} (${integrationId})`;
}
