/**
 * deploy/kubernetes/ against the Kubernetes schemas and against the code:
 * - every manifest validates with kubernetes-models (Kubernetes 1.27 schemas)
 *   and @kubernetes-models/prometheus-operator (the ServiceMonitor and
 *   PrometheusRule CRDs); these check types, required fields, enums and
 *   patterns, not unknown fields, so the fields that matter are read below;
 * - the probes ask the paths the HTTP server really serves, on the port the
 *   service really listens on (parseConfig of the environment the pod gets);
 * - every variable the Deployment sets is one the service reads;
 * - the grace period outlasts the shutdown deadline of src/main.ts;
 * - the Service, ServiceMonitor and PodDisruptionBudget select what they should,
 *   and the scrape job is the one the alert rules name;
 * - the PrometheusRule is what alerts.yml generates now.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusRule, ServiceMonitor, type IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, type IConfigMap, type ISecret, type IService } from 'kubernetes-models/v1';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { alertRulesFile, generateRulesCommand, prometheusRuleFile, renderPrometheusRule } from '../../scripts/prometheus-rule-manifest.js';
import { startHttpServer, type HttpServer } from '../../src/adapters/http-server.js';
import { KNOWN_VARIABLES, parseConfig } from '../../src/config.js';
import { shutdownDeadlineMs } from '../../src/main.js';
import { captureLogs } from '../helpers/logger.js';

const DIR = 'deploy/kubernetes';
/** Placeholders for the real Secret, which is created by hand; not applied by kustomize. */
const SECRET_EXAMPLE = 'secret.example.yaml';
const KUSTOMIZATION = 'kustomization.yaml';

const MODELS = [ConfigMap, Secret, Service, Deployment, PodDisruptionBudget, ServiceMonitor, PrometheusRule];

interface Manifest {
  readonly file: string;
  readonly object: unknown;
}

const files = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const manifests: Manifest[] = files
  .filter((f) => f !== KUSTOMIZATION)
  .flatMap((file) => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => ({ file, object: doc.toJS() as unknown })));
const objects = manifests.map((m) => m.object);

/** The one object a guard accepts (Deployment.is, …); fails when there is none or more than one. */
function only<T>(guard: (x: unknown) => x is T, what: string): T {
  const found = objects.filter(guard);
  if (found.length !== 1) throw new Error(`expected one ${what} in ${DIR}, found ${found.length}`);
  return found[0] as T;
}

const deployment: IDeployment = only(Deployment.is, 'Deployment');
const service: IService = only(Service.is, 'Service');
const configMap: IConfigMap = only(ConfigMap.is, 'ConfigMap');
const secret: ISecret = only(Secret.is, 'Secret');
const serviceMonitor: IServiceMonitor = only(ServiceMonitor.is, 'ServiceMonitor');
const pdb: IPodDisruptionBudget = only(PodDisruptionBudget.is, 'PodDisruptionBudget');
const podSpec = deployment.spec?.template.spec;
const [container] = podSpec?.containers ?? [];
if (container === undefined) throw new Error('the Deployment has no container');
const podLabels = deployment.spec?.template.metadata?.labels ?? {};

/** Whether a label selector's matchLabels all hold on `labels` (and it selects something). */
const selects = (matchLabels: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  matchLabels !== undefined && Object.keys(matchLabels).length > 0 && Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

/** The environment the container gets: its ConfigMap (envFrom), then env, whose secrets come from the example Secret. */
function podEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  const secretValue = (name: string, key: string): string => {
    if (name !== secret.metadata?.name) throw new Error(`the Deployment reads Secret ${name}; ${SECRET_EXAMPLE} describes ${secret.metadata?.name}`);
    const value = secret.stringData?.[key];
    if (value === undefined) throw new Error(`${SECRET_EXAMPLE} has no key ${key}, which the Deployment reads`);
    return value;
  };
  for (const source of container?.envFrom ?? []) {
    if (source.configMapRef !== undefined) {
      if (source.configMapRef.name !== configMap.metadata?.name)
        throw new Error(`the Deployment reads ConfigMap ${source.configMapRef.name ?? ''}, not in ${DIR}`);
      Object.assign(env, configMap.data);
    }
    if (source.secretRef !== undefined) for (const key of Object.keys(secret.stringData ?? {})) env[key] = secretValue(source.secretRef.name ?? '', key);
  }
  for (const e of container?.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (ref !== undefined) env[e.name] = secretValue(ref.name ?? '', ref.key);
    else throw new Error(`env ${e.name} is neither a value nor a secretKeyRef`);
  }
  return env;
}

