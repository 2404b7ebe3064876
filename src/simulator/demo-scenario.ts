/**
 * The demo's world: one project with three integrations of five customers
 * each (one installation of them unhealthy from the start), whose
 * installations change now and then as real ones do. The fake records the
 * operation behind each change of lastOperationStatus, so a failure has a log with its error. `npm run demo` and the
 * compose stack's simulator (serve.ts) both play it on a fake Ampersand.
 */
import type { FakeAmpersand } from './fake-ampersand-server.js';
import { readObjectOf, type InstallationSpec } from './fixtures.js';

/** The project and API key the simulated Ampersand accepts: not secrets, the demo monitor is configured with them. */
export const demoProjectId = 'demo-project';
export const demoApiKey = 'demo-key';
/** Where the compose stack's simulator (stack-simulator.ts) serves the fake API and the webhook catcher by default; compose.yaml names them. */
export const stackSimulatorPorts = { ampersand: 8080, slack: 8081 } as const;

const customers = ['Acme Corp', 'Globex', 'Initech', 'Umbrella', 'Hooli'];
/** Who connected each customer's account: the consumer that a bad-credentials alert asks to reconnect. */
const consumers = ['Wile E. Coyote', 'Hank Scorpio', 'Bill Lumbergh', 'Albert Wesker', 'Gavin Belson'];
/** Id, provider and name: production ids are UUIDs, and the alerts are to show the name. */
export const demoIntegrations: readonly (readonly [integrationId: string, provider: string, name: string])[] = [
  ['salesforce-sync', 'salesforce', 'Salesforce account sync'],
  ['hubspot-contacts', 'hubspot', 'HubSpot contacts'],
  ['zendesk-tickets', 'zendesk', 'Zendesk tickets'],
];

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)] as T;
}

/** Serves the demo's integrations and installations on `ampersand`, replacing what it served. */
export function seedDemoIntegrations(ampersand: FakeAmpersand): void {
  for (const [integrationId, provider, integrationName] of demoIntegrations) {
    const installations: InstallationSpec[] = customers.map((name, i) => ({
      id: `${integrationId}-inst-${i + 1}`,
      projectId: demoProjectId,
      integrationId,
      groupRef: `org_${name.toLowerCase().replace(/\s+/g, '_')}`,
      groupName: name,
      consumerRef: `consumer_${name.toLowerCase().replace(/\s+/g, '_')}`,
      consumerName: consumers[i] ?? 'Jane Smith',
      // One customer paused a read of its own, as a reader of the alerts will see it named.
      pausedReads: i === 2 ? [`${readObjectOf(provider)}_history`] : [],
      provider,
      healthStatus: i === 4 && provider === 'hubspot' ? 'unhealthy' : 'healthy',
      lastOperationStatus: i === 3 ? undefined : 'success',
      connectionStatus: 'working',
    }));
    ampersand.setIntegration(integrationId, provider, installations, integrationName);
  }
}

/** One change the churn made, for a narrating caller. */
export interface DemoChange {
  readonly integrationId: string;
  readonly installationId: string;
  readonly changes: Partial<InstallationSpec>;
}

const changes: ((i: InstallationSpec) => Partial<InstallationSpec>)[] = [
  (i) => ({ healthStatus: i.healthStatus === 'healthy' ? 'unhealthy' : 'healthy' }),
  (i) => ({ lastOperationStatus: i.lastOperationStatus === 'failure' ? 'success' : 'failure' }),
  () => ({ lastOperationStatus: 'in_progress' }),
  (i) => ({ connectionStatus: i.connectionStatus === 'bad_credentials' ? 'working' : 'bad_credentials' }),
];

/**
 * Every `everyMs`, one random installation of the demo changes one status
 * (health, last operation, connection). Returns the function that stops it.
 */
export function startDemoChurn(ampersand: FakeAmpersand, everyMs: number, onChange?: (change: DemoChange) => void): () => void {
  const timer = setInterval(() => {
    const [integrationId] = pick(demoIntegrations);
    const target = pick(ampersand.installations(integrationId));
    const change = pick(changes)(target);
    ampersand.update(integrationId, target.id, change);
    onChange?.({ integrationId, installationId: target.id, changes: change });
  }, everyMs);
  return () => clearInterval(timer);
}
