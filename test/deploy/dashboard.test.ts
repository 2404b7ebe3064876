/**
 * The Grafana dashboard (deploy/grafana/dashboard.json) stays in step with the
 * service and with Grafana:
 * - its shape: a current schemaVersion, a data-source variable every query
 *   goes through, an integration variable from label_values, the panels the
 *   operators asked for;
 * - its PromQL: every query parses (promtool check rules over them), and the
 *   table of the worst installations gives what it says, also while two
 *   replicas disagree for a scrape (promtool test rules on its query);
 * - no drift: every metric name and label a query uses is in a live /metrics
 *   of the real service (fake Ampersand and fake Slack), with Grafana's
 *   template variables substituted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { driftProblems, exposition, promqlUses, type Exposition } from '../helpers/promql.js';
import { waitFor } from '../helpers/wait.js';

const DASHBOARD_FILE = 'deploy/grafana/dashboard.json';
/** The last schema version of Grafana's classic dashboard model (Grafana 12 and 13 save it). */
const SCHEMA_VERSION = 42;
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** Metrics with an integration_id label: every selector of one must follow the integration variable. */
const PER_INTEGRATION = /^ampersand_(installation_|installations$|poll_|last_successful_poll_)/;

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// .ci/run installs promtool; in CI its absence is a failure, not a skip.
if (!hasPromtool && process.env['CI'] !== undefined) throw new Error('promtool is missing in CI: .ci/run should have installed it (Debian package prometheus)');
if (!hasPromtool) console.warn('promtool not found (Debian package prometheus): the PromQL checks of the dashboard are skipped');

interface Target {
  readonly refId?: unknown;
  readonly expr?: unknown;
  readonly datasource?: unknown;
  readonly format?: unknown;
  readonly instant?: unknown;
}
interface Panel {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly title?: unknown;
  readonly datasource?: unknown;
  readonly gridPos?: { x?: unknown; y?: unknown; w?: unknown; h?: unknown };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Variable {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly query?: unknown;
  readonly datasource?: unknown;
  readonly includeAll?: unknown;
  readonly multi?: unknown;
  readonly allValue?: unknown;
}
interface Dashboard {
  readonly uid?: unknown;
  readonly title?: unknown;
  readonly schemaVersion?: unknown;
  readonly templating?: { readonly list?: readonly Variable[] };
  readonly panels?: readonly Panel[];
}

/** One PromQL query of the dashboard: a panel's target, or a variable's label_values read as a query. */
interface Query {
  readonly where: string;
  readonly expr: string;
}

/** Every panel, those inside rows too. */
function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/**
 * Grafana's template variables replaced by values a query could run with:
 * `$integration` by the variable's "All" value, the interval variables by a
 * duration. Any other variable is an error, so a new one is not checked by
 * accident as literal text. `$1` (label_replace's reference) is not a variable.
 */
function substitute(expr: string): string {
  const out = expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__interval|\$\{__interval\}|\$__range|\$\{__range\}/g, '5m')
    .replace(/\$integration\b|\$\{integration(?::\w+)?\}/g, '.*');
  const left = /\$\{?[A-Za-z_]\w*/.exec(out);
  if (left) throw new Error(`unknown template variable ${left[0]} in ${expr}`);
  return out;
}

/** `label_values(metric, label)` as the query it stands for, so the drift check sees both names. */
function labelValuesQuery(text: string): string {
  const m = /^label_values\(\s*([^,]+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(text.trim());
  if (!m) throw new Error(`not a label_values(metric, label) query: ${text}`);
  return `count by (${m[2] ?? ''}) (${m[1] ?? ''})`;
}

function queriesOf(dashboard: Dashboard): Query[] {
  const out: Query[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr !== 'string') throw new Error(`panel ${String(panel.title)}: target ${String(target.refId)} has no expr`);
      out.push({ where: `panel "${String(panel.title)}" ${String(target.refId)}`, expr: substitute(target.expr) });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = variable.query as { query?: unknown } | string | undefined;
    const text = typeof query === 'string' ? query : query?.query;
    if (typeof text !== 'string') throw new Error(`variable ${String(variable.name)} has no query`);
    out.push({ where: `variable ${String(variable.name)}`, expr: substitute(labelValuesQuery(text)) });
  }
  return out;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const panels = panelsOf(dashboard);
const queries = queriesOf(dashboard);
const variables = dashboard.templating?.list ?? [];
const worstTable = panels.find((p) => p.type === 'table' && p.title === 'Worst installations');

/** Runs promtool with `args` on a file holding `text`; returns its exit status and output. */
function promtool(args: readonly string[], fileName: string, text: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ahm-dashboard-'));
  try {
    writeFileSync(join(dir, fileName), text);
    const result = spawnSync('promtool', [...args, fileName], { cwd: dir, encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the Grafana dashboard', () => {
  it('has a uid, a title and the schema version of a current Grafana', () => {
    expect(dashboard.uid).toBe('ampersand-health-monitor');
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.schemaVersion).toBe(SCHEMA_VERSION);
  });

  it('has a Prometheus data-source variable, and every panel and query goes through it', () => {
    const ds = variables.filter((v) => v.type === 'datasource');
    expect(ds.map((v) => [v.name, v.query])).toEqual([['datasource', 'prometheus']]);
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, String(panel.title)).toEqual(DATASOURCE);
      for (const target of panel.targets ?? []) expect(target.datasource, `${String(panel.title)} ${String(target.refId)}`).toEqual(DATASOURCE);
    }
    for (const v of variables.filter((x) => x.type === 'query')) expect(v.datasource, String(v.name)).toEqual(DATASOURCE);
  });

  it('has an integration variable from label_values of integration_id, with All, and every per-integration selector follows it', () => {
    const integration = variables.find((v) => v.name === 'integration');
    expect(integration?.type).toBe('query');
    expect((integration?.query as { query?: unknown } | undefined)?.query).toBe('label_values(ampersand_installations, integration_id)');
    expect([integration?.includeAll, integration?.multi, integration?.allValue]).toEqual([true, true, '.*']);
    const unfiltered: string[] = [];
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        const expr = String(target.expr);
        // Each selector of a per-integration metric, with its matchers.
        for (const m of expr.matchAll(/\b(ampersand_[a-z_]+)(\{[^}]*\})?/g)) {
          if (PER_INTEGRATION.test(m[1] ?? '') && !(m[2] ?? '').includes('integration_id=~"$integration"')) unfiltered.push(`${String(panel.title)}: ${m[0]}`);
        }
      }
    }
    expect(unfiltered).toEqual([]);
  });

