/**
 * The normalised view of one Ampersand installation: only what the diff, the
 * alerts and the metrics need. Enum values outside the spec are kept as they
 * came (a future `healthStatus: "degraded"` must not crash a poll or hide the
 * other installations); the parser reports them as warnings instead.
 */
import type {
  ApiConfig,
  ApiConfigContent,
  ApiConnection,
  ApiConsumer,
  ApiGroup,
  ApiInstallation,
  ApiIntegration,
  ApiReadConfig,
  ApiReadConfigObject,
  ConnectionStatus,
  HealthStatus,
  OperationStatus,
  Unchecked,
} from './ampersand-payloads.js';
import { cleanText, truncateCodePoints } from './display-text.js';
import { WarningTally, type ParseWarning } from './parse-warnings.js';
import { describeType, isObject, isWellFormedText, unchecked } from './unchecked-json.js';

// Where they were first defined; the jobs and tests import them from here.
export { truncateCodePoints } from './display-text.js';
export { MAX_WARNING_EXAMPLES, summarizeWarnings, type ParseWarning } from './parse-warnings.js';

/**
 * Enums of the official spec (api.bundled.json). The types reject a value the
 * generated spec types do not have; a test checks that none of theirs is missing.
 */
export const HEALTH_STATUSES = ['healthy', 'unhealthy'] as const satisfies readonly HealthStatus[];
export const OPERATION_STATUSES = ['success', 'failure', 'in_progress'] as const satisfies readonly OperationStatus[];
export const CONNECTION_STATUSES = ['created', 'working', 'bad_credentials'] as const satisfies readonly ConnectionStatus[];

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
  /** `connection.consumer.consumerRef`: the consumer who connected the provider account; '' when absent. */
  readonly consumerRef: string;
  /** `connection.consumer.consumerName`; '' when absent. */
  readonly consumerName: string;
  /**
   * The read objects of the installation's config (`config.content.read.objects`)
   * that have `disabled: true`, whose scheduled reads are paused: each one's
   * `objectName` (its key in the map when it has none), sorted, at most
   * MAX_PAUSED_READS of them.
   */
  readonly pausedReads: readonly string[];
}

export type ParseResult =
  | { readonly ok: true; readonly installations: readonly InstallationState[]; readonly warnings: readonly ParseWarning[] }
  | { readonly ok: false; readonly error: string };

// An id longer than this is not something Ampersand sends; ids are the snapshot's keys
// and a metric label, so an item with such an id makes the whole body unusable.
const MAX_ID_LENGTH = 1024;
/** Display-only fields (group name and ref, provider) are cut to this many code points. */
export const MAX_DISPLAY_LENGTH = 256;
/** A status value outside the spec is kept, cut to this many code points. */
export const MAX_STATUS_LENGTH = 64;
/** Paused read objects kept per installation; a config with more is noted in a warning. */
export const MAX_PAUSED_READS = 50;
/** What a display-only field or a status reads when the item has none that is usable. */
export const UNREADABLE_VALUE = '(unreadable)';

/**
 * Ranks of each status field for picking the worst of duplicate copies; a value
 * the spec does not know ranks just below the bad one, and an unreadable one
 * last, so that a copy that can be read wins.
 */
const RANKS = {
  healthStatus: { unhealthy: 3, healthy: 1, [UNREADABLE_VALUE]: 0 },
  lastOperationStatus: { failure: 5, in_progress: 3, success: 2, [UNKNOWN_OPERATION_STATUS]: 1, [UNREADABLE_VALUE]: 0 },
  connectionStatus: { bad_credentials: 3, created: 1, working: 1, [UNREADABLE_VALUE]: 0 },
} as const satisfies Record<string, Record<string, number>>;
const RANK_OF_UNKNOWN_VALUE = { healthStatus: 2, lastOperationStatus: 4, connectionStatus: 2 } as const;

type StatusField = keyof typeof RANKS;

function rank(field: StatusField, value: string): number {
  return (RANKS[field] as Record<string, number>)[value] ?? RANK_OF_UNKNOWN_VALUE[field];
}

/** The worse of two values of one status field; equal ranks fall back to string order, so the result never depends on the API's order. */
function worse(field: StatusField, a: string, b: string): string {
  const ra = rank(field, a);
  const rb = rank(field, b);
  if (ra !== rb) return ra > rb ? a : b;
  return a <= b ? a : b;
}

