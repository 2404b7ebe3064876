/** Job ids built from entry ids, and read back. */
import { describe, expect, it } from 'vitest';
import { deliverJobId, entryIdOfDeliverJobId } from '../../src/runtime/job-names.js';

describe('entryIdOfDeliverJobId', () => {
  it.each(['e1', 'int-1.L.3.0', 'deliver.x', 'ü ✓'])('reads back the entry id %j that deliverJobId put in', (entryId) => {
    expect(entryIdOfDeliverJobId(deliverJobId(entryId))).toBe(entryId);
  });

  it.each<[string, string | undefined]>([
    ['no id', undefined],
    ["BullMQ's own number", '42'],
    ['the prefix alone', 'deliver.'],
    ['another prefix', 'poll.int-1'],
    ['the prefix inside', 'x.deliver.e1'],
  ])('names no entry for %s', (_name, jobId) => {
    expect(entryIdOfDeliverJobId(jobId)).toBeUndefined();
  });
});
