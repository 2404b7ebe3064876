/**
 * Builders of spec-conformant Ampersand payloads (Installation, Integration,
 * Operation, Log, ApiProblem), used by the demo simulator and the tests. They are typed with
 * the types generated from the spec, and a test also validates their output
 * against the official OpenAPI schemas, so they cannot drift from it.
 */
import type {
  ApiConfig,
  ApiConfigContent,
  ApiConnection,
  ApiGroup,
  ApiInstallation,
  ApiIntegration,
  ApiLog,
  ApiOperation,
  ApiProblem,
  ApiProviderInfo,
  ApiReadConfigObject,
} from '../core/ampersand-payloads.js';
import type { components } from '../core/generated/ampersand-api.js';
import type { InstallationState } from '../core/installation.js';

/**
 * What an installation payload is built from: the normalised view's fields,
 * except that an absent `lastOperationStatus` stays absent (the API omits it
 * before any operation ran), and that the consumer and the paused reads may be
 * left out (a consumer `user-<id>` named Jane Smith, and no paused read).
 */
export type InstallationSpec = Omit<InstallationState, 'lastOperationStatus' | 'consumerRef' | 'consumerName' | 'pausedReads'> & {
  readonly lastOperationStatus: string | undefined;
  readonly consumerRef?: string;
  readonly consumerName?: string;
  /** Read objects served with `disabled: true` in the config, besides the provider's usual object. */
  readonly pausedReads?: readonly string[];
};

/**
 * A spec Installation, except that its three statuses may hold values the spec
 * does not enumerate: tests serve such values on purpose, to show that they
 * are kept and warned about (a spec value still type-checks as it is).
 */
export type InstallationPayload = Omit<ApiInstallation, 'healthStatus' | 'lastOperationStatus' | 'connection' | 'config'> & {
  readonly healthStatus: string;
  readonly lastOperationStatus?: string;
  readonly connection: Omit<ApiConnection, 'status'> & { readonly status: string };
  readonly config: ConfigPayload;
};

/**
 * A spec Config whose read objects are typed by the base schema: the generated
 * `ReadConfigObject` is an intersection with `Record<string, never>` (its
 * schema's allOf adds only `required`), which no object satisfies. The test of
 * the fixtures validates them against the schema itself.
 */
type ConfigPayload = Omit<ApiConfig, 'content'> & {
  readonly content: Omit<ApiConfigContent, 'read'> & { readonly read?: { readonly objects: Readonly<Record<string, ApiReadConfigObject>> } };
};

const CREATED = '2024-01-15T10:30:00.000000Z';

type BaseReadConfigObject = components['schemas']['BaseReadConfigObject'];
type BaseWriteConfigObject = components['schemas']['BaseWriteConfigObject'];
type WriteConfigObject = components['schemas']['WriteConfigObject'];

export function buildGroup(projectId: string, groupRef: string, groupName: string): ApiGroup {
  return { groupRef, groupName, projectId, createTime: CREATED };
}

/** What a failing read of each demo provider looks like, from its own API's error texts. */
const PROVIDER_FAILURES: Readonly<Record<string, { readonly object: string; readonly error: string }>> = {
  salesforce: { object: 'account', error: 'INVALID_SESSION_ID: Session expired or invalid' },
  hubspot: { object: 'contacts', error: '429 Too Many Requests: You have reached your secondly limit.' },
  zendesk: {
    object: 'tickets',
    error: '403 Forbidden: You do not have access to this page. Please contact the account owner of this help desk for further help.',
  },
};
const GENERIC_FAILURE = '500 Internal Server Error: the provider did not answer';

/** The object an installation of this provider usually reads, as its config and operations name it. */
export function readObjectOf(provider: string): string {
  return PROVIDER_FAILURES[provider]?.object ?? 'contact';
}

/** One object of a read config, as the builder of an integration would configure it. */
function readObject(objectName: string, disabled: boolean): ApiReadConfigObject {
  return {
    objectName,
    schedule: '*/15 * * * *',
    destination: 'defaultWebhook',
    selectedFields: { id: true, name: true },
    selectedFieldMappings: {},
    disabled,
  };
}

/** One Installation object as `listInstallations` returns it. */
export function buildInstallation(spec: InstallationSpec): InstallationPayload {
  const group = buildGroup(spec.projectId, spec.groupRef, spec.groupName);
  const usual = readObjectOf(spec.provider);
  const paused = new Set(spec.pausedReads ?? []);
  const objects = Object.fromEntries([usual, ...paused].map((name) => [name, readObject(name, paused.has(name))]));
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
      consumer: {
        consumerRef: spec.consumerRef ?? `user-${spec.id}`,
        consumerName: spec.consumerName ?? 'Jane Smith',
        projectId: spec.projectId,
        createTime: CREATED,
      },
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
      content: { provider: spec.provider, read: { objects } },
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
        ...base.config.content,
        provider: spec.provider,
        // The spec's own read objects (a paused one among them) stay; the account read is added.
        read: { objects: { ...base.config.content?.read?.objects, account } },
        write: { objects: { account: write as WriteConfigObject } },
      },
    },
  };
}