const displayKey = (s: InstallationState): string =>
  JSON.stringify([s.groupRef, s.groupName, s.provider, s.projectId, s.integrationId, s.consumerRef, s.consumerName]);

/** Sorted, without duplicates, the first MAX_PAUSED_READS: the same set whatever order the names came in. */
const pausedSet = (names: Iterable<string>): string[] => [...new Set(names)].sort().slice(0, MAX_PAUSED_READS);

/**
 * Merges two copies of one installation id: each status field takes the worse
 * value, and the display fields come from the copy whose display fields sort
 * first. The merge is commutative and associative, so any order of copies in
 * the body gives the same state and alerts do not flap when the order changes.
 */
export function mergeDuplicate(a: InstallationState, b: InstallationState): InstallationState {
  const display = displayKey(a) <= displayKey(b) ? a : b;
  return {
    ...display,
    healthStatus: worse('healthStatus', a.healthStatus, b.healthStatus),
    lastOperationStatus: worse('lastOperationStatus', a.lastOperationStatus, b.lastOperationStatus),
    connectionStatus: worse('connectionStatus', a.connectionStatus, b.connectionStatus),
    // A read paused in either copy is named: like the statuses, the worse wins.
    pausedReads: pausedSet([...a.pausedReads, ...b.pausedReads]),
  };
}

/** A display-only field: absent, null or not a string reads as '' (noted unless absent), a long one is cut (noted). */
function display<T>(obj: Unchecked<T> | undefined, key: keyof T & string, where: string, id: string, warnings: WarningTally): string {
  const value = obj?.[key];
  if (value === undefined || value === null) {
    if (obj !== undefined) warnings.note(`${where}.${key} is missing; shown empty`, id);
    return '';
  }
  if (typeof value !== 'string') {
    warnings.note(`${where}.${key} is ${describeType(value)}, not a string; shown empty`, id);
    return '';
  }
  if (value.length > MAX_DISPLAY_LENGTH) {
    const cut = truncateCodePoints(value, MAX_DISPLAY_LENGTH);
    if (cut !== value) warnings.note(`${where}.${key} is longer than ${MAX_DISPLAY_LENGTH} characters; cut`, id);
    return cut;
  }
  return value;
}

/**
 * A display-only field of free text, as `display` reads it, also cleaned of
 * control characters and line breaks (noted): the fields that are new in the
 * messages of issue 8 are read this way.
 */
function displayText<T>(obj: Unchecked<T> | undefined, key: keyof T & string, where: string, id: string, warnings: WarningTally): string {
  const value = obj?.[key];
  if (value === undefined || value === null) {
    if (obj !== undefined) warnings.note(`${where}.${key} is missing; shown empty`, id);
    return '';
  }
  if (typeof value !== 'string') {
    warnings.note(`${where}.${key} is ${describeType(value)}, not a string; shown empty`, id);
    return '';
  }
  const { text, cleaned, cut } = cleanText(value, MAX_DISPLAY_LENGTH);
  if (cleaned) warnings.note(`${where}.${key} has control characters or line breaks; removed`, id);
  if (cut) warnings.note(`${where}.${key} is longer than ${MAX_DISPLAY_LENGTH} characters; cut`, id);
  return text;
}

/** The consumer of the connection; a consumer that is not an object is noted once (a missing connection already was). */
function consumerOf(connection: Unchecked<ApiConnection> | undefined, id: string, warnings: WarningTally): { consumerRef: string; consumerName: string } {
  const raw = connection?.consumer;
  const consumer = unchecked<ApiConsumer>(raw);
  if (connection !== undefined && consumer === undefined) {
    warnings.note(`connection.consumer is ${raw === undefined ? 'missing' : describeType(raw)}, not an object; shown empty`, id);
  }
  return {
    consumerRef: displayText(consumer, 'consumerRef', 'connection.consumer', id, warnings),
    consumerName: displayText(consumer, 'consumerName', 'connection.consumer', id, warnings),
  };
}

/**
 * The read objects with `disabled: true` in `config.content.read.objects`. An
 * installation without a read config has none. Every step of the path that is
 * there but not an object, and a `disabled` that is not a boolean, is noted and
 * read as "not paused": a broken config never invents a pause.
 */