  it('has the panels the operators asked for', () => {
    const uses = (title: string): Set<string> => {
      const panel = panels.find((p) => p.title === title);
      if (panel === undefined) throw new Error(`no panel "${title}"`);
      return new Set((panel.targets ?? []).flatMap((t) => [...promqlUses(String(t.expr)).metrics]));
    };
    // Installations by health, last operation and connection status, per integration: from the
    // per-integration counts, so they work whatever METRICS_INSTALLATION_SERIES is.
    expect([...uses('Health')]).toEqual(['ampersand_installations']);
    expect([...uses('Last operation')]).toEqual(['ampersand_installations_by_last_operation_status']);
    expect([...uses('Connection')]).toEqual(['ampersand_installations_by_connection_status']);
    for (const title of ['Installations', 'Unhealthy', 'Last operation failed', 'Bad credentials']) {
      expect(
        [...uses(title)].every((m) => !m.startsWith('ampersand_installation_')),
        title,
      ).toBe(true);
    }
    for (const title of ['Health', 'Last operation', 'Connection']) {
      expect(panels.find((p) => p.title === title)?.targets?.every((t) => /sum by \(integration_id, /.test(String(t.expr)))).toBe(true);
    }
    // The worst installations with group names, as a table.
    expect(worstTable?.targets?.[0]?.format).toBe('table');
    expect(uses('Worst installations').has('ampersand_installation_info')).toBe(true);
    expect(String(worstTable?.targets?.[0]?.expr)).toContain('group_left(group_name)');
    // Transitions over time; poll duration quantiles and errors; Slack delivery and the outbox.
    expect([...uses('Transitions')]).toEqual(['ampersand_installation_transitions_total']);
    const duration = panels.find((p) => p.title === 'Poll duration')?.targets?.map((t) => String(t.expr)) ?? [];
    expect(duration.map((e) => /^histogram_quantile\((0\.\d+),/.exec(e)?.[1])).toEqual(['0.5', '0.9', '0.99']);
    expect([...uses('Poll errors')]).toEqual(['ampersand_poll_errors_total']);
    expect([...uses('Deliveries by outcome')]).toEqual(['ampersand_slack_notifications_total']);
    expect([...uses('Outbox and dead letters')].sort()).toEqual(['ampersand_slack_dead_letter_messages', 'ampersand_slack_outbox_messages']);
  });

  it('lays the panels out on the 24-column grid, with unique ids and titles', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = panels.map((p) => p.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const p of panels) {
      const { x, w } = p.gridPos ?? {};
      expect(typeof x === 'number' && typeof w === 'number' && x >= 0 && w > 0 && x + w <= 24, String(p.title)).toBe(true);
    }
  });

  it('reads template variables: the integration and the intervals are substituted, an unknown one is refused', () => {
    expect(substitute('rate(m{integration_id=~"$integration"}[$__rate_interval])')).toBe('rate(m{integration_id=~".*"}[5m])');
    expect(substitute('label_replace(m, "a", "$1", "b", "(.+)")')).toBe('label_replace(m, "a", "$1", "b", "(.+)")');
    expect(() => substitute('m{project_id="$project"}')).toThrow('unknown template variable $project');
    expect(labelValuesQuery('label_values(ampersand_installations, integration_id)')).toBe('count by (integration_id) (ampersand_installations)');
  });

  it.skipIf(!hasPromtool)('has only queries that parse as PromQL (promtool check rules over them)', () => {
    const rules = { groups: [{ name: 'dashboard', rules: queries.map((q, n) => ({ record: `dashboard_query_${n}`, expr: q.expr })) }] };
    const { status, output } = promtool(['check', 'rules'], 'queries.yml', stringify(rules));
    expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(status).toBe(0);
    // The check can fail: a query with a syntax error is refused.
    const broken = { groups: [{ name: 'dashboard', rules: [{ record: 'broken', expr: 'sum by (a (m)' }] }] };
    expect(promtool(['check', 'rules'], 'broken.yml', stringify(broken)).status).not.toBe(0);
  });
});

