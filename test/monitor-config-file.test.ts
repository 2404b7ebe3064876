import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonitorConfigOptions } from '../src/core/monitor-config.js';
import { loadMonitorConfigFile, maxConfigFileBytes } from '../src/monitor-config-file.js';

const HOOK = 'https://hooks.slack.com/services/T0/B0/fakeWebhookSecret123';
const options: MonitorConfigOptions = { env: { SALES_WEBHOOK: HOOK }, allowAnyWebhookHost: false };

/** The example of issue 8, with every key. */
const YAML = `# monitor configuration
projects:            # replaces AMPERSAND_PROJECT_ID / AMPERSAND_INTEGRATION_IDS
  - id: proj-1
    integrations: [int-1, int-2]
    groupRef: org-1
  - id: proj-2       # integrations omitted: discover
routes:              # first match wins; no match = SLACK_WEBHOOK_URL
  - name: sales
    match: { projectId: proj-1, provider: salesforce }
    webhookUrlEnv: SALES_WEBHOOK
    mention: "<!here>"
  - match: {}
    webhookUrl: ${HOOK}
silences:
  - match: { installationId: inst-1, groupRef: org-1, integrationId: int-1 }
    until: 2026-12-01T00:00:00Z
    reason: customer migrating
maintenance:
  - match: { provider: hubspot }
    cron: "0 2 * * SAT"
    durationMinutes: 120
    timezone: Europe/Berlin
`;

/** The same file in JSON. */
const JSON_FILE = JSON.stringify(
  {
    projects: [{ id: 'proj-1', integrations: ['int-1', 'int-2'], groupRef: 'org-1' }, { id: 'proj-2' }],
    routes: [
      { name: 'sales', match: { projectId: 'proj-1', provider: 'salesforce' }, webhookUrlEnv: 'SALES_WEBHOOK', mention: '<!here>' },
      { match: {}, webhookUrl: HOOK },
    ],
    silences: [{ match: { installationId: 'inst-1', groupRef: 'org-1', integrationId: 'int-1' }, until: '2026-12-01T00:00:00Z', reason: 'customer migrating' }],
    maintenance: [{ match: { provider: 'hubspot' }, cron: '0 2 * * SAT', durationMinutes: 120, timezone: 'Europe/Berlin' }],
  },
  null,
  2,
);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahm-monitor-config-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `content` to a new file of the temp dir and returns its path. */
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('loadMonitorConfigFile', () => {
  describe('with a good file', () => {
    it('reads the YAML example of the issue', async () => {
      const result = await loadMonitorConfigFile(file('good.yaml', YAML), options);
      if (!result.ok) throw new Error(result.problems.join('\n'));
      expect(result.config.projects).toEqual([
        { id: 'proj-1', integrationIds: ['int-1', 'int-2'], groupRef: 'org-1' },
        { id: 'proj-2', integrationIds: undefined, groupRef: undefined },
      ]);
      expect(result.config.routes.map((r) => [r.name, r.webhookSource, r.mention])).toEqual([
        ['sales', '$SALES_WEBHOOK', '<!here>'],
        [expect.stringMatching(/^route-[0-9a-f]{8}$/), 'routes[1].webhookUrl', undefined],
      ]);
      // The YAML 1.2 core schema leaves a timestamp a string, as JSON has it; the validator reads it.
      expect(result.config.silences[0]?.until).toEqual(new Date('2026-12-01T00:00:00Z'));
      expect(result.config.maintenance).toEqual([
        { match: { provider: 'hubspot' }, cron: '0 2 * * SAT', durationMinutes: 120, timezone: 'Europe/Berlin', reason: undefined },
      ]);
    });

    it('reads the same file in JSON to the same configuration', async () => {
      const fromYaml = await loadMonitorConfigFile(file('same.yaml', YAML), options);
      const fromJson = await loadMonitorConfigFile(file('same.json', JSON_FILE), options);
      expect(fromJson.ok).toBe(true);
      expect(fromJson).toEqual(fromYaml);
    });
  });

  describe('with a bad file', () => {
    it('starts each problem of the validator with the path of the file', async () => {
      const path = file('bad-route.yaml', 'routes:\n  - match: { provider: 42 }\n    webhookUrl: ' + HOOK + '\n');
      expect(await loadMonitorConfigFile(path, options)).toEqual({
        ok: false,
        problems: [`${path}: routes[0].match.provider must be the provider to match, a non-empty string, got 42`],
      });
    });

    it('names the line and column of a YAML syntax error, and never the text of that line', async () => {
      const path = file('syntax.yaml', `routes:\n  - match: {}\n    webhookUrl: | ${HOOK}\n`);
      const result = await loadMonitorConfigFile(path, options);
      expect(result).toEqual({ ok: false, problems: [`${path}: line 3, column 19: is not valid YAML or JSON (Not a YAML token)`] });
      expect(JSON.stringify(result)).not.toContain('fakeWebhookSecret123');
    });

    it('refuses a key given twice, which JSON.parse would take the last of', async () => {
      const path = file('twice.json', '{\n  "routes": [],\n  "routes": []\n}\n');
      expect(await loadMonitorConfigFile(path, options)).toEqual({
        ok: false,
        problems: [`${path}: line 3, column 3: is not valid YAML or JSON (Map keys must be unique)`],
      });
    });

    it('names a JSON syntax error by line', async () => {
      const path = file('broken.json', '{\n  "routes": [\n');
      expect(await loadMonitorConfigFile(path, options)).toEqual({
        ok: false,
        problems: [
          `${path}: line 3, column 1: is not valid YAML or JSON (Flow sequence in block collection must be sufficiently indented and end with a ])`,
          `${path}: line 3, column 1: is not valid YAML or JSON (Flow map must end with a })`,
        ],
      });
    });

    it('says an empty file is empty', async () => {
      const path = file('empty.yaml', '# nothing yet\n');
      expect(await loadMonitorConfigFile(path, options)).toEqual({
        ok: false,
        problems: [`${path}: the file is empty: it must be a mapping with any of projects, routes, silences, maintenance`],
      });
    });

    it('says why a file cannot be read', async () => {
      const missing = join(dir, 'missing.yaml');
      const directory = join(dir, 'a-directory');
      mkdirSync(directory);
      expect(await loadMonitorConfigFile(missing, options)).toEqual({
        ok: false,
        problems: [`${missing}: cannot be read (there is no such file); the monitor configuration must be a YAML or JSON file`],
      });
      expect(await loadMonitorConfigFile(directory, options)).toEqual({
        ok: false,
        problems: [`${directory}: cannot be read (it is a directory); the monitor configuration must be a YAML or JSON file`],
      });
    });

    it('refuses a file larger than 1 MiB without parsing it', async () => {
      const path = file('huge.yaml', Buffer.alloc(maxConfigFileBytes + 1, 0x20));
      expect(await loadMonitorConfigFile(path, options)).toEqual({
        ok: false,
        problems: [`${path}: is ${maxConfigFileBytes + 1} bytes long, more than a configuration file of 1 MiB; is it the right file?`],
      });
    });
  });
});