function pausedReadsOf(inst: Unchecked<ApiInstallation>, id: string, warnings: WarningTally): string[] {
  const step = <T>(value: unknown, where: string, required: boolean): Unchecked<T> | undefined => {
    if (isObject(value)) return value;
    if (value !== undefined || required)
      warnings.note(`${where} is ${value === undefined ? 'missing' : describeType(value)}, not an object; no paused reads read`, id);
    return undefined;
  };
  const config = step<ApiConfig>(inst.config, 'config', true);
  const content = config && step<ApiConfigContent>(config.content, 'config.content', true);
  // `read` is optional: an installation that only writes or subscribes has none.
  const read = content && (content.read === null ? undefined : step<ApiReadConfig>(content.read, 'config.content.read', false));
  const objects = read && step<Record<string, unknown>>(read.objects, 'config.content.read.objects', true);
  if (objects === undefined) return [];
  const names: string[] = [];
  for (const [key, value] of Object.entries(objects)) {
    const object = unchecked<ApiReadConfigObject>(value);
    if (object === undefined) {
      warnings.note(`config.content.read.objects has a ${describeType(value)}, not an object; ignored`, id);
      continue;
    }
    const disabled = object.disabled;
    if (disabled === undefined || disabled === null || disabled === false) continue;
    if (disabled !== true) {
      warnings.note(`config.content.read.objects[…].disabled is ${describeType(disabled)}, not a boolean; read as not paused`, id);
      continue;
    }
    const named = typeof object.objectName === 'string' && object.objectName.trim() !== '' ? object.objectName : key;
    const { text, cleaned, cut } = cleanText(named, MAX_DISPLAY_LENGTH);
    if (cleaned) warnings.note('a paused read object name has control characters or line breaks; removed', id);
    if (cut) warnings.note(`a paused read object name is longer than ${MAX_DISPLAY_LENGTH} characters; cut`, id);
    names.push(text === '' ? '(unnamed)' : text);
  }
  const kept = pausedSet(names);
  if (new Set(names).size > kept.length)
    warnings.note(`more than ${MAX_PAUSED_READS} read objects are paused; the first ${MAX_PAUSED_READS} by name are named`, id);
  return kept;
}

/**
 * A status field. A value the spec does not know is kept (cut to
 * MAX_STATUS_LENGTH) and noted; one that is missing or not a string reads as
 * UNREADABLE_VALUE; diffSnapshots then keeps the stored value of that field,
 * so an unreadable status holds whatever alert is open instead of inventing a
 * change.
 */
function status<T>(
  obj: Unchecked<T> | undefined,
  key: keyof T & string,
  where: string,
  known: readonly string[],
  id: string,
  warnings: WarningTally,
  absent?: string,
): string {
  const value = obj?.[key];
  if ((value === undefined || value === null) && absent !== undefined) return absent;
  // A missing object (the connection) is noted once, by the caller.
  if (obj === undefined) return UNREADABLE_VALUE;
  if (typeof value !== 'string') {
    warnings.note(`${where}.${key} is ${value === undefined ? 'missing' : describeType(value)}, not a string; read as "${UNREADABLE_VALUE}"`, id);
    return UNREADABLE_VALUE;
  }
  if (known.includes(value)) return value;
  const kept = truncateCodePoints(value, MAX_STATUS_LENGTH);
  warnings.note(`value not in the spec: ${where === 'installation' ? '' : `${where}.`}${key} "${kept}"`, id);
  return kept;
}

/** An item that is an object, with an id that can key the snapshot: a non-empty, well-formed string of at most MAX_ID_LENGTH. */
function usableItem(item: unknown, index: number): { id: string; installation: Unchecked<ApiInstallation> } | { error: string } {
  const where = `installations[${index}]`;
  const installation = unchecked<ApiInstallation>(item);
  if (installation === undefined) return { error: `${where} must be an object, got ${describeType(item)}` };
  const id = installation.id;
  if (typeof id !== 'string') return { error: `${where}.id must be a string, got ${describeType(id)}` };
  if (id === '') return { error: `${where}.id is empty` };
  if (id.length > MAX_ID_LENGTH) return { error: `${where}.id is ${id.length} characters long (at most ${MAX_ID_LENGTH})` };
  if (!isWellFormedText(id)) return { error: `${where}.id is not well-formed UTF-16 (it has a lone surrogate)` };
  return { id, installation };
}

