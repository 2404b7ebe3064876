/**
 * The stored state of one integration between polls. It keeps per installation
 * only what the diff, the alert policy and the messages need, and it is
 * encoded compactly (one array of values per installation, with a format
 * version and the field names once) because it is written to Redis after
 * every successful poll.
 */
import { UNKNOWN_OPERATION_STATUS } from './installation.js';

export interface InstallationRecord {
  readonly healthStatus: string;
  readonly lastOperationStatus: string;
  /**
   * The last operation status that was not `in_progress`. Alerting looks at this
   * one, so that `in_progress` stays transparent: failure → in_progress → success
   * is one recovery, success → in_progress → failure one failure.
   */
  readonly settledOperationStatus: string;
  readonly connectionStatus: string;
  readonly groupRef: string;
  readonly groupName: string;
  readonly provider: string;
  /**
   * Since when the installation has been in its current state (health, settled
   * operation status, connection status), for the "since when" of the CLI and the
   * status page. `exact` is false when that is only when this monitor first saw it
   * in that state (a baseline, or a snapshot written before this field existed):
   * the state began then or earlier. Undefined when unknown.
   */
  readonly since?: StateSince;
}

export interface StateSince {
  /** Epoch ms. */
  readonly ms: number;
  /** True when the change was seen (between two polls); false when it is the first sighting. */
  readonly exact: boolean;
}

export type Snapshot = ReadonlyMap<string, InstallationRecord>;

/**
 * The stored format. v2 is a JSON object with a format version, the field list
 * and one array of values per installation, in the order of that list:
 *
 *   { "v": 2, "fields": ["health_status", …], "installations": { "<id>": ["healthy", …] } }
 *
 * Named fields rather than a fixed tuple, so that a field can be added without
 * a new format version and without a re-baseline: a writer appends its name to
 * `fields`; a reader ignores names it does not know, and their values (a rollback
 * to a v2 reader reads a newer v2 snapshot) and gives a field it knows but does not find a default chosen
 * when the field is added. Values stay positional per installation because the
 * snapshot is written after every poll: the names are stored once, not per
 * installation. v1 (the release before) was `{ "<id>": [7 strings] }` with
 * the fields in V1_FIELDS order and no version; it is still read. The v1
 * reader cannot read v2: a replica of the release before, still polling
 * during a rolling upgrade, re-baselines what a new one wrote (README,
 * "Upgrading").
 */
export const SNAPSHOT_FORMAT_VERSION = 2;

type StoredField = 'health_status' | 'last_operation_status' | 'settled_operation_status' | 'connection_status' | 'group_ref' | 'group_name' | 'provider';

type StringKey = { [K in keyof InstallationRecord]-?: InstallationRecord[K] extends string ? K : never }[keyof InstallationRecord];

const RECORD_KEYS: Readonly<Record<StoredField, StringKey>> = {
  health_status: 'healthStatus',
  last_operation_status: 'lastOperationStatus',
  settled_operation_status: 'settledOperationStatus',
  connection_status: 'connectionStatus',
  group_ref: 'groupRef',
  group_name: 'groupName',
  provider: 'provider',
};

/**
 * Fields added within v2, each with its default for a snapshot written before
 * it existed: `state_since` (epoch ms as a decimal string, '' when unknown) and
 * `state_since_exact` ('1' or '0').
 */
type OptionalField = 'state_since' | 'state_since_exact';
const OPTIONAL_FIELDS: readonly OptionalField[] = ['state_since', 'state_since_exact'];

/** The fields v2 writes, in order; also the order of v1's 7-tuple. */
const V1_FIELDS: readonly StoredField[] = [
  'health_status',
  'last_operation_status',
  'settled_operation_status',
  'connection_status',
  'group_ref',
  'group_name',
  'provider',
];
const WRITTEN_FIELDS: readonly (StoredField | OptionalField)[] = [...V1_FIELDS, ...OPTIONAL_FIELDS];

function encodeSince(since: StateSince | undefined): [string, string] {
  return since === undefined ? ['', '0'] : [String(since.ms), since.exact ? '1' : '0'];
}

