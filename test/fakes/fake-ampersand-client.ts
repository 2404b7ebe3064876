/**
 * An AmpersandClient whose answers are scripted per integration (and for the
 * integration list), per installation's operations and per operation's logs:
 * a body, an error to throw, a function to run (to let another replica act
 * while this call is in flight), or a hang that ends only when the call's
 * signal aborts (then it fails as the real client does, with an
 * AmpersandApiError of reason timeout). Each call takes the next step; the
 * last step repeats, so a script of one answers every call alike. Every call
 * is recorded, and a call with no script fails the test loudly.
 */
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import type { AmpersandClient, AmpersandProjects } from '../../src/ports.js';

export type ScriptedAnswer =
  | { readonly body: unknown }
  | { readonly error: Error }
  | { readonly run: () => Promise<unknown> }
  /** Never answers; fails once the call's signal aborts (and never, without one). */
  | { readonly hang: true };

export interface FakeAmpersandClient extends AmpersandClient {
  /**
   * Each call in order: `installations <integrationId>`, `integrations`,
   * `operations <integrationId>/<installationId> pageSize=<n|-> pageToken=<token|->`
   * or `logs <operationId>`.
   */
  readonly calls: readonly string[];
  /** Replaces the script of `listInstallations(integrationId)`. */
  scriptInstallations(integrationId: string, ...answers: readonly ScriptedAnswer[]): void;
  /** Replaces the script of `listInstallationsForProject()`. */
  scriptProjectInstallations(...answers: readonly ScriptedAnswer[]): void;
  /** Replaces the script of `listIntegrations()`. */
  scriptIntegrations(...answers: readonly ScriptedAnswer[]): void;
  /** Replaces the script of `listOperations(…, installationId, …)`: one answer per page asked for. */
  scriptOperations(installationId: string, ...answers: readonly ScriptedAnswer[]): void;
  /** Replaces the script of `getOperationLogs(operationId)`. */
  scriptLogs(operationId: string, ...answers: readonly ScriptedAnswer[]): void;
  /** Replaces the script of `listProviders()`. */
  scriptProviders(...answers: readonly ScriptedAnswer[]): void;
}

const INTEGRATIONS = '\u0000integrations';
const PROJECT_INSTALLATIONS = '\u0000project installations';

/** The clients of the watched projects, by id: any other project is not watched (undefined), as in main's wiring. */
export function fakeProjects<C>(clients: Readonly<Record<string, C>>): AmpersandProjects<C> {
  return { forProject: (projectId) => clients[projectId] };
}
const PROVIDERS = '\u0000providers';
const operationsKey = (installationId: string): string => `\u0000operations ${installationId}`;
const logsKey = (operationId: string): string => `\u0000logs ${operationId}`;

/** What the real client does when the signal aborts: an AmpersandApiError of reason timeout. */
function untilAborted(signal: AbortSignal | undefined, what: string): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = (): void => reject(new AmpersandApiError(`${what}: aborted`, 'timeout'));
    if (signal?.aborted) fail();
    else signal?.addEventListener('abort', fail, { once: true });
  });
}

export function createFakeAmpersandClient(): FakeAmpersandClient {
  const calls: string[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();

  const answer = async (key: string, what: string, signal?: AbortSignal): Promise<unknown> => {
    const script = scripts.get(key);
    const step = script && (script.length > 1 ? script.shift() : script[0]);
    if (step === undefined) throw new Error(`fake Ampersand: no scripted answer for ${what}`);
    if ('error' in step) throw step.error;
    if ('run' in step) return step.run();
    if ('hang' in step) return untilAborted(signal, what);
    // A copy, so that a job cannot change what the next call returns.
    return structuredClone(step.body);
  };

  return {
    calls,
    scriptInstallations(integrationId, ...answers) {
      scripts.set(integrationId, [...answers]);
    },
    scriptProjectInstallations(...answers) {
      scripts.set(PROJECT_INSTALLATIONS, [...answers]);
    },
    scriptIntegrations(...answers) {
      scripts.set(INTEGRATIONS, [...answers]);
    },
    scriptOperations(installationId, ...answers) {
      scripts.set(operationsKey(installationId), [...answers]);
    },
    scriptLogs(operationId, ...answers) {
      scripts.set(logsKey(operationId), [...answers]);
    },
    scriptProviders(...answers) {
      scripts.set(PROVIDERS, [...answers]);
    },
    async listProviders(signal) {
      calls.push('providers');
      return answer(PROVIDERS, 'the providers', signal);
    },
    async listInstallations(integrationId, signal) {
      calls.push(`installations ${integrationId}`);
      return answer(integrationId, `the installations of ${integrationId}`, signal);
    },
    async listInstallationsForProject(signal) {
      calls.push('project installations');
      return answer(PROJECT_INSTALLATIONS, 'the installations of the project', signal);
    },
    async listIntegrations(signal) {
      calls.push('integrations');
      return answer(INTEGRATIONS, 'the integration list', signal);
    },
    async listOperations(integrationId, installationId, page, signal) {
      calls.push(`operations ${integrationId}/${installationId} pageSize=${page.pageSize ?? '-'} pageToken=${page.pageToken ?? '-'}`);
      return answer(operationsKey(installationId), `the operations of ${installationId}`, signal);
    },
    async getOperationLogs(operationId, signal) {
      calls.push(`logs ${operationId}`);
      return answer(logsKey(operationId), `the logs of ${operationId}`, signal);
    },
  };
}
