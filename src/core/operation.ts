/**
 * Why an installation's last operation failed, read from the bodies of
 * `listOperations` (a page of operations) and `listOperationLogs` (one
 * operation's log), both hostile JSON: an item that cannot be used is skipped
 * and noted, never a crash. The spec does not say in which order the
 * operations of a page come, so the newest failed one is picked by
 * `createTime`, not by position.
 *
 * The texts kept (`result`, the error lines) are plain text, not escaped: one
 * line each, without control characters, line breaks or backticks (so a
 * renderer may put them in a code span), and cut. A renderer escapes them for
 * its format (`escapeMrkdwn` for Slack), like every other value from outside.
 */
import type { ApiLog, ApiLogMessage, ApiOperation, ApiOperationsPage, ApiPaginationInfo, Unchecked } from './ampersand-payloads.js';
import { cleanText } from './display-text.js';
import { UNREADABLE_VALUE } from './installation.js';
import { WarningTally, type ParseWarning } from './parse-warnings.js';
import { describeType, isWellFormedText, unchecked } from './unchecked-json.js';

/** The `status` of a failed operation (spec: success, failure, in_progress). */
export const FAILED_STATUS = 'failure';
/** Error lines kept per failure; the rest are counted in `omittedErrorLines`. */
export const MAX_ERROR_LINES = 3;
/** One error line is cut to this many code points. */
export const MAX_ERROR_LINE_LENGTH = 300;
/** An operation's `result` is cut to this many code points. */
export const MAX_RESULT_LENGTH = 300;
/** Short values (status, actionType) are cut to this many code points. */
const MAX_SHORT_LENGTH = 64;
// Ids go into a URL path (the logs of the operation); longer ones are not something Ampersand sends.
const MAX_ID_LENGTH = 1024;
// A page token goes into a query string; a longer one is taken as the end of the list.
const MAX_PAGE_TOKEN_LENGTH = 4096;

/** Log severities that make a line an error line, besides a line with an `error`. */
const ERROR_SEVERITIES: ReadonlySet<string> = new Set(['ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY', 'FATAL']);

/** One operation of a page, as much of it as the failure details need. */
export interface OperationSummary {
  readonly id: string;
  /** As the API gave it, cut; UNREADABLE_VALUE when it was not a string. */
  readonly status: string;
  /** `read`, `write` or `subscribe`, or undefined when absent or not a string. */
  readonly actionType: string | undefined;
  readonly result: string | undefined;
  /** `createTime` in epoch ms; undefined when absent or not an RFC 3339 date-time. */
  readonly createTimeMs: number | undefined;
}

export type OperationsPageResult =
  | {
      readonly ok: true;
      readonly operations: readonly OperationSummary[];
      /** The `pageToken` of the next page; undefined on the last one. */
      readonly nextPageToken: string | undefined;
      readonly warnings: readonly ParseWarning[];
    }
  | { readonly ok: false; readonly error: string };

/** What an operation's log says went wrong. */
export interface LogErrors {
  /** The first MAX_ERROR_LINES distinct error lines, oldest first. */
  readonly errorLines: readonly string[];
  /** How many more distinct error lines the log has. */
  readonly omittedErrorLines: number;
}

export type OperationLogsResult =
  ({ readonly ok: true; readonly warnings: readonly ParseWarning[] } & LogErrors) | { readonly ok: false; readonly error: string };

/** What an alert about a failing operation can show: which operation, its result, its first error lines and when it ran. */
export interface FailureDetails extends LogErrors {
  readonly operationId: string;
  /** `read`, `write` or `subscribe`, when the API said. */
  readonly actionType: string | undefined;
  /** The operation's own summary ("[account] Read failed"); the spec says it may be absent. */
  readonly result: string | undefined;
  /** The operation's `createTime`, ISO 8601 in UTC; undefined when the API gave none that can be read. */
  readonly time: string | undefined;
}