describe('the table of the worst installations', () => {
  /** One input series of a replica, as promtool's `input_series` takes it. */
  const series = (metric: string, labels: Record<string, string>, values: string): { series: string; values: string } => ({
    series: `${metric}{${Object.entries(labels)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ')}}`,
    values,
  });
  /** Every series of one installation on one replica: one-hot status gauges and the info series. */
  const installation = (
    replica: string,
    id: string,
    state: { health: string; operation: string; connection: string; group: string },
  ): { series: string; values: string }[] => {
    const base = { project_id: 'proj-1', integration_id: 'int-1', installation_id: id, group_ref: `org-${id}`, provider: 'hubspot', instance: replica };
    const oneHot = (metric: string, known: string[], value: string): { series: string; values: string }[] =>
      known.map((status) => series(metric, { ...base, status }, status === value ? '1x5' : '0x5'));
    return [
      ...oneHot('ampersand_installation_health_status', ['healthy', 'unhealthy'], state.health),
      ...oneHot('ampersand_installation_last_operation_status', ['success', 'failure', 'in_progress', 'unknown'], state.operation),
      ...oneHot('ampersand_installation_connection_status', ['created', 'working', 'bad_credentials'], state.connection),
      series('ampersand_installation_info', { ...base, group_name: state.group }, '1x5'),
    ];
  };
  const fine = { health: 'healthy', operation: 'success', connection: 'working' };
  const table = (): string => substitute(String(worstTable?.targets?.[0]?.expr));

  it.skipIf(!hasPromtool)('lists the unhealthy, bad-credential and failing installations with their group name and statuses, once for two replicas', () => {
    const input = ['a', 'b'].flatMap((replica) => [
      ...installation(replica, 'x', { health: 'unhealthy', operation: 'failure', connection: 'bad_credentials', group: 'Acme <EU>' }),
      ...installation(replica, 'y', { ...fine, operation: 'failure', group: 'Globex' }),
      ...installation(replica, 'w', { health: 'unhealthy', operation: 'unknown', connection: 'created', group: 'Initech' }),
      ...installation(replica, 'z', { ...fine, group: 'Hooli' }),
    ]);
    const row = (id: string, group: string, health: string, operation: string, connection: string): string =>
      `{project_id="proj-1", integration_id="int-1", installation_id="${id}", group_ref="org-${id}", provider="hubspot", group_name="${group}", health="${health}", last_operation="${operation}", connection="${connection}"}`;
    const test = {
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: input,
          promql_expr_test: [
            {
              expr: table(),
              eval_time: '2m',
              exp_samples: [
                { labels: row('x', 'Acme <EU>', 'unhealthy', 'failure', 'bad_credentials'), value: 7 },
                { labels: row('w', 'Initech', 'unhealthy', 'unknown', 'created'), value: 4 },
                { labels: row('y', 'Globex', 'healthy', 'failure', 'working'), value: 1 },
              ],
            },
          ],
        },
      ],
    };
    const { status, output } = promtool(['test', 'rules'], 'table.test.yml', stringify(test));
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it.skipIf(!hasPromtool)('still answers, one row per installation, while two replicas were scraped either side of a change', () => {
    // Replica a saw the installation turn unhealthy and its group renamed; replica b not yet.
    const input = [...installation('a', 'v', { ...fine, health: 'unhealthy', group: 'New name' }), ...installation('b', 'v', { ...fine, group: 'Old name' })];
    const test = {
      evaluation_interval: '1m',
      tests: [
        { interval: '1m', input_series: input, promql_expr_test: [{ expr: `count(${table()})`, eval_time: '2m', exp_samples: [{ labels: '{}', value: 1 }] }] },
      ],
    };
    const { status, output } = promtool(['test', 'rules'], 'table.test.yml', stringify(test));
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });
});

