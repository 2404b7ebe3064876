/**
 * Builders of spec-conformant Ampersand payloads (Installation, Integration,
 * ApiProblem), used by the demo simulator and the tests. They are typed with
 * the types generated from the spec, and a test also validates their output
 * against the official OpenAPI schemas, so they cannot drift from it.
 */
import type { ApiConnection, ApiGroup, ApiInstallation, ApiIntegration, ApiProblem } from '../core/ampersand-payloads.js';
import type { components } from '../core/generated/ampersand-api.js';
import type { InstallationState } from '../core/installation.js';

/**
 * What an installation payload is built from: the normalised view's fields,
 * except that an absent `lastOperationStatus` stays absent (the API omits it
 * before any operation ran).
 */
export type InstallationSpec = Omit<InstallationState, 'lastOperationStatus'> & { readonly lastOperationStatus: string | undefined };

/**
 * A spec Installation, except that its three statuses may hold values the spec
 * does not enumerate: tests serve such values on purpose, to show that they
 * are kept and warned about (a spec value still type-checks as it is).
 */
export type InstallationPayload = Omit<ApiInstallation, 'healthStatus' | 'lastOperationStatus' | 'connection'> & {
  readonly healthStatus: string;
  readonly lastOperationStatus?: string;
  readonly connection: Omit<ApiConnection, 'status'> & { readonly status: string };
};

const CREATED = '2024-01-15T10:30:00.000000Z';

type BaseReadConfigObject = components['schemas']['BaseReadConfigObject'];
type ReadConfigObject = components['schemas']['ReadConfigObject'];
type BaseWriteConfigObject = components['schemas']['BaseWriteConfigObject'];
type WriteConfigObject = components['schemas']['WriteConfigObject'];

export function buildGroup(projectId: string, groupRef: string, groupName: string): ApiGroup {
  return { groupRef, groupName, projectId, createTime: CREATED };
}

/** One Installation object as `listInstallations` returns it. */
export function buildInstallation(spec: InstallationSpec): InstallationPayload {
  const group = buildGroup(spec.projectId, spec.groupRef, spec.groupName);
  return {
    id: spec.id,
    projectId: spec.projectId,
    integrationId: spec.integrationId,
    group,
    healthStatus: spec.healthStatus,
    connection: {
      id: `conn-${spec.id}`,
      projectId: spec.projectId,
      provider: spec.provider,
      group,
      consumer: { consumerRef: `user-${spec.id}`, consumerName: 'Jane Smith', projectId: spec.projectId, createTime: CREATED },
      createTime: CREATED,
      authScheme: 'oauth2/authorizationCode',
      status: spec.connectionStatus,
    },
    createTime: CREATED,
    createdBy: `consumer:user-${spec.id}`,
    config: {
      id: `config-${spec.id}`,
      revisionId: 'revision-1',
      createTime: CREATED,
      createdBy: `consumer:user-${spec.id}`,
      content: { provider: spec.provider },
    },
    // The API omits it before any operation ran.
    ...(spec.lastOperationStatus === undefined ? {} : { lastOperationStatus: spec.lastOperationStatus }),
  };
}

const UPDATED = '2025-03-02T08:12:45.118204Z';

/**
 * One Installation object of the size the real API returns (about 2 KB of
 * JSON with UUID ids; `buildInstallation` gives about 1 KB): the optional
 * fields a listing carries (update times, the provider app, workspace and
 * consumer refs, provider metadata, a read and a write configuration) filled
 * with plausible values. No secret: a Connection's token and API key fields
 * are left out. The statuses are those of `spec`, as in buildInstallation.
 * The bench serves these.
 */
export function buildDetailedInstallation(spec: InstallationSpec): InstallationPayload {
  const base = buildInstallation(spec);
  const workspace = `${spec.groupRef.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.my.${spec.provider}.example.com`;
  // The generator renders the spec's allOf (base object + a list of required fields) as
  // `& Record<string, never>`, which no literal satisfies: these are typed by their base
  // schema, and the spec test validates the whole installation against the schema instead.
  const account: BaseReadConfigObject = {
    objectName: 'account',
    schedule: '*/15 * * * *',
    disabled: false,
    selectedFields: { name: true, industry: true, billingcountry: true },
    selectedFieldMappings: { externalId: 'id', updatedAt: 'systemmodstamp' },
  };
  const write: BaseWriteConfigObject = { objectName: 'account' };
  return {
    ...base,
    updateTime: UPDATED,
    connection: {
      ...base.connection,
      updateTime: UPDATED,
      providerApp: {
        id: '7f0c8f0e-2a51-4b1c-9d0e-6f4c1e9b2a10',
        projectId: spec.projectId,
        provider: spec.provider,
        clientId: '3MVG9Kip4IKAZQEXmM2E7uBq0Zn1rS7xxMgVZ0W2',
        scopes: ['api', 'refresh_token'],
        createTime: CREATED,
      },
      providerWorkspaceRef: workspace,
      providerConsumerRef: '0054x000000orJ4AA',
      providerMetadata: { instanceUrl: { value: `https://${workspace}`, source: 'token', displayName: 'Instance URL' } },
    },
    config: {
      ...base.config,
      content: {
        provider: spec.provider,
        read: { objects: { account: account as ReadConfigObject } },
        write: { objects: { account: write as WriteConfigObject } },
      },
    },
  };
}

/** One Integration object as `listIntegrations` returns it. */
export function buildIntegration(projectId: string, id: string, provider: string): ApiIntegration {
  return {
    id,
    projectId,
    name: id,
    provider,
    createTime: CREATED,
    latestRevision: {
      id: `rev-${id}`,
      specVersion: '1.0.0',
      createTime: CREATED,
      content: { name: id, provider },
    },
  };
}

/** An RFC 9457 problem body as the API sends it with `application/problem+json`. */
export function buildProblem(
  status: number,
  title: string,
  detail: string,
  extra: Pick<ApiProblem, 'retryable' | 'retryAfter' | 'requestId'> = {},
): ApiProblem {
  return {
    type: 'about:blank',
    title,
    status,
    detail,
    requestId: extra.requestId ?? `req-${status}-${Math.random().toString(36).slice(2, 10)}`,
    ...(extra.retryable === undefined ? {} : { retryable: extra.retryable }),
    ...(extra.retryAfter === undefined ? {} : { retryAfter: extra.retryAfter }),
  };
}
