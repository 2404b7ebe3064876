/**
 * An AmpersandClient whose answers are scripted per integration (and for the
 * integration list): a body, an error to throw, or a function to run (to let
 * another replica act while this call is in flight). Each call takes the next
 * step; the last step repeats, so a script of one answers every call alike.
 * Every call is recorded, and a call with no script fails the test loudly.
 */
import type { AmpersandClient } from '../../src/ports.js';

export type ScriptedAnswer = { readonly body: unknown } | { readonly error: Error } | { readonly run: () => Promise<unknown> };

export interface FakeAmpersandClient extends AmpersandClient {
  /** Each call in order: `installations <integrationId>` or `integrations`. */
  readonly calls: readonly string[];
  /** Replaces the script of `listInstallations(integrationId)`. */
  scriptInstallations(integrationId: string, ...answers: readonly ScriptedAnswer[]): void;
  /** Replaces the script of `listIntegrations()`. */
  scriptIntegrations(...answers: readonly ScriptedAnswer[]): void;
}

const INTEGRATIONS = '\u0000integrations';

export function createFakeAmpersandClient(): FakeAmpersandClient {
  const calls: string[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();

  const answer = async (key: string, what: string): Promise<unknown> => {
    const script = scripts.get(key);
    const step = script && (script.length > 1 ? script.shift() : script[0]);
    if (step === undefined) throw new Error(`fake Ampersand: no scripted answer for ${what}`);
    if ('error' in step) throw step.error;
    if ('run' in step) return step.run();
    // A copy, so that a job cannot change what the next call returns.
    return structuredClone(step.body);
  };

  return {
    calls,
    scriptInstallations(integrationId, ...answers) {
      scripts.set(integrationId, [...answers]);
    },
    scriptIntegrations(...answers) {
      scripts.set(INTEGRATIONS, [...answers]);
    },
    async listInstallations(integrationId) {
      calls.push(`installations ${integrationId}`);
      return answer(integrationId, `the installations of ${integrationId}`);
    },
    async listIntegrations() {
      calls.push('integrations');
      return answer(INTEGRATIONS, 'the integration list');
    },
  };
}
