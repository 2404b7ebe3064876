/** The job data checks at the workers' entry: plain data in, a value or an unrecoverable error naming the field out. */
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { InvalidJobDataError } from '../../src/runtime/invalid-job-data-error.js';
import { parseDeliverJobData, parsePollJobData, parsePollProjectJobData } from '../../src/runtime/job-data.js';

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
    [
      'an empty projectId',
      { integrationId: 'int-1', cycleId: 'c1', projectId: '' },
      'poll job data: projectId must be a non-empty string, got an empty string',
    ],
  ])('refuses %s with an unrecoverable error naming the field', (_name, data, message) => {
    const error = failure(() => parsePollJobData(data));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe(message);
  });
});

describe('parsePollJobData with a project', () => {
  it('returns the project the cycle named, and none for a job of the release before', () => {
    expect(parsePollJobData({ integrationId: 'int-1', projectId: 'proj-2', cycleId: 'c1' })).toEqual({
      integrationId: 'int-1',
      projectId: 'proj-2',
      cycleId: 'c1',
    });
    expect(parsePollJobData({ integrationId: 'int-1', cycleId: 'c1' })).not.toHaveProperty('projectId');
  });
});

describe('parsePollProjectJobData', () => {
  it('returns the project, the cycle and the integrations with the names that can be shown', () => {
    expect(
      parsePollProjectJobData({
        projectId: 'p',
        cycleId: 'c1',
        integrations: [
          { id: 'A', name: 'Salesforce' },
          { id: 'B', name: 7 },
          { id: 'C', name: '' },
        ],
      }),
    ).toEqual({ projectId: 'p', cycleId: 'c1', integrations: [{ id: 'A', name: 'Salesforce' }, { id: 'B' }, { id: 'C' }] });
  });

  it.each<[string, unknown, string]>([
    ['no integrations', { projectId: 'p', cycleId: 'c1' }, 'poll-project job data: integrations must be an array, got undefined'],
    [
      'an integration without an id',
      { projectId: 'p', cycleId: 'c1', integrations: [{ name: 'x' }] },
      'poll-project integrations[0] job data: id must be a non-empty string, got undefined',
    ],
    ['no projectId', { cycleId: 'c1', integrations: [] }, 'poll-project job data: projectId must be a non-empty string, got undefined'],
  ])('refuses %s with an unrecoverable error naming the field', (_name, data, message) => {
    const error = failure(() => parsePollProjectJobData(data));
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
