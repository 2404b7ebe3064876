/**
 * A CycleObserver that records every call in the event log (`ok <id>`,
 * `failed <id> <reason>`, `listed <ids>`) and throws from the calls a test
 * names, as an upstream tracker whose Redis refuses the write would.
 */
import type { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import type { CycleObserver } from '../../src/ports.js';
import { createEventLog, type EventLog } from './event-log.js';

export interface RecordingObserver extends CycleObserver {
  /** This observer's calls only, in order. */
  readonly calls: readonly string[];
  /** The project of each call, in the order of `calls`. */
  readonly projects: readonly string[];
  /** The errors passed to pollFailed, in order. */
  readonly errors: readonly AmpersandApiError[];
  /** Set an error to make that kind of call throw it (after it is recorded). */
  readonly throwing: { succeeded?: Error; failed?: Error; listed?: Error };
}

export function createRecordingObserver(log: EventLog = createEventLog()): RecordingObserver {
  const calls: string[] = [];
  const projects: string[] = [];
  const errors: AmpersandApiError[] = [];
  const throwing: RecordingObserver['throwing'] = {};
  const note = (projectId: string, call: string, error: Error | undefined): void => {
    calls.push(call);
    projects.push(projectId);
    log.add(call);
    if (error) throw error;
  };
  return {
    calls,
    projects,
    errors,
    throwing,
    async pollSucceeded(projectId, integrationId) {
      note(projectId, `ok ${integrationId}`, throwing.succeeded);
    },
    async pollFailed(projectId, integrationId, _cycleId, error) {
      errors.push(error);
      note(projectId, `failed ${integrationId} ${error.reason}`, throwing.failed);
    },
    async integrationsListed(projectId, integrationIds) {
      note(projectId, `listed ${integrationIds.join(',')}`, throwing.listed);
    },
  };
}