/**
 * Parses the body of `GET /projects/{p}/integrations/{i}/installations`
 * (an array of spec `Installation`), read as unchecked data.
 *
 * Only an item without a usable id (or a body that is not a list) makes the
 * whole body unusable: dropping that item would look like a removed
 * installation and raise a false alert. Anything else one customer's data can
 * get wrong stays inside that installation, so it cannot silence the alerts of
 * the whole integration: `null` in an optional field reads as absent,
 * display-only fields are cut to MAX_DISPLAY_LENGTH or shown empty, and a
 * status that is not a string reads as UNREADABLE_VALUE. Each such oddity is
 * counted in one aggregated warning. Duplicate ids are merged to their worst
 * state (see mergeDuplicate).
 */
export function parseInstallationList(body: unknown): ParseResult {
  if (!Array.isArray(body)) {
    return { ok: false, error: `expected a JSON array of installations, got ${describeType(body)}` };
  }
  const byId = new Map<string, InstallationState>();
  const warnings = new WarningTally();

  for (const [index, item] of body.entries()) {
    const usable = usableItem(item, index);
    if ('error' in usable) return { ok: false, error: usable.error };
    const { id, installation: inst } = usable;
    const rawConnection = inst.connection;
    const connection = unchecked<ApiConnection>(rawConnection);
    if (connection === undefined) warnings.note(`connection is ${rawConnection === undefined ? 'missing' : describeType(rawConnection)}, not an object`, id);
    // The installation's own group is optional in the spec; the connection's is required.
    // A null group is read as an absent one.
    const ownGroup = inst.group;
    const groupWhere = isObject(ownGroup) ? 'group' : 'connection.group';
    const grp = unchecked<ApiGroup>(ownGroup) ?? unchecked<ApiGroup>(connection?.group);
    if (ownGroup !== undefined && ownGroup !== null && !isObject(ownGroup)) warnings.note(`group is ${describeType(ownGroup)}, not an object; ignored`, id);
    const state: InstallationState = {
      id,
      projectId: display(inst, 'projectId', 'installation', id, warnings),
      integrationId: display(inst, 'integrationId', 'installation', id, warnings),
      groupRef: display(grp, 'groupRef', groupWhere, id, warnings),
      groupName: display(grp, 'groupName', groupWhere, id, warnings),
      provider: display(connection, 'provider', 'connection', id, warnings),
      healthStatus: status(inst, 'healthStatus', 'installation', HEALTH_STATUSES, id, warnings),
      lastOperationStatus: status(inst, 'lastOperationStatus', 'installation', OPERATION_STATUSES, id, warnings, UNKNOWN_OPERATION_STATUS),
      connectionStatus: status(connection, 'status', 'connection', CONNECTION_STATUSES, id, warnings),
      ...consumerOf(connection, id, warnings),
      pausedReads: pausedReadsOf(inst, id, warnings),
    };
    const earlier = byId.get(id);
    if (earlier === undefined) {
      byId.set(id, state);
    } else {
      warnings.note('installation id appears more than once; the worst state of its copies is kept', id);
      byId.set(id, mergeDuplicate(earlier, state));
    }
  }
  return { ok: true, installations: [...byId.values()], warnings: warnings.list() };
}

/**
 * Parses the body of `GET /projects/{p}/integrations` (an array of spec `Integration`) into integration ids.
 * A body that is not a list, or an item without a string id, fails the whole
 * list. An id that is not well-formed UTF-16 is skipped and its index returned
 * in `skipped`: it can never be polled (it cannot go into a URL), and failing
 * the list for it would leave every other integration unpolled.
 */
export function parseIntegrationList(body: unknown): { ok: true; ids: readonly string[]; skipped: readonly number[] } | { ok: false; error: string } {
  if (!Array.isArray(body)) return { ok: false, error: 'expected a JSON array of integrations' };
  const ids: string[] = [];
  const skipped: number[] = [];
  for (const [index, item] of body.entries()) {
    const id = unchecked<ApiIntegration>(item)?.id;
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) {
      return { ok: false, error: `integrations[${index}].id must be a non-empty string` };
    }
    if (isWellFormedText(id)) ids.push(id);
    else skipped.push(index);
  }
  return { ok: true, ids: [...new Set(ids)], skipped };
}
