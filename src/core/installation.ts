/**
 * The normalised view of one Ampersand installation: only what the diff, the
 * alerts and the metrics need. Enum values outside the spec are kept as they
 * came (a future `healthStatus: "degraded"` must not crash a poll or hide the
 * other installations); the parser reports them as warnings instead.
 */

/** Enums of the official spec (api.bundled.json); a test checks they still match it. */
export const HEALTH_STATUSES = ['healthy', 'unhealthy'] as const;
export const OPERATION_STATUSES = ['success', 'failure', 'in_progress'] as const;
export const CONNECTION_STATUSES = ['created', 'working', 'bad_credentials'] as const;

/** A missing `lastOperationStatus` (no operation ran yet) is reported as this state. */
export const UNKNOWN_OPERATION_STATUS = 'unknown';

export interface InstallationState {
  readonly id: string;
  readonly projectId: string;
  readonly integrationId: string;
  readonly groupRef: string;
  readonly groupName: string;
  readonly provider: string;
  readonly healthStatus: string;
  /** One of OPERATION_STATUSES, `unknown` when absent, or a value the spec does not know. */
  readonly lastOperationStatus: string;
  readonly connectionStatus: string;
}

export type ParseResult =
  | { readonly ok: true; readonly installations: readonly InstallationState[]; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: string };

// Longer identifiers than this are not something Ampersand sends; they would bloat the
// snapshot and every metric label, so such a body is rejected as a whole.
const MAX_FIELD_LENGTH = 1024;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

class ItemError extends Error {}

function text(obj: Json, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== 'string') {
    throw new ItemError(`${where}.${key} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.length > MAX_FIELD_LENGTH) {
    throw new ItemError(`${where}.${key} is ${value.length} characters long (at most ${MAX_FIELD_LENGTH})`);
  }
  return value;
}

function optionalText(obj: Json, key: string, where: string): string | undefined {
  return obj[key] === undefined ? undefined : text(obj, key, where);
}

function group(value: unknown, where: string): { groupRef: string; groupName: string } | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new ItemError(`${where} must be an object`);
  return { groupRef: text(value, 'groupRef', where), groupName: text(value, 'groupName', where) };
}

/**
 * Parses the body of `GET /projects/{p}/integrations/{i}/installations`
 * (an array of spec `Installation`). Any item that lacks a field this service
 * relies on makes the whole body invalid: dropping that one item would look
 * like a removed installation and raise a false alert.
 */
export function parseInstallationList(body: unknown): ParseResult {
  if (!Array.isArray(body)) {
    return { ok: false, error: `expected a JSON array of installations, got ${body === null ? 'null' : typeof body}` };
  }
  const installations: InstallationState[] = [];
  const unknownValues = new Map<string, number>();
  const seen = new Set<string>();
  const noteUnknown = (field: string, value: string, known: readonly string[]): void => {
    if (!known.includes(value)) {
      const key = `${field} "${value}"`;
      unknownValues.set(key, (unknownValues.get(key) ?? 0) + 1);
    }
  };
  const warnings: string[] = [];

  for (const [index, item] of body.entries()) {
    const where = `installations[${index}]`;
    try {
      if (!isObject(item)) throw new ItemError(`${where} must be an object`);
      const id = text(item, 'id', where);
      const connection = item['connection'];
      if (!isObject(connection)) throw new ItemError(`${where}.connection must be an object`);
      const healthStatus = text(item, 'healthStatus', where);
      const lastOperationStatus = optionalText(item, 'lastOperationStatus', where) ?? UNKNOWN_OPERATION_STATUS;
      const connectionStatus = text(connection, 'status', `${where}.connection`);
      // The installation's own group is optional in the spec; the connection's is required.
      const grp = group(item['group'], `${where}.group`) ?? group(connection['group'], `${where}.connection.group`);
      const state: InstallationState = {
        id,
        projectId: text(item, 'projectId', where),
        integrationId: text(item, 'integrationId', where),
        groupRef: grp?.groupRef ?? '',
        groupName: grp?.groupName ?? '',
        provider: text(connection, 'provider', `${where}.connection`),
        healthStatus,
        lastOperationStatus,
        connectionStatus,
      };
      noteUnknown('healthStatus', healthStatus, HEALTH_STATUSES);
      if (lastOperationStatus !== UNKNOWN_OPERATION_STATUS) {
        noteUnknown('lastOperationStatus', lastOperationStatus, OPERATION_STATUSES);
      }
      noteUnknown('connection.status', connectionStatus, CONNECTION_STATUSES);
      if (seen.has(id)) {
        warnings.push(`installation id "${id}" appears more than once; the first one is kept`);
        continue;
      }
      seen.add(id);
      installations.push(state);
    } catch (error) {
      if (error instanceof ItemError) return { ok: false, error: error.message };
      throw error;
    }
  }
  for (const [key, count] of unknownValues) {
    warnings.push(`value not in the spec: ${key} on ${count} installation(s); kept as is`);
  }
  return { ok: true, installations, warnings };
}

/** Parses the body of `GET /projects/{p}/integrations` into integration ids. */
export function parseIntegrationList(body: unknown): { ok: true; ids: readonly string[] } | { ok: false; error: string } {
  if (!Array.isArray(body)) return { ok: false, error: 'expected a JSON array of integrations' };
  const ids: string[] = [];
  for (const [index, item] of body.entries()) {
    if (!isObject(item) || typeof item['id'] !== 'string' || item['id'] === '' || item['id'].length > MAX_FIELD_LENGTH) {
      return { ok: false, error: `integrations[${index}].id must be a non-empty string` };
    }
    ids.push(item['id']);
  }
  return { ok: true, ids: [...new Set(ids)] };
}
