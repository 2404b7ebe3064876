/**
 * The bench's load: N installations of one integration, shaped like a large
 * customer's (UUID ids, one group per installation, mostly healthy), the same
 * every run so that runs compare.
 */
import type { InstallationSpec } from '../../src/simulator/fixtures.js';

export const BENCH_PROJECT = 'bench-project';
export const BENCH_API_KEY = 'bench-api-key';

/** A UUID-shaped id, fixed by `kind` and `n`. */
function uuid(kind: string, n: number): string {
  const tail = n.toString(16).padStart(12, '0');
  return `${kind}-d9cb-469f-a165-${tail}`;
}

/** The integration that serves `n` installations (one per size, so sizes never share state). */
export function benchIntegrationId(n: number): string {
  return uuid('1c2d3e4f', n);
}

/**
 * About 1 % unhealthy, 3 % failing and 2 % in progress, 0.5 % with bad
 * credentials: a large customer on an ordinary day, so the baseline has a
 * summary to send and the state gauges see every status.
 */
export function benchInstallations(n: number): InstallationSpec[] {
  const integrationId = benchIntegrationId(n);
  const out: InstallationSpec[] = [];
  for (let i = 0; i < n; i++) {
    const ref = String(i).padStart(7, '0');
    out.push({
      id: uuid('0f8fad5b', i),
      projectId: BENCH_PROJECT,
      integrationId,
      groupRef: `org-${ref}`,
      groupName: `Customer ${ref}`,
      provider: 'salesforce',
      healthStatus: i % 100 === 7 ? 'unhealthy' : 'healthy',
      lastOperationStatus: i % 100 < 3 ? 'failure' : i % 100 < 5 ? 'in_progress' : 'success',
      connectionStatus: i % 200 === 11 ? 'bad_credentials' : 'working',
    });
  }
  return out;
}

/** The index of the k-th healthy installation the bench may turn unhealthy, away from the pre-set odd ones. */
export function changeableInstallation(specs: readonly InstallationSpec[], k: number): InstallationSpec {
  const healthy = specs.filter(
    (s, i) => i % 100 > 20 && s.healthStatus === 'healthy' && s.lastOperationStatus === 'success' && s.connectionStatus === 'working',
  );
  const pick = healthy[k % healthy.length];
  if (!pick) throw new Error('no installation left to change');
  return pick;
}
