/**
 * The fake Ampersand serves only what the official spec allows: its success
 * bodies validate against the listInstallations / listIntegrations /
 * listOperations / listOperationLogs response schemas, and its errors are
 * application/problem+json ApiProblem (or InputValidationProblem) bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationNames } from '../../src/core/integration-names.js';
import { startFakeAmpersand, type FakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
import { buildDetailedInstallation, buildReadOperation } from '../../src/simulator/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { responseErrors, specErrors } from '../helpers/spec.js';

let fake: FakeAmpersand;
const KEY = 'k';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const OPERATIONS = '/projects/proj-1/integrations/int-1/installations';

beforeAll(async () => {
  fake = await startFakeAmpersand({ apiKey: KEY, projectId: 'proj-1', now: () => NOW });
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

  it('serves the catalog of providers (GET /providers) conforming to the spec, with or without a display name, and without an API key', async () => {
    fake.setIntegration('int-hs', 'hubspot', []);
    fake.setIntegration('int-odd', 'oddprovider', []);
    try {
      const res = await fetch(`${fake.url}/providers`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, { displayName?: string }>;
      expect(responseErrors('listProviders', 200, 'application/json', body)).toBe('');
      expect(Object.keys(body).sort()).toEqual(['hubspot', 'oddprovider', 'salesforce']);
      expect(body['hubspot']?.displayName).toBe('HubSpot');
      expect(body['oddprovider']).not.toHaveProperty('displayName');
      fake.setProviderDisplayName('hubspot', undefined);
      const again = (await (await fetch(`${fake.url}/providers`)).json()) as Record<string, { displayName?: string }>;
      expect(again['hubspot']).not.toHaveProperty('displayName');
    } finally {
      fake.removeIntegration('int-hs');
      fake.removeIntegration('int-odd');
      fake.setProviderDisplayName('hubspot', 'HubSpot');
    }
  });

  it('serves the name an integration was given, and its id as the name otherwise', async () => {
    fake.setIntegration('9b2f0c1e-uuid', 'hubspot', [], 'HubSpot contacts');
    const res = await get('/projects/proj-1/integrations');
    expect(specErrors('Integration', res.body, true)).toBe('');
    expect(integrationNames(res.body)).toMatchObject({
      ok: true,
      names: new Map([
        ['int-1', 'int-1'],
        ['9b2f0c1e-uuid', 'HubSpot contacts'],
      ]),
    });
    fake.removeIntegration('9b2f0c1e-uuid');
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

  describe('the operations of an installation', () => {
    interface Page {
      results: { id: string; status: string; createTime: string }[];
      pagination: { done: boolean; nextPageToken?: string };
    }

    it('serves a page that conforms to the spec, newest first, ending in the last operation status', async () => {
      const res = await get(`${OPERATIONS}/b/operations`);
      expect(res.status).toBe(200);
      expect(responseErrors('listOperations', 200, 'application/json', res.body)).toBe('');
      const body = res.body as Page;
      expect(body.results.map((o) => [o.id, o.status])).toEqual([
        ['op-b-3', 'failure'],
        ['op-b-2', 'success'],
        ['op-b-1', 'success'],
      ]);
      expect(body.results.map((o) => o.createTime)).toEqual([...body.results.map((o) => o.createTime)].sort().reverse());
      expect(body.pagination).toEqual({ done: true });
    });

    it('serves no operation for an installation that has run none', async () => {
      const res = await get(`${OPERATIONS}/c/operations`);
      expect(res.body).toEqual({ results: [], pagination: { done: true } });
    });

    it('pages with pageSize and pageToken until done, each page conforming', async () => {
      const inst = installationSpec('p');
      fake.add('int-1', inst);
      fake.setOperations(
        'p',
        Array.from({ length: 5 }, (_, i) => buildReadOperation(inst, `op-p-${i}`, 'success', new Date(NOW.getTime() - i * 60_000))),
      );
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const res = await get(`${OPERATIONS}/p/operations?pageSize=2${token === undefined ? '' : `&pageToken=${encodeURIComponent(token)}`}`);
        expect(responseErrors('listOperations', 200, 'application/json', res.body)).toBe('');
        const body = res.body as Page;
        seen.push(...body.results.map((o) => o.id));
        token = body.pagination.nextPageToken;
        expect(body.pagination.done).toBe(token === undefined);
        pages += 1;
      } while (token !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual(['op-p-0', 'op-p-1', 'op-p-2', 'op-p-3', 'op-p-4']);
      fake.remove('int-1', 'p');
    });

    it('serves the logs of a failed operation, with its error, conforming to the spec', async () => {
      const res = await get('/projects/proj-1/operations/op-b-3/logs');
      expect(res.status).toBe(200);
      expect(responseErrors('listOperationLogs', 200, 'application/json', res.body)).toBe('');
      expect(res.body).toContainEqual({
        timestamp: expect.any(String),
        severity: 'ERROR',
        message: { msg: 'Read of account failed', error: 'INVALID_SESSION_ID: Session expired or invalid', operation_id: 'op-b-3' },
      });
    });

    it('records the run behind a change of lastOperationStatus, and ends a run in progress with the next status', async () => {
      const ids = (): string[][] => fake.operations('a').map((o) => [o.id, o.status]);
      fake.update('int-1', 'a', { lastOperationStatus: 'failure' });
      expect(ids().slice(0, 2)).toEqual([
        ['op-a-4', 'failure'],
        ['op-a-3', 'success'],
      ]);
      fake.update('int-1', 'a', { lastOperationStatus: 'in_progress' });
      fake.update('int-1', 'a', { lastOperationStatus: 'success' });
      expect(ids().slice(0, 2)).toEqual([
        ['op-a-5', 'success'],
        ['op-a-4', 'failure'],
      ]);
      fake.update('int-1', 'a', { healthStatus: 'unhealthy' });
      expect(fake.operations('a')).toHaveLength(5);
      fake.update('int-1', 'a', { healthStatus: 'healthy' });
    });

    it.each([
      ['a pageSize of 0', '?pageSize=0', 'pageSize'],
      ['a pageSize over 1000', '?pageSize=1001', 'pageSize'],
      ['a pageSize that is not a number', '?pageSize=ten', 'pageSize'],
      ['a pageToken it never gave out', '?pageToken=bm9wZQ', 'pageToken'],
    ])('answers %s with a 400 InputValidationProblem naming the parameter', async (_name, query, name) => {
      const res = await get(`${OPERATIONS}/b/operations${query}`);
      expect(res.status).toBe(400);
      expect(res.type).toBe('application/problem+json');
      expect(responseErrors('listOperations', 400, 'application/problem+json', res.body)).toBe('');
      expect(res.body).toMatchObject({ issues: [{ in: 'query', name }] });
    });

    it.each([
      ['an unknown installation', `${OPERATIONS}/nope/operations`],
      ['an unknown operation', '/projects/proj-1/operations/nope/logs'],
      ['the logs of another project', '/projects/other/operations/op-b-3/logs'],
    ])('answers %s with a 404 ApiProblem', async (_name, path) => {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.type).toBe('application/problem+json');
      expect(specErrors('ApiProblem', res.body)).toBe('');
    });
  });

  describe('the installations of a whole project (listInstallationsForProject)', () => {
    it("serves every integration's installations in one array that conforms to the spec", async () => {
      fake.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2' })]);
      try {
        const res = await get('/projects/proj-1/installations');
        expect(res.status).toBe(200);
        expect(responseErrors('listInstallationsForProject', 200, 'application/json', res.body)).toBe('');
        expect(specErrors('Installation', res.body, true)).toBe('');
        const ids = (res.body as { id: string; integrationId: string }[]).map((i) => `${i.integrationId}/${i.id}`);
        expect(ids).toEqual(['int-1/a', 'int-1/b', 'int-1/c', 'int-1/d', 'int-2/x']);
      } finally {
        fake.removeIntegration('int-2');
      }
    });

    it('filters by groupRef, as the spec documents', async () => {
      const res = await get('/projects/proj-1/installations?groupRef=org-b');
      expect((res.body as { id: string }[]).map((i) => i.id)).toEqual(['b']);
    });

    it('serves each project its own integrations, and answers another project\'s integration with a 404', async () => {
      fake.setIntegration('int-9', 'zendesk', [installationSpec('z', { integrationId: 'int-9', projectId: 'proj-2' })], 'Zendesk', 'proj-2');
      try {
        const projectTwo = await get('/projects/proj-2/installations');
        expect(specErrors('Installation', projectTwo.body, true)).toBe('');
        expect((projectTwo.body as { id: string; projectId: string }[]).map((i) => `${i.projectId}/${i.id}`)).toEqual(['proj-2/z']);
        expect(integrationNames((await get('/projects/proj-2/integrations')).body)).toMatchObject({ ok: true, names: new Map([['int-9', 'Zendesk']]) });
        expect((await get('/projects/proj-1/integrations/int-9/installations')).status).toBe(404);
        expect((await get('/projects/proj-2/integrations/int-1/installations')).status).toBe(404);
        expect((await get('/projects/proj-1/installations')).body).not.toContainEqual(expect.objectContaining({ id: 'z' }));
      } finally {
        fake.removeIntegration('int-9');
      }
    });

    it("answers every request of a project given a fault with it, and leaves the other projects' alone", async () => {
      fake.setIntegration('int-9', 'zendesk', [installationSpec('z', { integrationId: 'int-9', projectId: 'proj-2' })], 'Zendesk', 'proj-2');
      fake.setProjectFault('proj-2', { kind: 'status', status: 401, problem: { type: 'about:blank', title: 'Unauthorized', status: 401 } });
      try {
        for (const path of ['/projects/proj-2/installations', '/projects/proj-2/integrations', '/projects/proj-2/integrations/int-9/installations']) {
          const res = await get(path);
          expect(res.status).toBe(401);
          expect(responseErrors('listInstallationsForProject', 401, 'application/problem+json', res.body)).toBe('');
        }
        expect((await get('/projects/proj-1/installations')).status).toBe(200);
      } finally {
        fake.setProjectFault('proj-2', undefined);
        fake.removeIntegration('int-9');
      }
    });
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
