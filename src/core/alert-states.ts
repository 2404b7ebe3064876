/**
 * The stored alert states of one integration's installations (alert-state.ts),
 * and how the state of the release before, which kept none, is upgraded.
 *
 * The format is written after every poll, so it is compact: only conditions
 * that are not ok are stored, and an installation with all three ok has no
 * entry at all. The condition names are stored once; each installation has
 * one slot per name, null for ok, else an array whose first value is the
 * status:
 *
 *   { "v": 1, "conditions": ["unhealthy", "operation_failing", "bad_credentials"],
 *     "installations": { "<id>": [["firing", since, firedAt, notifiedAt], null, ["pending", since, 1]] } }
 *
 *   ["pending",   since, badPolls]
 *   ["firing",    since | null, firedAt, notifiedAt | null]
 *   ["resolving", since | null, firedAt, notifiedAt | null, goodSince, goodPolls]
 *
 * (times in epoch ms). Read leniently, like snapshot.ts: a condition name this
 * reader does not know is ignored with its slots (a later release added it),
 * values after the ones this reader knows are ignored (a later release
 * appended one), and so are fields other than these three.
 *
 * What cannot be read falls back to what the snapshot says, as an upgrade
 * does (initialAlertStates): the whole state when it is absent, not JSON, of
 * an unknown format version or without one of the conditions this reader
 * knows; one condition of one installation when its slot cannot be read (an
 * unknown status, a value of the wrong type, a row of the wrong length). So a bad or
 * rolled-back state never sends a second firing for a problem already
 * announced, and never loses a recovery.
 */
import {
  ALL_OK,
  CONDITIONS,
  OK,
  isAllOk,
  readConditions,
  type AlertState,
  type Condition,
  type ConditionReadings,
  type InstallationAlerts,
} from './alert-state.js';
import type { Snapshot } from './snapshot.js';

export type AlertStates = ReadonlyMap<string, InstallationAlerts>;

export const alertStatesFormatVersion = 1;

type Slot = readonly unknown[] | null;

function encodeState(state: AlertState): Slot {
  switch (state.status) {
    case 'ok':
      return null;
    case 'pending':
      return ['pending', state.since, state.badPolls];
    case 'firing':
      return ['firing', state.since, state.firedAt, state.notifiedAt];
    case 'resolving':
      return ['resolving', state.since, state.firedAt, state.notifiedAt, state.goodSince, state.goodPolls];
  }
}

