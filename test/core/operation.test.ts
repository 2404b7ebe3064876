import { describe, expect, it } from 'vitest';
import {
  MAX_ERROR_LINE_LENGTH,
  MAX_RESULT_LENGTH,
  failureDetails,
  latestFailedOperation,
  parseOperationLogs,
  parseOperationsPage,
  type OperationSummary,
} from '../../src/core/operation.js';
import { buildLog, buildOperation, buildReadOperation, type LogSpec } from '../../src/simulator/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { specErrors } from '../helpers/spec.js';

const inst = installationSpec('inst-1');
const T0 = new Date('2026-03-01T12:00:00.000Z');
const minutes = (n: number): Date => new Date(T0.getTime() + n * 60_000);
/** A spec Operation of inst-1, `status`, created `at` minutes after T0. */
const operation = (id: string, status: string, at: number): Record<string, unknown> => buildOperation(inst, buildReadOperation(inst, id, status, minutes(at)));
const MISSING = Symbol('missing');
const page = (results: unknown[], pagination: unknown = { done: true }): Record<string, unknown> =>
  pagination === MISSING ? { results } : { results, pagination };

function parsed(body: unknown) {
  const result = parseOperationsPage(body);
  if (!result.ok) throw new Error(result.error);
  return result;
}

describe('parseOperationsPage', () => {
  it('reads a spec-conformant page and its next page token', () => {
    const body = page([operation('op-2', 'failure', 10), operation('op-1', 'success', 0)], { done: false, nextPageToken: 'Q9JT+2qfys28V4ODN+UayA==' });
    expect(specErrors('Operation', body['results'], true)).toBe('');
    expect(specErrors('PaginationInfo', body['pagination'])).toBe('');
    expect(parsed(body)).toEqual({
      ok: true,
      operations: [
        { id: 'op-2', status: 'failure', actionType: 'read', result: '[account] Read failed', createTimeMs: minutes(10).getTime() },
        { id: 'op-1', status: 'success', actionType: 'read', result: '[account] No new data found', createTimeMs: T0.getTime() },
      ],
      nextPageToken: 'Q9JT+2qfys28V4ODN+UayA==',
      warnings: [],
    });
  });

  it.each<[string, unknown, string]>([
    ['an array', [], 'expected a JSON object with results and pagination, got array'],
    ['null', null, 'got null'],
    ['an object without results', { pagination: { done: true } }, 'expected results to be an array of operations, got undefined'],
    ['results that are an object', { results: { 'op-1': {} }, pagination: { done: true } }, 'got object'],
  ])('fails a body that is %s', (_name, body, error) => {
    expect(parseOperationsPage(body)).toEqual({ ok: false, error: expect.stringContaining(error) });
  });

  it.each<[string, unknown, string]>([
    ['a string', 'op-1', 'an operation is string, not an object; skipped'],
    ['null', null, 'an operation is null, not an object; skipped'],
    ['an object without an id', { status: 'failure' }, 'an operation has no usable id (a non-empty string that can go into a URL); skipped'],
    ['a numeric id', { id: 7, status: 'failure' }, 'an operation has no usable id (a non-empty string that can go into a URL); skipped'],
    ['a dot-dot id', { id: '..', status: 'failure' }, 'an operation has no usable id (a non-empty string that can go into a URL); skipped'],
    [
      'an id with a lone surrogate',
      { id: 'op\ud800', status: 'failure' },
      'an operation has no usable id (a non-empty string that can go into a URL); skipped',
    ],
    ['a huge id', { id: 'x'.repeat(5000), status: 'failure' }, 'an operation has no usable id (a non-empty string that can go into a URL); skipped'],
  ])('skips an operation that is %s, keeps the others, and warns', (_name, item, warning) => {
    const result = parsed(page([item, operation('op-1', 'failure', 0)]));
    expect(result.operations.map((o) => o.id)).toEqual(['op-1']);
    expect(result.warnings).toEqual([{ message: warning, count: 1, examples: ['results[0]'] }]);
  });

  it.each<[string, Record<string, unknown>, Partial<OperationSummary>, string[]]>([
    ['a numeric status', { status: 3 }, { status: '(unreadable)' }, ['operation status is number, not a string; skipped as not failed']],
    [
      'a failure without createTime',
      { createTime: undefined },
      { createTimeMs: undefined },
      ['a failed operation has no createTime that is an RFC 3339 date-time; taken as older than any dated one'],
    ],
    [
      'a createTime that Date.parse alone would take',
      { createTime: '1' },
      { createTimeMs: undefined },
      ['a failed operation has no createTime that is an RFC 3339 date-time; taken as older than any dated one'],
    ],
    ['a numeric result', { result: 404 }, { result: undefined }, ['operation result is number, not a string; ignored']],
    ['a blank result', { result: '  ' }, { result: undefined }, []],
    [
      'a result with line breaks, controls and backticks',
      { result: 'Read failed:\n`INVALID_SESSION_ID`\u0000' },
      { result: 'Read failed: ˋINVALID_SESSION_IDˋ' },
      [],
    ],
    ['a 10,000-character result', { result: 'r'.repeat(10_000) }, { result: `${'r'.repeat(MAX_RESULT_LENGTH - 1)}…` }, []],
    [
      'a microsecond createTime with an offset',
      { createTime: '2026-03-01T13:00:00.123456+01:00' },
      { createTimeMs: Date.parse('2026-03-01T12:00:00.123Z') },
      [],
    ],
  ])('keeps a failed operation with %s', (_name, change, expected, warnings) => {
    const result = parsed(page([{ ...operation('op-1', 'failure', 0), ...change }]));
    expect(result.operations[0]).toMatchObject({ id: 'op-1', ...expected });
    expect(result.warnings.map((w) => w.message)).toEqual(warnings);
  });

  it.each<[string, unknown, string | undefined, string[]]>([
    ['done', { done: true, nextPageToken: 'ignored' }, undefined, []],
    ['not done, with a token', { done: false, nextPageToken: 't2' }, 't2', []],
    ['without done, with a token', { nextPageToken: 't2' }, 't2', []],
    ['not done, without a token', { done: false }, undefined, ['pagination is not done but has no nextPageToken; read as the last page']],
    ['missing', MISSING, undefined, ['pagination is undefined, not an object; read as the last page']],
    ['a string', 'more', undefined, ['pagination is string, not an object; read as the last page']],
    ['done as a string, without a token', { done: 'no' }, undefined, ['pagination.done is string, not a boolean; read as the last page']],
    [
      'a numeric token',
      { done: false, nextPageToken: 2 },
      undefined,
      ['pagination.nextPageToken is not a usable string (at most 4096 characters); read as the last page'],
    ],
    [
      'a 10,000-character token',
      { done: false, nextPageToken: 't'.repeat(10_000) },
      undefined,
      ['pagination.nextPageToken is not a usable string (at most 4096 characters); read as the last page'],
    ],
  ])('reads a pagination that is %s', (_name, pagination, token, warnings) => {
    const result = parsed(page([operation('op-1', 'success', 0)], pagination));
    expect(result.nextPageToken).toBe(token);
    expect(result.warnings.map((w) => w.message)).toEqual(warnings);
  });
});

