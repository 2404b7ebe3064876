/**
 * The alerts queue's processor with plain job objects: a recording rateLimit
 * and recording deliveries, no Redis.
 */
import { RateLimitError } from 'bullmq';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeliverOutcome } from '../../jobs/deliver-notification.js';
import { InvalidJobDataError } from '../../src/runtime/invalid-job-data-error.js';
import { rateLimitHoldMs, routeDeliverJob } from '../../src/runtime/job-router.js';
import { captureLogs, type CapturedLogs } from '../helpers/logger.js';

let holds: number[];
let delivered: string[];
let logs: CapturedLogs;

beforeEach(() => {
  holds = [];
  delivered = [];
  logs = captureLogs();
});

/** The processor, with deliveries that answer `outcome`. */
function processor(outcome: DeliverOutcome) {
  return routeDeliverJob(
    async (data, jobId) => {
      delivered.push(`${data.entryId} ${jobId}`);
      return outcome;
    },
    async (ms) => {
      holds.push(ms);
    },
    logs.logger,
  );
}

describe('routeDeliverJob', () => {
  it.each<[string, number, number]>([
    ['Retry-After 0 (or a past HTTP date)', 0, 1000],
    ['a wait under a second', 1, 1000],
    ['a wait in seconds', 7000, 7000],
    ['a fraction of a millisecond', 1500.2, 1501],
    ['a bogus day-long wait', 86_400_000, 300_000],
    ['a wait Redis cannot store', 1e23, 300_000],
    ['no number at all', Number.NaN, 1000],
  ])('holds the queue for %s (%d ms) for %d ms, then hands the job back to BullMQ', async (_name, retryAfterMs, hold) => {
    await expect(processor({ status: 'rate_limited', retryAfterMs })({ id: 'deliver.e1', data: { entryId: 'e1' } })).rejects.toBeInstanceOf(RateLimitError);
    expect(holds).toEqual([hold]);
  });

  it('delivers the entry its data and id name, without a warning', async () => {
    expect(await processor({ status: 'sent' })({ id: 'deliver.e1', data: { entryId: 'e1' } })).toEqual({ status: 'sent' });
    expect(delivered).toEqual(['e1 deliver.e1']);
    expect(holds).toEqual([]);
    expect(logs.lines()).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['bad data', { entryId: 7 }, 'deliver job data: entryId must be a non-empty string, got number; delivering entry e1, named by the job id'],
    ['no data', null, 'deliver job data must be an object, got null; delivering entry e1, named by the job id'],
    ['data naming another entry', { entryId: 'e0' }, 'deliver job data: entryId names entry "e0", not the job id\'s; delivering entry e1, named by the job id'],
  ])('delivers the entry the job id names despite %s, with a warning naming the field', async (_name, data, warning) => {
    expect(await processor({ status: 'sent' })({ id: 'deliver.e1', data })).toEqual({ status: 'sent' });
    expect(delivered).toEqual(['e1 deliver.e1']);
    expect(logs.lines()).toEqual([expect.objectContaining({ level: 'warn', jobId: 'deliver.e1', entryId: 'e1', msg: warning })]);
  });

  it('refuses bad data for good when the job id names no entry', async () => {
    const run = processor({ status: 'sent' })({ id: '42', data: { entryId: 7 } });
    await expect(run).rejects.toBeInstanceOf(InvalidJobDataError);
    await expect(run).rejects.toThrow('deliver job data: entryId must be a non-empty string, got number');
    expect(delivered).toEqual([]);
  });

  it('delivers the entry the data names when the job id names none (a job added by hand)', async () => {
    expect(await processor({ status: 'sent' })({ id: '42', data: { entryId: 'e1' } })).toEqual({ status: 'sent' });
    expect(delivered).toEqual(['e1 42']);
  });
});

describe('rateLimitHoldMs', () => {
  it('keeps a wait between 1 s and 5 min as it is', () => {
    expect([1000, 2000, 300_000].map(rateLimitHoldMs)).toEqual([1000, 2000, 300_000]);
  });
});
