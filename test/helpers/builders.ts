import type { InstallationState } from '../../src/core/installation.js';
import type { InstallationSpec } from '../../src/simulator/fixtures.js';

const defaults = (id: string): InstallationState => ({
  id,
  projectId: 'proj-1',
  integrationId: 'int-1',
  groupRef: `org-${id}`,
  groupName: `Customer ${id}`,
  provider: 'salesforce',
  healthStatus: 'healthy',
  lastOperationStatus: 'success',
  connectionStatus: 'working',
  // As buildInstallation serves them by default.
  consumerRef: `user-${id}`,
  consumerName: 'Jane Smith',
  pausedReads: [],
});

/** A normalised installation with sensible defaults, for core tests. */
export function state(id: string, overrides: Partial<InstallationState> = {}): InstallationState {
  return { ...defaults(id), ...overrides };
}

/** The spec-level description of an installation with the same defaults, for fixtures and the fake API. */
export function installationSpec(id: string, overrides: Partial<InstallationSpec> = {}): InstallationSpec {
  return { ...defaults(id), ...overrides };
}
