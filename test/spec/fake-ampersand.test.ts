/**
 * The fake Ampersand serves only what the official spec allows: its success
 * bodies validate against the listInstallations / listIntegrations response
 * schemas, and its errors are application/problem+json ApiProblem bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAmpersand, type FakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
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
});
