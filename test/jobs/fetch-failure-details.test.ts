/**
 * The failure details fetcher, with the scripted Ampersand client, a fixed
 * clock and a timeout that the test aborts by hand: no HTTP, no waits. Each
 * case asserts what it returns, which requests it made, and what it logged.
 */
import { describe, expect, it } from 'vitest';
import { createFailureDetailsFetcher, type FailureDetailsFetcherDeps } from '../../jobs/fetch-failure-details.js';
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import { buildLog, buildOperation, buildReadOperation } from '../../src/simulator/fixtures.js';
import { createFakeAmpersandClient, fakeProjects, type ScriptedAnswer } from '../fakes/fake-ampersand-client.js';
import { createFixedClock } from '../fakes/fixed-clock.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';

const INST = installationSpec('inst-1', { integrationId: 'int-1' });
const T0 = Date.parse('2026-03-01T12:00:00Z');
const REQUEST = { cycleId: 'c1', projectId: 'proj-1', integrationId: 'int-1', installationId: 'inst-1' };

/** A read of inst-1 with `status`, `minutesAgo` before T0, and its fixture log. */
const read = (id: string, status: string, minutesAgo: number) => buildReadOperation(INST, id, status, new Date(T0 - minutesAgo * 60_000));
const page = (ops: ReturnType<typeof read>[], nextPageToken?: string): ScriptedAnswer => ({
  body: {
    results: ops.map((op) => buildOperation(INST, op)),
    pagination: nextPageToken === undefined ? { done: true } : { done: false, nextPageToken },
  },
});
const logsOf = (op: ReturnType<typeof read>): ScriptedAnswer => ({ body: op.logs.map((l) => buildLog(op.id, l)) });
const SALESFORCE_ERROR = 'Read of account failed: INVALID_SESSION_ID: Session expired or invalid';

function setup(options: Partial<FailureDetailsFetcherDeps> = {}) {
  const ampersand = createFakeAmpersandClient();
  const logs = captureLogs();
  const clock = createFixedClock('2026-03-01T12:00:00Z');
  const timeouts: { ms: number; controller: AbortController }[] = [];
  const fetcher = createFailureDetailsFetcher({
    ampersand: fakeProjects({ 'proj-1': ampersand }),
    logger: logs.logger,
    now: clock.now,
    timeoutSignal: (ms) => {
      const controller = new AbortController();
      timeouts.push({ ms, controller });
      return controller.signal;
    },
    ...options,
  });
  /** Aborts the timeout of the look-up in flight as its timer would. */
  const expire = (): void => timeouts.at(-1)?.controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
  const levels = (level: string): string[] => logs.lines().flatMap((l) => (l['level'] === level ? [String(l['msg'])] : []));
  const warnLines = (): Record<string, unknown>[] => logs.lines().filter((l) => l['level'] === 'warn');
  return { ampersand, fetcher, timeouts, expire, warns: () => levels('warn'), warnLines, infos: () => levels('info') };
}