/** A stored `state_since` pair; undefined for '' or anything that is not a plausible epoch ms. */
function decodeSince(ms: unknown, exact: unknown): StateSince | undefined {
  if (typeof ms !== 'string' || !/^\d{1,15}$/.test(ms)) return undefined;
  return { ms: Number(ms), exact: exact === '1' };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Encodes a snapshot in the current format (v2). */
export function encodeSnapshot(snapshot: Snapshot): string {
  // No prototype: an installation id such as "__proto__" must be an ordinary key.
  const installations = Object.create(null) as Record<string, string[]>;
  for (const [id, record] of snapshot) installations[id] = [...V1_FIELDS.map((f) => record[RECORD_KEYS[f]]), ...encodeSince(record.since)];
  return JSON.stringify({ v: SNAPSHOT_FORMAT_VERSION, fields: WRITTEN_FIELDS, installations });
}

/**
 * Reads installations stored as arrays of values in the order of `fields`.
 * Undefined when a known field's value is not a string, an array is not as
 * long as the field list, or one of the seven v1 fields is missing. The
 * optional fields default to unknown when missing or unreadable (a bad
 * `state_since` loses only the "since when", not the snapshot). Values of fields
 * it does not know are ignored, whatever their type.
 */
function* decodeRows(fields: readonly string[], installations: Record<string, unknown>, every: number): Generator<void, Snapshot | undefined, void> {
  const at = new Map<StoredField, number>();
  const optionalAt = new Map<OptionalField, number>();
  fields.forEach((name, i) => {
    if (Object.hasOwn(RECORD_KEYS, name) && !at.has(name as StoredField)) at.set(name as StoredField, i);
    if ((OPTIONAL_FIELDS as readonly string[]).includes(name) && !optionalAt.has(name as OptionalField)) optionalAt.set(name as OptionalField, i);
  });
  if (V1_FIELDS.some((f) => !at.has(f))) return undefined;
  // Positions looked up once, not per row: a snapshot may hold 100,000 installations.
  const position = (f: StoredField): number => at.get(f) ?? -1;
  const required = [...at.values()];
  const [health, operation, settled, connection, groupRef, groupName, provider] = V1_FIELDS.map(position) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const sinceAt = optionalAt.get('state_since');
  const exactAt = optionalAt.get('state_since_exact');
  const snapshot = new Map<string, InstallationRecord>();
  let n = 0;
  for (const id in installations) {
    if (++n % every === 0) yield;
    const row = installations[id];
    // Only the fields this code knows are checked: a field added by a later release may hold any JSON value.
    if (!Array.isArray(row) || row.length !== fields.length) return undefined;
    for (const i of required) if (typeof row[i] !== 'string') return undefined;
    const cells = row as string[];
    const since = decodeSince(sinceAt === undefined ? undefined : row[sinceAt], exactAt === undefined ? undefined : row[exactAt]);
    const record: InstallationRecord = {
      healthStatus: cells[health] ?? '',
      lastOperationStatus: cells[operation] ?? '',
      settledOperationStatus: cells[settled] ?? '',
      connectionStatus: cells[connection] ?? '',
      groupRef: cells[groupRef] ?? '',
      groupName: cells[groupName] ?? '',
      provider: cells[provider] ?? '',
    };
    snapshot.set(id, since === undefined ? record : { ...record, since });
  }
  return snapshot;
}

/**
 * Decodes a stored snapshot, v2 or v1 (upgraded in memory to the same
 * content, so an upgrade sees no transition). Returns undefined for anything
 * it cannot read, an unknown format version included (then a new baseline
 * starts).
 */
export function decodeSnapshot(raw: string): Snapshot | undefined {
  const steps = decodeSnapshotSteps(raw);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * decodeSnapshot in steps: the generator yields after every `every`
 * installations and returns what decodeSnapshot returns, so that a caller
 * decoding 100,000 installations can give the event loop a turn between steps.
 * (The JSON.parse of the whole text is one step.)
 */
export function* decodeSnapshotSteps(raw: string, every = 1000): Generator<void, Snapshot | undefined, void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  // v1 has no "v"; an installation called "v" holds an array there, never a number.
  const version = parsed['v'];
  if (typeof version === 'number') {
    if (version !== SNAPSHOT_FORMAT_VERSION) return undefined;
    const { fields, installations } = parsed;
    if (!isStringList(fields) || !isObject(installations)) return undefined;
    return yield* decodeRows(fields, installations, every);
  }
  return yield* decodeRows(V1_FIELDS, parsed, every);
}

export const isSettled = (status: string): boolean => status !== 'in_progress';

/** The settled status a new record carries, given the one before (if any). */
export function nextSettledStatus(previousSettled: string | undefined, current: string): string {
  if (isSettled(current)) return current;
  return previousSettled ?? UNKNOWN_OPERATION_STATUS;
}

const sameSince = (a: StateSince | undefined, b: StateSince | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.ms === b.ms && a.exact === b.exact);

/**
 * Whether two snapshots hold the same records, whatever their order: what
 * encodeSnapshot would store for one decodes to the other. Cheaper than
 * encoding both and comparing digests (no string is built), so an unchanged
 * poll need not encode its snapshot at all.
 */
export function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [id, x] of a) {
    const y = b.get(id);
    if (y === undefined) return false;
    if (x === y) continue;
    if (
      x.healthStatus !== y.healthStatus ||
      x.lastOperationStatus !== y.lastOperationStatus ||
      x.settledOperationStatus !== y.settledOperationStatus ||
      x.connectionStatus !== y.connectionStatus ||
      x.groupRef !== y.groupRef ||
      x.groupName !== y.groupName ||
      x.provider !== y.provider ||
      !sameSince(x.since, y.since)
    )
      return false;
  }
  return true;
}