describe('latestFailedOperation', () => {
  const summary = (id: string, status: string, at: number | undefined): OperationSummary => ({
    id,
    status,
    actionType: 'read',
    result: undefined,
    createTimeMs: at === undefined ? undefined : minutes(at).getTime(),
  });

  it('picks the newest failure by createTime, whatever the order of the page', () => {
    const ops = [summary('old', 'failure', 0), summary('newest-success', 'success', 30), summary('new', 'failure', 20), summary('mid', 'failure', 10)];
    for (const order of [ops, ops.toReversed(), [ops[2]!, ops[0]!, ops[3]!, ops[1]!]]) expect(latestFailedOperation(order)?.id).toBe('new');
  });

  it('takes a failure without a time as older than any dated one', () => {
    expect(latestFailedOperation([summary('undated', 'failure', undefined), summary('dated', 'failure', 0)])?.id).toBe('dated');
    expect(latestFailedOperation([summary('undated', 'failure', undefined), summary('ok', 'success', 0)])?.id).toBe('undated');
  });

  it('keeps the API order between failures of the same time', () => {
    expect(latestFailedOperation([summary('first', 'failure', 5), summary('second', 'failure', 5)])?.id).toBe('first');
  });

  it.each([
    ['no operation', []],
    ['only successes and runs in progress', [summary('a', 'success', 0), summary('b', 'in_progress', 1)]],
    ['a status that only looks like a failure', [summary('a', 'FAILURE', 0), summary('b', 'failed', 1)]],
  ])('finds none among %s', (_name, ops) => {
    expect(latestFailedOperation(ops)).toBeUndefined();
  });
});

