/**
 * What a route, a silence or a maintenance window is matched against: the
 * identity of one installation's alerts. A match names any subset of these
 * fields; each one it names must equal the subject's value exactly (case
 * matters, as Ampersand's ids and provider names are compared as stored), and
 * a match that names none matches every subject.
 */
import type { InstallationRecord } from './snapshot.js';

export interface AlertSubject {
  readonly installationId: string;
  readonly groupRef: string;
  readonly integrationId: string;
  readonly projectId: string;
  readonly provider: string;
}

/** The fields a match may name, in the order errors and docs list them. */
export const SUBJECT_FIELDS = ['projectId', 'integrationId', 'installationId', 'groupRef', 'provider'] as const satisfies readonly (keyof AlertSubject)[];
export type SubjectField = (typeof SUBJECT_FIELDS)[number];

/** Any subset of the subject's fields; `{}` matches everything. */
export type SubjectMatch = Readonly<Partial<Record<SubjectField, string>>>;

/** True when every field the match names equals the subject's value. */
export function matchesSubject(match: SubjectMatch, subject: AlertSubject): boolean {
  return SUBJECT_FIELDS.every((field) => {
    const wanted = match[field];
    return wanted === undefined || wanted === subject[field];
  });
}

/** The subject of an installation's alerts, from its stored record and the integration it was listed under. */
export function alertSubject(
  installationId: string,
  record: Pick<InstallationRecord, 'groupRef' | 'provider'>,
  integrationId: string,
  projectId: string,
): AlertSubject {
  return { installationId, groupRef: record.groupRef, integrationId, projectId, provider: record.provider };
}