describe('createFailureDetailsFetcher', () => {
  describe('when the newest failure is on the first page', () => {
    it('returns its id, result, first error lines and time, from one page and its log', async () => {
      const t = setup();
      const failed = read('op-3', 'failure', 1);
      t.ampersand.scriptOperations('inst-1', page([read('op-4', 'in_progress', 0), failed, read('op-2', 'success', 15)], 'next'));
      t.ampersand.scriptLogs('op-3', logsOf(failed));
      expect(await t.fetcher.fetch(REQUEST)).toEqual({
        operationId: 'op-3',
        actionType: 'read',
        result: '[account] Read failed',
        errorLines: ['Provider error, retrying (attempt 1 of 2): INVALID_SESSION_ID: Session expired or invalid', SALESFORCE_ERROR],
        omittedErrorLines: 0,
        time: '2026-03-01T11:59:00.000Z',
      });
      expect(t.ampersand.calls).toEqual(['operations int-1/inst-1 pageSize=50 pageToken=-', 'logs op-3']);
      expect(t.timeouts.map((x) => x.ms)).toEqual([10_000]);
      expect(t.warns()).toEqual([]);
    });

    it('picks the newest failure by createTime, not by its place in the page', async () => {
      const t = setup();
      const newest = read('op-new', 'failure', 1);
      t.ampersand.scriptOperations('inst-1', page([read('op-old', 'failure', 30), newest]));
      t.ampersand.scriptLogs('op-new', logsOf(newest));
      expect(await t.fetcher.fetch(REQUEST)).toMatchObject({ operationId: 'op-new' });
    });
  });

  describe('when the first pages hold no failure', () => {
    it('follows nextPageToken until a page has one', async () => {
      const t = setup({ pageSize: 2 });
      const failed = read('op-1', 'failure', 45);
      t.ampersand.scriptOperations('inst-1', page([read('op-3', 'success', 0), read('op-2', 'success', 15)], 'tok-2'), page([failed]));
      t.ampersand.scriptLogs('op-1', logsOf(failed));
      expect(await t.fetcher.fetch(REQUEST)).toMatchObject({ operationId: 'op-1', errorLines: [expect.any(String), SALESFORCE_ERROR] });
      expect(t.ampersand.calls).toEqual(['operations int-1/inst-1 pageSize=2 pageToken=-', 'operations int-1/inst-1 pageSize=2 pageToken=tok-2', 'logs op-1']);
    });

    it('reads at most maxPages pages, then gives up without a warning', async () => {
      const t = setup({ maxPages: 2 });
      t.ampersand.scriptOperations(
        'inst-1',
        page([read('a', 'success', 0)], 'tok-2'),
        page([read('b', 'success', 15)], 'tok-3'),
        page([read('c', 'failure', 30)]),
      );
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(t.ampersand.calls).toHaveLength(2);
      expect(t.infos()).toEqual(['no failed operation among the 2 newest operations (2 page(s) read); the alert goes without failure details']);
      expect(t.warns()).toEqual([]);
    });

    it('stops at the last page', async () => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', page([read('a', 'success', 0)]));
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(t.ampersand.calls).toHaveLength(1);
      expect(t.infos()).toEqual(['no failed operation among the 1 newest operations; the alert goes without failure details']);
    });

    it('stops when a page token comes back, rather than loop', async () => {
      const t = setup({ maxPages: 10 });
      t.ampersand.scriptOperations('inst-1', page([read('a', 'success', 0)], 'same'));
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(t.ampersand.calls).toHaveLength(2);
      expect(t.infos()[0]).toBe('operations page 2 gave a page token already followed; stopping there');
    });
  });

  describe('with a budget per cycle', () => {
    it('starts at most perCycle look-ups in a cycle, failed ones included, and says once that the budget is spent', async () => {
      const t = setup({ perCycle: 2 });
      t.ampersand.scriptOperations('inst-1', { error: new AmpersandApiError('GET …/operations: HTTP 503 server_error', 'server_error', 503) }, page([]));
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(t.fetcher.remaining('c1')).toBe(0);
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(await t.fetcher.fetch({ ...REQUEST, installationId: 'inst-2' })).toBeUndefined();
      expect(t.ampersand.calls).toHaveLength(2);
      expect(t.infos().filter((m) => m.includes('spent'))).toEqual([
        'failure details: the 2 look-up(s) of cycle c1 are spent; later alerts of this cycle go without details',
      ]);
    });

    it('gives the next cycle a budget of its own', async () => {
      const t = setup({ perCycle: 1 });
      t.ampersand.scriptOperations('inst-1', page([]));
      await t.fetcher.fetch(REQUEST);
      expect(t.fetcher.remaining('c1')).toBe(0);
      expect(t.fetcher.remaining('c2')).toBe(1);
      await t.fetcher.fetch({ ...REQUEST, cycleId: 'c2' });
      expect(t.ampersand.calls).toHaveLength(2);
    });

    it('keeps the budget of a cycle whose look-ups run at the same time', async () => {
      const t = setup({ perCycle: 3 });
      t.ampersand.scriptOperations('inst-1', page([]));
      await Promise.all(Array.from({ length: 10 }, () => t.fetcher.fetch(REQUEST)));
      expect(t.ampersand.calls).toHaveLength(3);
    });

    it('looks nothing up with a budget of 0', async () => {
      const t = setup({ perCycle: 0 });
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(t.ampersand.calls).toEqual([]);
    });
  });

  describe('when a look-up takes too long', () => {
    it('gives up on the operations at the timeout, with one warn line', async () => {
      const t = setup({ timeoutMs: 2500 });
      t.ampersand.scriptOperations('inst-1', { hang: true });
      const pending = t.fetcher.fetch(REQUEST);
      await Promise.resolve();
      t.expire();
      expect(await pending).toBeUndefined();
      expect(t.timeouts.map((x) => x.ms)).toEqual([2500]);
      expect(t.warns()).toEqual(['failure details of installation inst-1 not fetched (no answer within 2500 ms); the alert goes without them']);
    });

    it('returns at the timeout even when the client ignores the signal', async () => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', { run: () => new Promise(() => undefined) });
      const pending = t.fetcher.fetch(REQUEST);
      t.expire();
      expect(await pending).toBeUndefined();
      expect(t.warns()).toHaveLength(1);
    });

    it('keeps the failed operation when only its log times out', async () => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', page([read('op-3', 'failure', 1)]));
      t.ampersand.scriptLogs('op-3', { hang: true });
      const pending = t.fetcher.fetch(REQUEST);
      await waitForCall(t.ampersand.calls, 'logs op-3');
      t.expire();
      expect(await pending).toEqual({
        operationId: 'op-3',
        actionType: 'read',
        result: '[account] Read failed',
        errorLines: [],
        omittedErrorLines: 0,
        time: '2026-03-01T11:59:00.000Z',
      });
      expect(t.warns()).toEqual([
        'failure details of installation inst-1: the log of operation op-3 could not be read (no answer within 10000 ms); sent without its error lines',
      ]);
    });

    it("stops when the caller's signal aborts", async () => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', { hang: true });
      const controller = new AbortController();
      const pending = t.fetcher.fetch(REQUEST, controller.signal);
      controller.abort();
      expect(await pending).toBeUndefined();
      expect(t.warns()).toEqual(['failure details of installation inst-1 not fetched (cancelled); the alert goes without them']);
    });
  });

  describe('when the API fails', () => {
    it.each<[string, Error, string]>([
      ['a 503', new AmpersandApiError('GET /projects/p/…/operations: HTTP 503 server_error — Busy', 'server_error', 503), 'server_error'],
      [
        'a 404',
        new AmpersandApiError('GET /projects/p/…/operations: HTTP 404 not_found — the installation may have been removed', 'not_found', 404),
        'not_found',
      ],
      ['a bug', new TypeError('boom'), 'internal_error'],
    ])('returns nothing for %s on the operations, with one warn line, and never throws', async (_name, error, reason) => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', { error });
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(t.warns()).toEqual([`failure details of installation inst-1 not fetched (${error.message}); the alert goes without them`]);
      expect(t.warnLines()[0]).toMatchObject({ reason, integrationId: 'int-1', installationId: 'inst-1', cycleId: 'c1' });
    });

    it('keeps the failed operation when its log is a 404', async () => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', page([read('op-3', 'failure', 1)]));
      t.ampersand.scriptLogs('op-3', { error: new AmpersandApiError('GET /projects/p/operations/op-3/logs: HTTP 404 not_found', 'not_found', 404) });
      expect(await t.fetcher.fetch(REQUEST)).toMatchObject({ operationId: 'op-3', errorLines: [] });
      expect(t.warns()).toHaveLength(1);
    });

    it('returns nothing for an operations body it cannot use', async () => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', { body: '<html>' });
      expect(await t.fetcher.fetch(REQUEST)).toBeUndefined();
      expect(t.warns()).toEqual([
        'failure details of installation inst-1 not fetched (operations page 1 cannot be used: expected a JSON object with results and pagination, got string); the alert goes without them',
      ]);
    });

    it('keeps the failed operation when its log body cannot be used', async () => {
      const t = setup();
      t.ampersand.scriptOperations('inst-1', page([read('op-3', 'failure', 1)]));
      t.ampersand.scriptLogs('op-3', { body: { logs: [] } });
      expect(await t.fetcher.fetch(REQUEST)).toMatchObject({ operationId: 'op-3', errorLines: [] });
      expect(t.warns()).toEqual([
        'failure details of installation inst-1: the log of operation op-3 could not be read (logs of operation op-3 cannot be used: expected a JSON array of log lines, got object); sent without its error lines',
      ]);
    });

    it('logs the oddities of a usable page at info, not as a failure', async () => {
      const t = setup();
      const failed = read('op-3', 'failure', 1);
      t.ampersand.scriptOperations('inst-1', { body: { results: ['junk', buildOperation(INST, failed)], pagination: { done: true } } });
      t.ampersand.scriptLogs('op-3', logsOf(failed));
      expect(await t.fetcher.fetch(REQUEST)).toMatchObject({ operationId: 'op-3' });
      expect(t.infos()).toEqual(['operations page 1: kept as is: an operation is string, not an object; skipped on 1 item(s) (e.g. results[0])']);
      expect(t.warns()).toEqual([]);
    });
  });

  it.each<[string, Partial<FailureDetailsFetcherDeps>]>([
    ['a negative budget', { perCycle: -1 }],
    ['a page size over 1000', { pageSize: 1001 }],
    ['no pages', { maxPages: 0 }],
    ['a fractional timeout', { timeoutMs: 1.5 }],
  ])('refuses %s when it is made', (_name, options) => {
    expect(() => setup(options)).toThrow(RangeError);
  });

  describe('with several projects', () => {
    it("reads the operations and logs in the installation's project", async () => {
      const other = createFakeAmpersandClient();
      const t = setup({ ampersand: fakeProjects({ 'proj-1': createFakeAmpersandClient(), 'proj-2': other }) });
      const failed = read('op-9', 'failure', 1);
      other.scriptOperations('inst-1', page([failed]));
      other.scriptLogs('op-9', logsOf(failed));
      expect(await t.fetcher.fetch({ ...REQUEST, projectId: 'proj-2' })).toMatchObject({ operationId: 'op-9' });
      expect(other.calls).toEqual(['operations int-1/inst-1 pageSize=50 pageToken=-', 'logs op-9']);
    });

    it('gives none for a project that is not watched, and spends no look-up on it', async () => {
      const t = setup({ perCycle: 1 });
      expect(await t.fetcher.fetch({ ...REQUEST, projectId: 'gone' })).toBeUndefined();
      expect(t.fetcher.remaining('c1')).toBe(1);
      expect(t.warns()).toEqual(['failure details: project gone is not watched; the alert goes without them']);
    });
  });
});

/** Waits, a microtask at a time (no timers), until the fake client has recorded `call`. */
async function waitForCall(calls: readonly string[], call: string): Promise<void> {
  for (let i = 0; i < 100 && !calls.includes(call); i += 1) await Promise.resolve();
  if (!calls.includes(call)) throw new Error(`${call} was never made; calls: ${calls.join(', ')}`);
}