describe('parseOperationLogs', () => {
  const log = (seconds: number, severity: string, msg: string, error?: string): LogSpec => ({
    timestamp: new Date(T0.getTime() + seconds * 1000).toISOString(),
    severity,
    msg,
    ...(error === undefined ? {} : { error }),
  });
  const logs = (...specs: LogSpec[]): unknown[] => specs.map((s) => buildLog('op-1', s));

  it('reads the error lines of the fixture failure, oldest first, without repeats', () => {
    const body = buildReadOperation(inst, 'op-1', 'failure', T0).logs.map((l) => buildLog('op-1', l));
    expect(specErrors('Log', body, true)).toBe('');
    expect(parseOperationLogs(body, 'op-1')).toEqual({
      ok: true,
      errorLines: [
        'Provider error, retrying (attempt 1 of 2): INVALID_SESSION_ID: Session expired or invalid',
        'Read of account failed: INVALID_SESSION_ID: Session expired or invalid',
      ],
      omittedErrorLines: 0,
      warnings: [],
    });
  });

  it('orders lines by timestamp, not by position, and counts what it leaves out', () => {
    const body = logs(log(9, 'ERROR', 'fourth'), log(1, 'ERROR', 'first'), log(5, 'error', 'third'), log(3, 'FATAL', 'second'), log(2, 'INFO', 'not an error'));
    expect(parseOperationLogs(body, 'op-1')).toEqual({ ok: true, errorLines: ['first', 'second', 'third'], omittedErrorLines: 1, warnings: [] });
  });

  it('puts undated lines after the dated ones, in the order they came', () => {
    const body = [
      ...logs(log(1, 'ERROR', 'dated')),
      { severity: 'ERROR', message: { msg: 'undated a' } },
      { timestamp: 'yesterday', severity: 'ERROR', message: { msg: 'undated b' } },
    ];
    expect(parseOperationLogs(body, 'op-1', 5)).toMatchObject({ errorLines: ['dated', 'undated a', 'undated b'] });
  });

  it.each<[string, LogSpec, string | undefined]>([
    ['an INFO line with an error', log(1, 'INFO', 'Provider said', 'quota exceeded'), 'Provider said: quota exceeded'],
    ['an error without a message', log(1, 'ERROR', '', 'quota exceeded'), 'quota exceeded'],
    ['a message that already ends with its error', log(1, 'ERROR', 'Read failed: quota exceeded', 'quota exceeded'), 'Read failed: quota exceeded'],
    ['a WARN line without an error', log(1, 'WARN', 'slow provider'), undefined],
    ['an ERROR line that says nothing', log(1, 'ERROR', '  '), undefined],
    [
      'an error with a stack trace, controls and a mention',
      log(1, 'ERROR', 'Read failed', 'TypeError: x\n    at read (reader.go:12)\u0007 <!channel> `rm`'),
      'Read failed: TypeError: x at read (reader.go:12) <!channel> ˋrmˋ',
    ],
  ])('reads %s', (_name, spec, line) => {
    expect(parseOperationLogs(logs(spec), 'op-1')).toMatchObject({ ok: true, errorLines: line === undefined ? [] : [line] });
  });

  it('cuts a long error line', () => {
    const result = parseOperationLogs(logs(log(1, 'ERROR', 'e'.repeat(5000))), 'op-1');
    expect(result.ok && result.errorLines).toEqual([`${'e'.repeat(MAX_ERROR_LINE_LENGTH - 1)}…`]);
  });

  it.each<[string, unknown, string]>([
    ['a string', 'ERROR boom', 'a log line is string, not an object; skipped'],
    ['a line without a message object', { severity: 'ERROR', message: 'boom' }, 'a log line has no message object; skipped'],
    [
      'a line of another operation',
      { severity: 'ERROR', message: { msg: 'boom', operation_id: 'op-9' } },
      'a log line is about another operation (message.operation_id); skipped',
    ],
  ])('skips %s, keeps the others, and warns', (_name, item, warning) => {
    const result = parseOperationLogs([item, ...logs(log(1, 'ERROR', 'kept'))], 'op-1');
    expect(result).toEqual({ ok: true, errorLines: ['kept'], omittedErrorLines: 0, warnings: [{ message: warning, count: 1, examples: ['logs[0]'] }] });
  });

  it.each([
    ['an object', { logs: [] }],
    ['null', null],
  ])('fails a body that is %s', (_name, body) => {
    expect(parseOperationLogs(body, 'op-1')).toEqual({ ok: false, error: expect.stringContaining('expected a JSON array of log lines') });
  });
});

describe('failureDetails', () => {
  const op: OperationSummary = {
    id: 'op-1',
    status: 'failure',
    actionType: 'read',
    result: '[account] Read failed',
    createTimeMs: Date.parse('2026-03-01T12:00:00.5Z'),
  };

  it('puts the operation and its error lines together, with the time in UTC', () => {
    expect(failureDetails(op, { errorLines: ['boom'], omittedErrorLines: 2 })).toEqual({
      operationId: 'op-1',
      actionType: 'read',
      result: '[account] Read failed',
      errorLines: ['boom'],
      omittedErrorLines: 2,
      time: '2026-03-01T12:00:00.500Z',
    });
  });

  it('has no error lines when the log could not be read, and no time when the API gave none', () => {
    expect(failureDetails({ ...op, createTimeMs: undefined })).toMatchObject({ errorLines: [], omittedErrorLines: 0, time: undefined });
  });
});
