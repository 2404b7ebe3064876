/**
 * The stored state of one integration between polls. It keeps per installation
 * only what the diff, the alert policy and the messages need, and it is
 * encoded compactly (one array per installation) because it is written to
 * Redis after every successful poll.
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
}

export type Snapshot = ReadonlyMap<string, InstallationRecord>;

type Encoded = [string, string, string, string, string, string, string];

export function encodeSnapshot(snapshot: Snapshot): string {
  // No prototype: an installation id such as "__proto__" must be an ordinary key.
  const out = Object.create(null) as Record<string, Encoded>;
  for (const [id, r] of snapshot) {
    out[id] = [r.healthStatus, r.lastOperationStatus, r.settledOperationStatus, r.connectionStatus, r.groupRef, r.groupName, r.provider];
  }
  return JSON.stringify(out);
}

/** Decodes a stored snapshot; returns undefined for anything it cannot read (then a new baseline starts). */
export function decodeSnapshot(raw: string): Snapshot | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const snapshot = new Map<string, InstallationRecord>();
  for (const [id, value] of Object.entries(parsed)) {
    if (!Array.isArray(value) || value.length !== 7 || !value.every((v) => typeof v === 'string')) return undefined;
    const [healthStatus, lastOperationStatus, settledOperationStatus, connectionStatus, groupRef, groupName, provider] = value as Encoded;
    snapshot.set(id, { healthStatus, lastOperationStatus, settledOperationStatus, connectionStatus, groupRef, groupName, provider });
  }
  return snapshot;
}

export const isSettled = (status: string): boolean => status !== 'in_progress';

/** The settled status a new record carries, given the one before (if any). */
export function nextSettledStatus(previousSettled: string | undefined, current: string): string {
  if (isSettled(current)) return current;
  return previousSettled ?? UNKNOWN_OPERATION_STATUS;
}