/** One Integration object as `listIntegrations` returns it; its name is its id unless given. */
export function buildIntegration(projectId: string, id: string, provider: string, name = id): ApiIntegration {
  return {
    id,
    projectId,
    name,
    provider,
    createTime: CREATED,
    latestRevision: {
      id: `rev-${id}`,
      specVersion: '1.0.0',
      createTime: CREATED,
      content: { name, provider },
    },
  };
}

/** Display names of a few providers, as Ampersand's catalog spells them (the spec's own examples: Salesforce, HubSpot). */
export const knownProviderDisplayNames: Readonly<Record<string, string>> = {
  salesforce: 'Salesforce',
  hubspot: 'HubSpot',
  zendeskChat: 'Zendesk Chat',
  pipedrive: 'Pipedrive',
  netsuite: 'NetSuite',
};

/**
 * One entry of `GET /providers` (the spec's ProviderInfo), with the fields the
 * spec requires and the display name (knownProviderDisplayNames's unless given;
 * undefined gives none: the spec then says the name is the provider's id).
 */
export function buildProviderInfo(name: string, ...given: [displayName?: string | undefined]): ApiProviderInfo {
  // An explicit undefined means "none", unlike a default parameter, which it would replace.
  const displayName = given.length === 0 ? knownProviderDisplayNames[name] : given[0];
  return {
    name,
    ...(displayName === undefined ? {} : { displayName }),
    authType: 'oauth2',
    baseURL: `https://api.${name.toLowerCase()}.example`,
    defaultModule: '',
    support: {
      read: true,
      write: true,
      delete: false,
      subscribe: false,
      proxy: true,
      bulkWrite: { insert: false, update: false, upsert: false, delete: false },
      search: { operators: { equals: true } },
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

/** One line of an operation's log, as the fake serves it. */
export interface LogSpec {
  readonly timestamp: string;
  /** As the API writes it: DEBUG, INFO, WARN, ERROR. */
  readonly severity: string;
  readonly msg: string;
  readonly error?: string;
}

/** One operation of an installation, as the fake serves it: its spec fields and its log. */
export interface OperationSpec {
  readonly id: string;
  readonly actionType: string;
  /** `success`, `failure` or `in_progress`; tests may serve others. */
  readonly status: string;
  readonly result?: string;
  readonly objects: readonly string[];
  /** RFC 3339. */
  readonly createTime: string;
  readonly logs: readonly LogSpec[];
}

/** One Operation object as `listOperations` returns it, for an operation of `installation`. */
export function buildOperation(installation: InstallationSpec, op: OperationSpec): ApiOperation {
  return {
    id: op.id,
    projectId: installation.projectId,
    integrationId: installation.integrationId,
    installationId: installation.id,
    configId: `config-${installation.id}`,
    actionType: op.actionType,
    status: op.status,
    ...(op.result === undefined ? {} : { result: op.result }),
    metadata: { objects: [...op.objects] },
    createTime: op.createTime,
  };
}

/** One Log object as `listOperationLogs` returns it. */
export function buildLog(operationId: string, log: LogSpec): ApiLog {
  return {
    timestamp: log.timestamp,
    severity: log.severity,
    message: { msg: log.msg, operation_id: operationId, ...(log.error === undefined ? {} : { error: log.error }) },
  };
}

const at = (start: Date, seconds: number): string => new Date(start.getTime() + seconds * 1000).toISOString();

/**
 * One read of `installation` that started at `start` and ended with `status`,
 * with the log such a run leaves: a failure logs the provider's error once as a
 * retried warning and again as the final error, as a real run does.
 */
export function buildReadOperation(installation: InstallationSpec, id: string, status: string, start: Date): OperationSpec {
  const object = readObjectOf(installation.provider);
  const error = PROVIDER_FAILURES[installation.provider]?.error ?? GENERIC_FAILURE;
  const logs: LogSpec[] = [
    { timestamp: at(start, 0), severity: 'INFO', msg: `Starting read of ${object}` },
    { timestamp: at(start, 1), severity: 'DEBUG', msg: `Requesting ${object} records from ${installation.provider}` },
  ];
  if (status === 'failure') {
    logs.push(
      { timestamp: at(start, 2), severity: 'WARN', msg: `Provider error, retrying (attempt 1 of 2)`, error },
      { timestamp: at(start, 4), severity: 'ERROR', msg: `Read of ${object} failed`, error },
    );
  } else if (status === 'success') {
    logs.push({ timestamp: at(start, 3), severity: 'INFO', msg: `Read of ${object} done: no new data` });
  }
  const result = status === 'failure' ? `[${object}] Read failed` : status === 'success' ? `[${object}] No new data found` : undefined;
  return { id, actionType: 'read', status, objects: [object], createTime: start.toISOString(), logs, ...(result === undefined ? {} : { result }) };
}

/**
 * The reads an installation has run by `now`, newest first, every 15 minutes:
 * successes, then its last operation status (none at all when it has none).
 * Ids are `op-<installation id>-<n>`, n counting from the oldest.
 */
export function buildOperationHistory(installation: InstallationSpec, now: Date, count = 3): OperationSpec[] {
  const last = installation.lastOperationStatus;
  if (last === undefined) return [];
  return Array.from({ length: count }, (_, i) => {
    const start = new Date(now.getTime() - i * 15 * 60_000 - 60_000);
    return buildReadOperation(installation, `op-${installation.id}-${count - i}`, i === 0 ? last : 'success', start);
  });
}