/** The container port a probe or a Service's targetPort names (by name or number). */
function containerPort(port: string | number | undefined): number | undefined {
  return (container?.ports ?? []).find((p) => p.name === port || p.containerPort === port)?.containerPort;
}

describe('deploy/kubernetes: the schemas', () => {
  it.each(manifests.map((m) => [`${m.file} ${String((m.object as { kind?: unknown }).kind)}`, m] as const))('%s validates', (_name, m) => {
    const model = MODELS.find((M) => M.is(m.object));
    expect(model, `${m.file}: no schema for this apiVersion and kind`).toBeDefined();
    // validate() throws with every violation, named by its path.
    expect(() => new (model as unknown as new (data: unknown) => { validate(): void })(m.object).validate()).not.toThrow();
  });

  it('catches a wrong type, a missing required field and a bad duration', () => {
    const broken = structuredClone(deployment) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas must be integer/);
    expect(() => new PrometheusRule({ metadata: { name: 'x' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A' } as never] }] } }).validate()).toThrow(
      /must have required property expr/,
    );
    expect(() => new ServiceMonitor({ metadata: { name: 'x' }, spec: { selector: {}, endpoints: [{ interval: '30 seconds' }] } }).validate()).toThrow(
      /interval/,
    );
  });

  it('lists in kustomization.yaml every manifest but the example Secret', () => {
    const kustomization = parse(readFileSync(join(DIR, KUSTOMIZATION), 'utf8')) as { kind?: string; resources?: string[] };
    expect(kustomization.kind).toBe('Kustomization');
    expect([...(kustomization.resources ?? [])].sort()).toEqual(files.filter((f) => f !== KUSTOMIZATION && f !== SECRET_EXAMPLE));
  });
});

describe('deploy/kubernetes: the Deployment against the code', () => {
  let server: HttpServer;
  let ready = false;
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: res.status, type: res.headers.get('content-type') ?? '' };
  };
  beforeAll(async () => {
    // The real HTTP server, with a readiness the test turns on and off.
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      statusPage: () => Promise.resolve({ status: 200, html: '<!doctype html><title>status</title>' }),
      logger: captureLogs().logger,
      beforeScrape: () => Promise.resolve(),
      readiness: () => Promise.resolve({ ready }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('runs two replicas', () => {
    expect(deployment.spec?.replicas).toBe(2);
    expect(selects(deployment.spec?.selector.matchLabels, podLabels)).toBe(true);
  });

  it('probes liveness on a path that answers 200 even while the replica is not ready, and readiness on one that follows readiness', async () => {
    const liveness = container.livenessProbe?.httpGet?.path;
    const readiness = container.readinessProbe?.httpGet?.path;
    if (liveness === undefined || readiness === undefined) throw new Error('both probes must be httpGet probes');
    ready = false;
    expect(await get(liveness)).toMatchObject({ status: 200 });
    expect(await get(readiness)).toMatchObject({ status: 503 });
    ready = true;
    expect(await get(liveness)).toMatchObject({ status: 200 });
    expect(await get(readiness)).toMatchObject({ status: 200 });
  });

  it('probes the port the service listens on, as parseConfig reads the environment the pod gets', () => {
    const config = parseConfig(podEnvironment());
    const named = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
    expect(named).toBe(config.metricsPort);
    expect(containerPort(container.livenessProbe?.httpGet?.port)).toBe(config.metricsPort);
    expect(containerPort(container.readinessProbe?.httpGet?.port)).toBe(config.metricsPort);
    // The kubelet and Prometheus come from outside the pod.
    expect(config.metricsHost).toBe('0.0.0.0');
  });

  it('sets only variables the service reads, and takes the secrets from the Secret', () => {
    const names = Object.keys(podEnvironment());
    expect(names.filter((n) => !KNOWN_VARIABLES.includes(n))).toEqual([]);
    const fromSecret = (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef !== undefined).map((e) => e.name);
    expect(fromSecret.sort()).toEqual(['AMPERSAND_API_KEY', 'REDIS_URL', 'SLACK_WEBHOOK_URL']);
    // No secret in plain sight: not in the ConfigMap, not as a literal value.
    expect(Object.keys(configMap.data ?? {}).filter((k) => fromSecret.includes(k))).toEqual([]);
    expect((container.env ?? []).filter((e) => e.value !== undefined)).toEqual([]);
    expect((container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef?.optional === true)).toEqual([]);
  });

  it('keeps Kubernetes from injecting service-link variables of our families (AMPERSAND_HEALTH_MONITOR_SERVICE_HOST …)', () => {
    expect(podSpec?.enableServiceLinks).toBe(false);
  });

  it('gives the service a grace period longer than its own shutdown deadline (src/main.ts)', () => {
    const grace = podSpec?.terminationGracePeriodSeconds;
    if (grace === undefined) throw new Error('terminationGracePeriodSeconds must be set');
    expect(grace * 1000).toBeGreaterThan(shutdownDeadlineMs);
  });

  it('runs as a numeric non-root user, read-only, without capabilities or privilege escalation, under the runtime seccomp profile', () => {
    expect(podSpec?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(podSpec?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.securityContext?.privileged).toBeUndefined();
    expect(podSpec?.automountServiceAccountToken).toBe(false);
  });

  it('requests CPU and memory and limits memory', () => {
    const { requests, limits } = container.resources ?? {};
    expect(requests?.['cpu']).toBeDefined();
    expect(requests?.['memory']).toBeDefined();
    expect(limits?.['memory']).toBeDefined();
  });

  it('runs the image of this version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(container.image).toBe(`ampersand-health-monitor:${version}`);
  });
});

describe('deploy/kubernetes: Service, ServiceMonitor, PodDisruptionBudget', () => {
  it('the Service selects the pods and targets the metrics port', () => {
    expect(selects(service.spec?.selector, podLabels)).toBe(true);
    const [port] = service.spec?.ports ?? [];
    expect(containerPort(port?.targetPort)).toBe(containerPort('metrics'));
  });

  it('the ServiceMonitor scrapes /metrics, which serves the Prometheus format, on the Service port', async () => {
    expect(selects(serviceMonitor.spec.selector.matchLabels, service.metadata?.labels ?? {})).toBe(true);
    const [endpoint] = serviceMonitor.spec.endpoints;
    expect(service.spec?.ports?.map((p) => p.name)).toContain(endpoint?.port);
    expect(endpoint?.path).toBe('/metrics');
    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      statusPage: () => Promise.resolve({ status: 200, html: '<!doctype html><title>status</title>' }),
      logger: captureLogs().logger,
      beforeScrape: () => Promise.resolve(),
      readiness: () => Promise.resolve({ ready: true }),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}${endpoint?.path ?? ''}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    } finally {
      await server.close();
    }
  });

  it('the scrape job (the Service name, as the ServiceMonitor sets no jobLabel) is the job the alert rules name', () => {
    expect(serviceMonitor.spec.jobLabel).toBeUndefined();
    const jobs = new Set([...readFileSync(alertRulesFile, 'utf8').matchAll(/\bjob="([^"]+)"/g)].map((m) => m[1]));
    expect([...jobs]).toEqual([service.metadata?.name]);
  });

  it('the PodDisruptionBudget covers the pods and lets one go at a time, never all', () => {
    expect(selects(pdb.spec?.selector?.matchLabels, podLabels)).toBe(true);
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(deployment.spec?.replicas).toBeGreaterThan(1);
  });
});

describe('deploy/kubernetes/prometheus-rule.yaml', () => {
  it(`is what \`${generateRulesCommand}\` generates from deploy/prometheus/alerts.yml now`, () => {
    const committed = readFileSync(prometheusRuleFile, 'utf8').split('\n');
    const fresh = renderPrometheusRule(readFileSync(alertRulesFile, 'utf8')).split('\n');
    const line = committed.findIndex((text, i) => text !== fresh[i]);
    const at = line === -1 && committed.length === fresh.length ? undefined : line === -1 ? committed.length : line;
    const where =
      at === undefined
        ? ''
        : `line ${at + 1}: committed ${JSON.stringify(committed[at] ?? '(end of file)')}, generated ${JSON.stringify(fresh[at] ?? '(end of file)')}`;
    expect(at, `deploy/kubernetes/prometheus-rule.yaml is stale (${where}): run \`${generateRulesCommand}\` and commit the result`).toBeUndefined();
  });

  it('holds exactly the groups of alerts.yml', () => {
    const rule = parse(renderPrometheusRule(readFileSync(alertRulesFile, 'utf8'))) as { spec: { groups: unknown } };
    expect(rule.spec.groups).toEqual((parse(readFileSync(alertRulesFile, 'utf8')) as { groups: unknown }).groups);
  });

  it('refuses an alerts file without groups rather than writing an empty rule', () => {
    expect(() => renderPrometheusRule('rules: []\n')).toThrow(/no groups list/);
    expect(() => renderPrometheusRule('groups: [\n')).toThrow(/not valid YAML/);
  });
});
