/**
 * Job data comes back from Redis as whatever JSON is stored there (an older
 * release, a manual `add`, a corrupt entry): it is checked here, at the job's
 * entry, rather than cast. A bad payload fails the job with an
 * InvalidJobDataError (an UnrecoverableError) naming the field, since no retry can mend it.
 */
import type { DeliverJobData } from '../../jobs/deliver-notification.js';
import type { PollJobData } from '../../jobs/poll-integration.js';
import { InvalidJobDataError } from './invalid-job-data-error.js';

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : value === '' ? 'an empty string' : typeof value);

function objectOf(job: string, data: unknown): Readonly<Record<string, unknown>> {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new InvalidJobDataError(`${job} job data must be an object, got ${describe(data)}`);
  return data as Readonly<Record<string, unknown>>;
}

function nonEmptyString(job: string, data: Readonly<Record<string, unknown>>, field: string): string {
  const value = data[field];
  if (typeof value !== 'string' || value === '') throw new InvalidJobDataError(`${job} job data: ${field} must be a non-empty string, got ${describe(value)}`);
  return value;
}

/** The data of a `poll` job, or an InvalidJobDataError naming the bad field. Other fields are ignored. */
export function parsePollJobData(data: unknown): PollJobData {
  const fields = objectOf('poll', data);
  return { integrationId: nonEmptyString('poll', fields, 'integrationId'), cycleId: nonEmptyString('poll', fields, 'cycleId') };
}

/** The data of a `deliver` job, or an InvalidJobDataError naming the bad field. Other fields are ignored. */
export function parseDeliverJobData(data: unknown): DeliverJobData {
  return { entryId: nonEmptyString('deliver', objectOf('deliver', data), 'entryId') };
}
