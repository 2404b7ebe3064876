/**
 * Builders of spec-conformant Ampersand payloads (Installation, Integration,
 * ApiProblem), used by the demo simulator and the tests. They are typed with
 * the types generated from the spec, and a test also validates their output
 * against the official OpenAPI schemas, so they cannot drift from it.
 */
import type { ApiConnection, ApiGroup, ApiInstallation, ApiIntegration, ApiProblem } from '../core/ampersand-payloads.js';
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
