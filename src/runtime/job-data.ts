/**
 * Job data comes back from Redis as whatever JSON is stored there (an older
 * release, a manual `add`, a corrupt entry): it is checked here, at the job's
 * entry, rather than cast. A bad payload fails the job with an
 * InvalidJobDataError (an UnrecoverableError) naming the field, since no retry can mend it;
 * but a delivery job named after its entry delivers that entry (resolveDeliverJob).
 */
import type { DeliverJobData } from '../../jobs/deliver-notification.js';
import type { PollJobData } from '../../jobs/poll-integration.js';
import type { PollProjectJobData } from '../../jobs/poll-project.js';
import { InvalidJobDataError } from './invalid-job-data-error.js';
import { entryIdOfDeliverJobId } from './job-names.js';

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

/**
 * The data of a `poll` job, or an InvalidJobDataError naming the bad field. Other fields are ignored.
 * `integrationName` is optional (a job of the release before has none) and only shown in messages:
 * one that is not a non-empty string is dropped rather than failing the poll.
 */
export function parsePollJobData(data: unknown): PollJobData {
  const fields = objectOf('poll', data);
  const name = fields['integrationName'];
  // Absent in a job of the release before (the first watched project's then); present, it must name one.
  const projectId = fields['projectId'] === undefined ? undefined : nonEmptyString('poll', fields, 'projectId');
  return {
    integrationId: nonEmptyString('poll', fields, 'integrationId'),
    ...(projectId === undefined ? {} : { projectId }),
    cycleId: nonEmptyString('poll', fields, 'cycleId'),
    ...(typeof name === 'string' && name !== '' ? { integrationName: name } : {}),
  };
}

/**
 * The data of a `poll-project` job, or an InvalidJobDataError naming the bad field. A name that is
 * not a non-empty string is dropped (names are only shown); an integration without an id fails the job.
 */
export function parsePollProjectJobData(data: unknown): PollProjectJobData {
  const job = 'poll-project';
  const fields = objectOf(job, data);
  const list = fields['integrations'];
  if (!Array.isArray(list)) throw new InvalidJobDataError(`${job} job data: integrations must be an array, got ${describe(list)}`);
  const integrations = list.map((item: unknown, i) => {
    const entry = objectOf(`${job} integrations[${i}]`, item);
    const name = entry['name'];
    return { id: nonEmptyString(`${job} integrations[${i}]`, entry, 'id'), ...(typeof name === 'string' && name !== '' ? { name } : {}) };
  });
  return { projectId: nonEmptyString(job, fields, 'projectId'), cycleId: nonEmptyString(job, fields, 'cycleId'), integrations };
}

/** The data of a `deliver` job, or an InvalidJobDataError naming the bad field. Other fields are ignored. */
export function parseDeliverJobData(data: unknown): DeliverJobData {
  return { entryId: nonEmptyString('deliver', objectOf('deliver', data), 'entryId') };
}

/** What a `deliver` job delivers, and why its data was overridden, if it was. */
export interface ResolvedDeliverJob {
  readonly data: DeliverJobData;
  /** Set when the job's data was bad or named another entry than its id: names the field, for a warning. */
  readonly overridden?: string;
}

/**
 * The entry a `deliver` job delivers. Its id is authoritative: kick() builds
 * it from the entry id (deliverJobId), and it is the id that BullMQ dedupes
 * on. Failing a job named after the outbox head would keep that id taken
 * (removeOnFail keeps it 7 days) and every later kick of the head would be
 * ignored, stalling all alerts; so bad data under a well-formed id is
 * overridden, not fatal. Only a job whose id no kick builds (a manual add)
 * falls back to its data, and fails with an InvalidJobDataError when that is
 * bad too: such an id blocks no kick, so the outbox goes on.
 */
export function resolveDeliverJob(jobId: string | undefined, data: unknown): ResolvedDeliverJob {
  const fromId = entryIdOfDeliverJobId(jobId);
  if (fromId === undefined) return { data: parseDeliverJobData(data) };
  let fromData: DeliverJobData;
  try {
    fromData = parseDeliverJobData(data);
  } catch (error) {
    if (!(error instanceof InvalidJobDataError)) throw error;
    return { data: { entryId: fromId }, overridden: `${error.message}; delivering entry ${fromId}, named by the job id` };
  }
  if (fromData.entryId === fromId) return { data: fromData };
  return {
    data: { entryId: fromId },
    overridden: `deliver job data: entryId names entry ${JSON.stringify(fromData.entryId)}, not the job id's; delivering entry ${fromId}, named by the job id`,
  };
}