/** Encodes the states in the current format (v1); installations with every condition ok are left out. */
export function encodeAlertStates(states: AlertStates): string {
  // No prototype: an installation id such as "__proto__" must be an ordinary key.
  const installations = Object.create(null) as Record<string, Slot[]>;
  for (const [id, alerts] of states) {
    if (!isAllOk(alerts)) installations[id] = CONDITIONS.map((c) => encodeState(alerts[c]));
  }
  return JSON.stringify({ v: alertStatesFormatVersion, conditions: CONDITIONS, installations });
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
const isTimeOrNull = (value: unknown): value is number | null => value === null || isTime(value);

/** One stored slot, or undefined when this reader cannot read it. */
function decodeState(slot: unknown): AlertState | undefined {
  if (slot === null) return OK;
  if (!Array.isArray(slot)) return undefined;
  const [status, a, b, c, d, e] = slot as unknown[];
  switch (status) {
    case 'pending':
      return isTime(a) && isCount(b) ? { status, since: a, badPolls: b } : undefined;
    case 'firing':
      return isTimeOrNull(a) && isTime(b) && isTimeOrNull(c) ? { status, since: a, firedAt: b, notifiedAt: c } : undefined;
    case 'resolving':
      return isTimeOrNull(a) && isTime(b) && isTimeOrNull(c) && isTime(d) && isCount(e)
        ? { status, since: a, firedAt: b, notifiedAt: c, goodSince: d, goodPolls: e }
        : undefined;
    default:
      return undefined;
  }
}

/**
 * The state an upgrade starts from: a condition that is bad in the stored
 * snapshot is firing, as announced at `now`, and every other one is ok. The
 * release before alerted every bad value as soon as it saw it (alert-policy.ts:
 * a change to bad, a new installation that arrived bad, a baseline summary), so
 * such a condition was announced: it must not fire again, and its recovery must
 * still be sent. When it started is not known (`since: null`); reminders count
 * from `now`. Also the state of a baseline whose summary announced what is bad.
 */
export function initialAlertStates(snapshot: Snapshot, now: Date): AlertStates {
  const t = now.getTime();
  const states = new Map<string, InstallationAlerts>();
  for (const [id, record] of snapshot) {
    const alerts = initialAlerts(readConditions(record), t);
    if (!isAllOk(alerts)) states.set(id, alerts);
  }
  return states;
}

function initialAlerts(readings: ConditionReadings, t: number): InstallationAlerts {
  const state = (c: Condition): AlertState => (readings[c] === 'bad' ? { status: 'firing', since: null, firedAt: t, notifiedAt: t } : OK);
  return { unhealthy: state('unhealthy'), operation_failing: state('operation_failing'), bad_credentials: state('bad_credentials') };
}

export interface LoadedAlertStates {
  readonly states: AlertStates;
  /**
   * `stored`: read as stored. `upgraded`: nothing was stored (the release
   * before, or a baseline), so the states come from the snapshot.
   * `unreadable`: what was stored could not be read at all (see `reason`), so
   * they come from the snapshot.
   */
  readonly source: 'stored' | 'upgraded' | 'unreadable';
  /** Why the stored states could not be read; set with `source: 'unreadable'`. */
  readonly reason?: string;
  /** Slots that could not be read and were taken from the snapshot instead (with `source: 'stored'`); 0 normally. */
  readonly unreadableSlots: number;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the stored states of an integration (`raw`, undefined when none are
 * stored) against its stored `snapshot`: whatever cannot be read is taken from
 * the snapshot as initialAlertStates would, at `now`. Entries for installations
 * the snapshot does not hold are kept: the caller resolves them
 * (forgetInstallationAlerts) when it sees they are gone.
 */
export function loadAlertStates(raw: string | undefined, snapshot: Snapshot, now: Date): LoadedAlertStates {
  if (raw === undefined) return { states: initialAlertStates(snapshot, now), source: 'upgraded', unreadableSlots: 0 };
  const unreadable = (reason: string): LoadedAlertStates => ({ states: initialAlertStates(snapshot, now), source: 'unreadable', reason, unreadableSlots: 0 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return unreadable('not JSON');
  }
  if (!isObject(parsed)) return unreadable('not a JSON object');
  if (parsed['v'] !== alertStatesFormatVersion) return unreadable(`unknown format version ${JSON.stringify(parsed['v'] ?? null)}`);
  const { conditions, installations } = parsed;
  if (!Array.isArray(conditions) || !conditions.every((c) => typeof c === 'string')) return unreadable('no list of condition names');
  if (!isObject(installations)) return unreadable('no installations object');

  const at = new Map<Condition, number>();
  conditions.forEach((name: string, i) => {
    const known = CONDITIONS.find((c) => c === name);
    if (known !== undefined && !at.has(known)) at.set(known, i);
  });
  const missing = CONDITIONS.filter((c) => !at.has(c));
  if (missing.length > 0) return unreadable(`no condition ${missing.join(', ')}`);
  const t = now.getTime();
  let unreadableSlots = 0;
  const states = new Map<string, InstallationAlerts>();
  for (const [id, slots] of Object.entries(installations)) {
    const record = snapshot.get(id);
    const fallback = record === undefined ? ALL_OK : initialAlerts(readConditions(record), t);
    const state = (c: Condition): AlertState => {
      const i = at.get(c) ?? -1;
      const decoded = Array.isArray(slots) && slots.length === conditions.length ? decodeState(slots[i]) : undefined;
      if (decoded !== undefined) return decoded;
      unreadableSlots += 1;
      return fallback[c];
    };
    const alerts: InstallationAlerts = {
      unhealthy: state('unhealthy'),
      operation_failing: state('operation_failing'),
      bad_credentials: state('bad_credentials'),
    };
    if (!isAllOk(alerts)) states.set(id, alerts);
  }
  return { states, source: 'stored', unreadableSlots };
}

/**
 * How many installations have an open alert per condition: firing, or
 * resolving (a recovery not yet confirmed by RESOLVE_AFTER_POLLS good polls is
 * still open in the channel). The "3 of 120 installations" of the messages and
 * the ampersand_alerts_firing gauge.
 */
export function firingCounts(states: AlertStates): Record<Condition, number> {
  const counts: Record<Condition, number> = { unhealthy: 0, operation_failing: 0, bad_credentials: 0 };
  for (const alerts of states.values()) {
    for (const c of CONDITIONS) if (alerts[c].status === 'firing' || alerts[c].status === 'resolving') counts[c] += 1;
  }
  return counts;
}
