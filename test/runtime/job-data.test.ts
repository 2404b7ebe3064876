/** The job data checks at the workers' entry: plain data in, a value or an unrecoverable error naming the field out. */
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { InvalidJobDataError } from '../../src/runtime/invalid-job-data-error.js';
import { parseDeliverJobData, parsePollJobData } from '../../src/runtime/job-data.js';

function failure(parse: () => unknown): InvalidJobDataError {
  try {
    parse();
  } catch (error) {
    if (error instanceof InvalidJobDataError) return error;
    throw error;
  }
  throw new Error('expected the data to be refused');
}

describe('parsePollJobData', () => {
  it('returns the integration and the cycle, and drops any other field', () => {
    expect(parsePollJobData({ integrationId: 'int-1', cycleId: 'repeat:abc:1', extra: 1 })).toEqual({ integrationId: 'int-1', cycleId: 'repeat:abc:1' });
  });

  it('returns the integration name when the cycle gave one, and drops one that is not a non-empty string rather than failing the poll', () => {
    expect(parsePollJobData({ integrationId: 'int-1', cycleId: 'c1', integrationName: 'Salesforce sync' })).toEqual({
      integrationId: 'int-1',
      cycleId: 'c1',
      integrationName: 'Salesforce sync',
    });
    for (const integrationName of ['', 7, null, { name: 'x' }]) {
      expect(parsePollJobData({ integrationId: 'int-1', cycleId: 'c1', integrationName })).toEqual({ integrationId: 'int-1', cycleId: 'c1' });
    }
  });

  it.each<[string, unknown, string]>([
    ['no integrationId', { cycleId: 'c1' }, 'poll job data: integrationId must be a non-empty string, got undefined'],
    ['an empty integrationId', { integrationId: '', cycleId: 'c1' }, 'poll job data: integrationId must be a non-empty string, got an empty string'],
    ['a numeric integrationId', { integrationId: 7, cycleId: 'c1' }, 'poll job data: integrationId must be a non-empty string, got number'],
    ['a null cycleId', { integrationId: 'int-1', cycleId: null }, 'poll job data: cycleId must be a non-empty string, got null'],
    ['an array', ['int-1', 'c1'], 'poll job data must be an object, got an array'],
    ['null', null, 'poll job data must be an object, got null'],
    ['a string', 'int-1', 'poll job data must be an object, got string'],
  ])('refuses %s with an unrecoverable error naming the field', (_name, data, message) => {
    const error = failure(() => parsePollJobData(data));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe(message);
  });
});

describe('parseDeliverJobData', () => {
  it('returns the entry id', () => {
    expect(parseDeliverJobData({ entryId: 'int-1.L.3.0' })).toEqual({ entryId: 'int-1.L.3.0' });
  });

  it.each<[string, unknown, string]>([
    ['no entryId', {}, 'deliver job data: entryId must be a non-empty string, got undefined'],
    ['an object entryId', { entryId: { id: 'x' } }, 'deliver job data: entryId must be a non-empty string, got object'],
    ['undefined', undefined, 'deliver job data must be an object, got undefined'],
  ])('refuses %s with an unrecoverable error naming the field', (_name, data, message) => {
    const error = failure(() => parseDeliverJobData(data));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe(message);
  });
});
