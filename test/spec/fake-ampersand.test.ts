/**
 * The fake Ampersand serves only what the official spec allows: its success
 * bodies validate against the listInstallations / listIntegrations response
 * schemas, and its errors are application/problem+json ApiProblem bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAmpersand, type FakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
import { buildDetailedInstallation } from '../../src/simulator/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { specErrors } from '../helpers/spec.js';

let fake: FakeAmpersand;
const KEY = 'k';

beforeAll(async () => {
  fake = await startFakeAmpersand({ apiKey: KEY, projectId: 'proj-1' });
  fake.setIntegration('int-1', 'salesforce', [
    installationSpec('a'),
    installationSpec('b', { healthStatus: 'unhealthy', lastOperationStatus: 'failure', connectionStatus: 'bad_credentials' }),
    installationSpec('c', { lastOperationStatus: undefined, connectionStatus: 'created' }),
    installationSpec('d', { lastOperationStatus: 'in_progress' }),
  ]);
});
afterAll(async () => {
  await fake.close();
});

const get = async (path: string, key = KEY) => {
  const res = await fetch(`${fake.url}${path}`, { headers: { 'X-Api-Key': key } });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
};

describe('the fake Ampersand API', () => {
  it('serves installations that conform to the spec', async () => {
    const res = await get('/projects/proj-1/integrations/int-1/installations');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body) && res.body.length).toBe(4);
    expect(specErrors('Installation', res.body, true)).toBe('');
  });

  it('serves integrations that conform to the spec', async () => {
    const res = await get('/projects/proj-1/integrations');
    expect(specErrors('Integration', res.body, true)).toBe('');
  });

  it.each([
    ['a wrong key', '/projects/proj-1/integrations', 'wrong', 401],
    ['an unknown project', '/projects/nope/integrations', KEY, 404],
    ['an unknown integration', '/projects/proj-1/integrations/nope/installations', KEY, 404],
  ])('answers %s with an ApiProblem as application/problem+json', async (_name, path, key, status) => {
    const res = await get(path, key);
    expect(res.status).toBe(status);
    expect(res.type).toBe('application/problem+json');
    expect(specErrors('ApiProblem', res.body)).toBe('');
  });

  it('serves a change from the next request on', async () => {
    fake.update('int-1', 'a', { healthStatus: 'unhealthy' });
    fake.add('int-1', installationSpec('e'));
    fake.remove('int-1', 'b');
    const res = await get('/projects/proj-1/integrations/int-1/installations');
    expect((res.body as { id: string; healthStatus: string }[]).map((i) => `${i.id} ${i.healthStatus}`)).toEqual(['a unhealthy', 'c healthy', 'd healthy', 'e healthy']);
    fake.update('int-1', 'a', { healthStatus: 'healthy' });
    expect((await get('/projects/proj-1/integrations/int-1/installations')).body).toMatchObject([{ id: 'a', healthStatus: 'healthy' }, {}, {}, {}]);
  });

  it('serves installations of realistic size (about 2 KB with UUID ids) that conform to the spec, when told to', async () => {
    const detailed = await startFakeAmpersand({ apiKey: KEY, projectId: 'proj-1', buildInstallation: buildDetailedInstallation });
    try {
      const id = (n: number): string => `0f8fad5b-d9cb-469f-a165-7086772895${String(n).padStart(2, '0')}`;
      detailed.setIntegration('int-1', 'salesforce', [
        installationSpec(id(1), { groupRef: 'org-0000001', groupName: 'Customer 0000001' }),
        installationSpec(id(2), { lastOperationStatus: undefined, connectionStatus: 'bad_credentials', groupRef: 'org-0000002', groupName: 'Customer 0000002' }),
      ]);
      const res = await fetch(`${detailed.url}/projects/proj-1/integrations/int-1/installations`, { headers: { 'X-Api-Key': KEY } });
      const text = await res.text();
      const body = JSON.parse(text) as unknown[];
      expect(specErrors('Installation', body, true)).toBe('');
      expect(text.length / body.length).toBeGreaterThan(1800);
      expect(text.length / body.length).toBeLessThan(2300);
    } finally {
      await detailed.close();
    }
  });
});
