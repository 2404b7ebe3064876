/**
 * The display names of integrations: the one place the CLI looks them up.
 * Every table shows `integrationLabel(names, id)`, so a name appears wherever
 * an integration does once this returns some.
 *
 * Today it returns none, and the tables show integration ids. The names are in
 * the body of `GET /projects/{project}/integrations` (AmpersandClient's
 * listIntegrations), which a pure `integrationNames(listIntegrationsBody)` in
 * src/core/ will read (another change, not landed yet; it is not duplicated
 * here). Then: call listIntegrations once (or reuse the body `check` already
 * discovered with), return integrationNames(body), and keep the ids when the
 * call fails: `status` must work from Redis alone.
 */
export type IntegrationNames = ReadonlyMap<string, string>;

export function lookUpIntegrationNames(): Promise<IntegrationNames> {
  return Promise.resolve(new Map());
}

/** The name of an integration with its id, or the id alone when the name is unknown. */
export function integrationLabel(names: IntegrationNames, integrationId: string): string {
  const name = names.get(integrationId);
  return name === undefined || name === integrationId ? integrationId : `${name} (${integrationId})`;
}
