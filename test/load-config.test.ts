/** loadConfig: the environment and the monitor configuration file together, and which projects the service watches. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { loadConfig } from '../src/load-config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahm-load-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const TWO_PROJECTS = `projects:
  - id: proj-1
    integrations: [int-1, int-2]
    groupRef: org-1
  - id: proj-2
`;

describe('loadConfig', () => {
  it('watches the one project of AMPERSAND_PROJECT_ID, AMPERSAND_INTEGRATION_IDS and AMPERSAND_GROUP_REF without a file, in integration list mode', async () => {
    const loaded = await loadConfig({ AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p', AMPERSAND_INTEGRATION_IDS: 'a,b', AMPERSAND_GROUP_REF: 'g' });
    if (loaded instanceof ConfigError) throw loaded;
    expect(loaded.config.projects).toEqual([{ id: 'p', integrationIds: ['a', 'b'], groupRef: 'g' }]);
    expect(loaded.config.listMode).toBe('integration');
  });

  it('reads an empty AMPERSAND_INTEGRATION_IDS as "discover" for that project', () => {
    expect(parseConfig({ AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p' }).projects).toEqual([{ id: 'p', integrationIds: undefined, groupRef: undefined }]);
  });

  it("watches the file's projects, with no AMPERSAND_PROJECT_ID needed", async () => {
    const loaded = await loadConfig({ AMPERSAND_API_KEY: 'k', MONITOR_CONFIG: file('two.yaml', TWO_PROJECTS) });
    if (loaded instanceof ConfigError) throw loaded;
    expect(loaded.config.projects).toEqual([
      { id: 'proj-1', integrationIds: ['int-1', 'int-2'], groupRef: 'org-1' },
      { id: 'proj-2', integrationIds: undefined, groupRef: undefined },
    ]);
    expect(loaded.warnings).toEqual([]);
  });

  it("prefers the file's projects to the variables, and warns that the variables are ignored", async () => {
    const env = { AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'old', AMPERSAND_GROUP_REF: 'g', MONITOR_CONFIG: file('both.yaml', TWO_PROJECTS) };
    const loaded = await loadConfig(env);
    if (loaded instanceof ConfigError) throw loaded;
    expect(loaded.config.projects.map((p) => p.id)).toEqual(['proj-1', 'proj-2']);
    expect(loaded.warnings).toEqual([
      'AMPERSAND_PROJECT_ID, AMPERSAND_GROUP_REF ignored: the MONITOR_CONFIG file lists the projects to watch (`projects`), which replace them',
    ]);
  });

  it('keeps AMPERSAND_PROJECT_ID when the file has no projects', async () => {
    const loaded = await loadConfig({ AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p', MONITOR_CONFIG: file('routes.yaml', 'silences: []\n') });
    if (loaded instanceof ConfigError) throw loaded;
    expect(loaded.config.projects).toEqual([{ id: 'p', integrationIds: undefined, groupRef: undefined }]);
  });

  it('refuses a file without projects and no AMPERSAND_PROJECT_ID, naming both', async () => {
    const loaded = await loadConfig({ AMPERSAND_API_KEY: 'k', MONITOR_CONFIG: file('none.yaml', 'silences: []\n') });
    expect(loaded).toBeInstanceOf(ConfigError);
    expect((loaded as ConfigError).problems).toEqual([
      'AMPERSAND_PROJECT_ID is required when the MONITOR_CONFIG file has no `projects`: set AMPERSAND_PROJECT_ID, or list the projects under `projects:` in the file',
    ]);
  });

  it('still requires AMPERSAND_PROJECT_ID without MONITOR_CONFIG', async () => {
    const loaded = await loadConfig({ AMPERSAND_API_KEY: 'k' });
    expect((loaded as ConfigError).problems).toEqual([
      'AMPERSAND_PROJECT_ID is required: the Ampersand project id or name (or the `projects` of a MONITOR_CONFIG file)',
    ]);
  });

  it.each(['integration', 'project'])('takes AMPERSAND_LIST_MODE=%s', (mode) => {
    expect(parseConfig({ AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p', AMPERSAND_LIST_MODE: mode }).listMode).toBe(mode);
  });

  it('refuses another AMPERSAND_LIST_MODE, naming the variable and what it accepts', async () => {
    const loaded = await loadConfig({ AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p', AMPERSAND_LIST_MODE: 'projects' });
    expect((loaded as ConfigError).problems).toEqual([
      'AMPERSAND_LIST_MODE must be integration (one call per integration) or project (one call per project, split by integration), got "projects"',
    ]);
  });
});