// RFC 3339 date-time, as the spec's `format: date-time` means; Date.parse alone takes "1" for 2001.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an RFC 3339 date-time, or undefined. */
function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A line of free text to show: cleaned, backticks replaced (U+02CB looks the same and closes no code span), cut. */
function showable(value: string, max: number): string {
  return cleanText(value.replace(/`/g, '\u02cb'), max).text;
}

/** An id that can go into a URL path segment: non-empty, well-formed, not a dot segment, not huge. */
function isUsableId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value !== '.' && value !== '..' && value.length <= MAX_ID_LENGTH && isWellFormedText(value);
}

function readOperation(item: unknown, index: number, warnings: WarningTally): OperationSummary | undefined {
  const op = unchecked<ApiOperation>(item);
  if (op === undefined) {
    warnings.note(`an operation is ${describeType(item)}, not an object; skipped`, `results[${index}]`);
    return undefined;
  }
  const id = op.id;
  if (!isUsableId(id)) {
    warnings.note('an operation has no usable id (a non-empty string that can go into a URL); skipped', `results[${index}]`);
    return undefined;
  }
  const status = typeof op.status === 'string' ? showable(op.status, MAX_SHORT_LENGTH) : UNREADABLE_VALUE;
  if (status === UNREADABLE_VALUE) warnings.note(`operation status is ${describeType(op.status)}, not a string; skipped as not failed`, id);
  const createTimeMs = timeOf(op.createTime);
  if (createTimeMs === undefined && status === FAILED_STATUS) {
    warnings.note('a failed operation has no createTime that is an RFC 3339 date-time; taken as older than any dated one', id);
  }
  if (op.result !== undefined && typeof op.result !== 'string') warnings.note(`operation result is ${describeType(op.result)}, not a string; ignored`, id);
  return {
    id,
    status,
    actionType: typeof op.actionType === 'string' ? showable(op.actionType, MAX_SHORT_LENGTH) : undefined,
    result: typeof op.result === 'string' && op.result.trim() !== '' ? showable(op.result, MAX_RESULT_LENGTH) : undefined,
    createTimeMs,
  };
}

/** The next page token, or undefined for the last page (noted when the pagination says more but gives no usable token). */
function nextTokenOf(pagination: unknown, warnings: WarningTally): string | undefined {
  const p = unchecked<ApiPaginationInfo>(pagination);
  if (p === undefined) {
    warnings.note(`pagination is ${describeType(pagination)}, not an object; read as the last page`, 'pagination');
    return undefined;
  }
  if (p.done === true) return undefined;
  const token = p.nextPageToken;
  if (token === undefined || token === null || token === '') {
    if (p.done !== undefined && p.done !== false)
      warnings.note(`pagination.done is ${describeType(p.done)}, not a boolean; read as the last page`, 'pagination');
    else warnings.note('pagination is not done but has no nextPageToken; read as the last page', 'pagination');
    return undefined;
  }
  if (typeof token !== 'string' || token.length > MAX_PAGE_TOKEN_LENGTH || !isWellFormedText(token)) {
    warnings.note(`pagination.nextPageToken is not a usable string (at most ${MAX_PAGE_TOKEN_LENGTH} characters); read as the last page`, 'pagination');
    return undefined;
  }
  return token;
}

/**
 * Parses one page of `GET …/installations/{id}/operations`
 * (`{ results: Operation[], pagination: { done, nextPageToken? } }`). Only a
 * body that is not an object with a `results` array fails; an operation without
 * a usable id is skipped (a skipped operation is never a false alert, only a
 * missing detail), and a pagination that cannot be read ends the list.
 */
export function parseOperationsPage(body: unknown): OperationsPageResult {
  const page = unchecked<ApiOperationsPage>(body);
  if (page === undefined) return { ok: false, error: `expected a JSON object with results and pagination, got ${describeType(body)}` };
  const results = page.results;
  if (!Array.isArray(results)) return { ok: false, error: `expected results to be an array of operations, got ${describeType(results)}` };
  const warnings = new WarningTally();
  const operations = results.flatMap((item, index) => readOperation(item, index, warnings) ?? []);
  const nextPageToken = nextTokenOf(page.pagination, warnings);
  return { ok: true, operations, nextPageToken, warnings: warnings.list() };
}

/**
 * The newest operation whose status is `failure`, by `createTime` (one without
 * a readable time counts as older than any dated one; equal times keep the
 * API's order); undefined when none failed.
 */
export function latestFailedOperation(operations: readonly OperationSummary[]): OperationSummary | undefined {
  let latest: OperationSummary | undefined;
  for (const op of operations) {
    if (op.status !== FAILED_STATUS) continue;
    if (latest === undefined || (op.createTimeMs ?? -Infinity) > (latest.createTimeMs ?? -Infinity)) latest = op;
  }
  return latest;
}

/** One log line as an error line, or undefined when it is not one (or says nothing). */
function errorLineOf(log: Unchecked<ApiLog>, message: Unchecked<ApiLogMessage>): string | undefined {
  const msg = typeof message.msg === 'string' ? message.msg.trim() : '';
  const error = typeof message.error === 'string' ? message.error.trim() : '';
  const severity = typeof log.severity === 'string' ? log.severity.trim().toUpperCase() : '';
  if (error === '' && !ERROR_SEVERITIES.has(severity)) return undefined;
  const text = error === '' || msg.endsWith(error) ? msg : msg === '' ? error : `${msg}: ${error}`;
  const line = showable(text, MAX_ERROR_LINE_LENGTH);
  return line === '' ? undefined : line;
}

/**
 * Parses the body of `GET /projects/{p}/operations/{operationId}/logs` (an
 * array of spec `Log`) into the error lines of `operationId`: the lines with an
 * `error`, or with severity ERROR (or worse), as "msg: error", oldest first by
 * `timestamp` (undated lines after the dated ones, in the API's order), without
 * repeats, at most `maxLines` of them. A line that names another operation in
 * `operation_id` is skipped. Only a body that is not an array fails.
 */
export function parseOperationLogs(body: unknown, operationId: string, maxLines = MAX_ERROR_LINES): OperationLogsResult {
  if (!Array.isArray(body)) return { ok: false, error: `expected a JSON array of log lines, got ${describeType(body)}` };
  const warnings = new WarningTally();
  const found: { line: string; at: number; index: number }[] = [];
  for (const [index, item] of body.entries()) {
    const where = `logs[${index}]`;
    const log = unchecked<ApiLog>(item);
    const message = unchecked<ApiLogMessage>(log?.message);
    if (log === undefined || message === undefined) {
      warnings.note(log === undefined ? `a log line is ${describeType(item)}, not an object; skipped` : 'a log line has no message object; skipped', where);
      continue;
    }
    const about = message.operation_id;
    if (typeof about === 'string' && about !== operationId) {
      warnings.note('a log line is about another operation (message.operation_id); skipped', where);
      continue;
    }
    const line = errorLineOf(log, message);
    if (line !== undefined) found.push({ line, at: timeOf(log.timestamp) ?? Infinity, index });
  }
  found.sort((a, b) => a.at - b.at || a.index - b.index);
  const distinct = [...new Set(found.map((f) => f.line))];
  const errorLines = distinct.slice(0, Math.max(0, maxLines));
  return { ok: true, errorLines, omittedErrorLines: distinct.length - errorLines.length, warnings: warnings.list() };
}

/** The details of a failed operation, with what its log says (none when the log could not be read). */
export function failureDetails(operation: OperationSummary, logs: LogErrors = { errorLines: [], omittedErrorLines: 0 }): FailureDetails {
  return {
    operationId: operation.id,
    actionType: operation.actionType,
    result: operation.result,
    errorLines: logs.errorLines,
    omittedErrorLines: logs.omittedErrorLines,
    time: operation.createTimeMs === undefined ? undefined : new Date(operation.createTimeMs).toISOString(),
  };
}