describe('the Grafana dashboard: no drift from the live /metrics', () => {
  let h: Harness;
  let live: Exposition;
  beforeAll(async () => {
    h = await createHarness();
    h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy' })]);
    await h.start();
    await waitFor('the baseline', async () => (await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v')) !== null);
    // A transition and a delivered message give the counter and the webhook gauges their series.
    h.ampersand.update('int-1', 'a', { connectionStatus: 'bad_credentials' });
    let text = '';
    await waitFor('a transition and a delivery', async () => {
      text = await h.metrics();
      return ['ampersand_installation_transitions_total', 'ampersand_slack_up', 'ampersand_slack_last_success_timestamp_seconds', 'ampersand_api_up'].every(
        (m) => new RegExp(`^${m}\\{`, 'm').test(text),
      );
    });
    live = exposition(await h.metrics());
  });
  afterAll(async () => {
    await h.stop();
  });

  it('every metric and label of every query is exported', () => {
    expect(queries.length).toBeGreaterThan(15);
    expect(queries.flatMap((q) => driftProblems(q.where, q.expr, live))).toEqual([]);
  });

  it('finds a misspelled metric, a matcher label the metric lacks, and a joined label nobody has', () => {
    const drifted = (from: string, to: string): string[] => {
      const copy = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8').replaceAll(from, to)) as Dashboard;
      return queriesOf(copy).flatMap((q) => driftProblems(q.where, q.expr, live));
    };
    expect(drifted('ampersand_slack_outbox_messages', 'ampersand_slack_outbox_message')).toEqual([
      'panel "Outbox and dead letters" A: metric ampersand_slack_outbox_message is not in /metrics',
    ]);
    expect(drifted('health_status=\\"unhealthy\\"', 'health=\\"unhealthy\\"')).toEqual(['panel "Unhealthy" A: ampersand_installations has no label health']);
    expect(drifted('group_left(group_name)', 'group_left(group_nme)')).toEqual([
      'panel "Worst installations" A: no metric of the expression has the label group_nme it groups by',
    ]);
    expect(drifted('label_values(ampersand_installations, integration_id)"', 'label_values(ampersand_installations, integration)"')).toEqual([
      'variable integration: no metric of the expression has the label integration it groups by',
    ]);
  });
});
