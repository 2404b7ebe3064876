/**
 * The Ampersand payloads this service reads, named from the types that
 * `npm run generate:api` renders from the vendored OpenAPI spec, so that a
 * field the spec renames or drops breaks the build instead of a poll. They
 * describe what a conforming API sends; nothing from the network is trusted to
 * conform: parsers read it as `Unchecked<T>` and check every field.
 */
import type { components, operations } from './generated/ampersand-api.js';

type Schemas = components['schemas'];

export type ApiInstallation = Schemas['Installation'];
export type ApiConnection = Schemas['Connection'];
export type ApiGroup = Schemas['Group'];
export type ApiIntegration = Schemas['Integration'];
export type ApiConsumer = Schemas['Consumer'];
export type ApiConfig = Schemas['Config'];
export type ApiConfigContent = Schemas['ConfigContent'];
export type ApiReadConfig = Schemas['ReadConfig'];
/**
 * One object of a read config. The base schema, not `ReadConfigObject`: that one
 * is generated as an intersection with `Record<string, never>`, whose index
 * signature would let `Unchecked` read any name.
 */
export type ApiReadConfigObject = Schemas['BaseReadConfigObject'];
export type ApiOperation = Schemas['Operation'];
/** One entry of `GET /providers` (listProviders, a `CatalogType`: an object keyed by provider name). */
export type ApiProviderInfo = Schemas['ProviderInfo'];
export type ApiLog = Schemas['Log'];
export type ApiLogMessage = ApiLog['message'];
export type ApiPaginationInfo = Schemas['PaginationInfo'];
/** The body of `listOperations` (`GET …/installations/{id}/operations`): one page of operations. */
export type ApiOperationsPage = operations['listOperations']['responses'][200]['content']['application/json'];
/** The body of `listOperationLogs` (`GET /projects/{p}/operations/{operationId}/logs`). */
export type ApiOperationLogs = operations['listOperationLogs']['responses'][200]['content']['application/json'];
/** An RFC 9457 problem+json body, with Ampersand's extensions (requestId, retryable, retryAfter…). */
export type ApiProblem = Schemas['ApiProblem'];

/** A status value as the spec enumerates it: the parser keeps others as they came, so these are not exhaustive at run time. */
export type HealthStatus = ApiInstallation['healthStatus'];
export type OperationStatus = NonNullable<ApiInstallation['lastOperationStatus']>;
export type ConnectionStatus = ApiConnection['status'];

/**
 * A payload from outside before any check: the spec's field names, each of
 * which may be absent or hold anything. Reading a name the spec does not have
 * is a compile error; reading a value still needs a check.
 */
export type Unchecked<T> = { readonly [K in keyof T]?: unknown };
