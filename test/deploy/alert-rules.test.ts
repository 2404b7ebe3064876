/**
 * The Prometheus alert rules (deploy/prometheus/alerts.yml) stay in step with
 * the runbook and with the service:
 * - every rule has a severity, a summary and a runbook_url whose anchor is a
 *   heading of docs/RUNBOOK.md;
 * - no drift: every metric name and label an expression uses is in a live
 *   /metrics of the real service (fake Ampersand and fake Slack), read after
 *   one poll that committed a transition and delivered a message, so every
 *   family the rules use has samples whose labels can be read.
 * promtool's own unit tests of the rules are `npm run test:rules`.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { driftProblems as exprDriftProblems, exposition, promqlUses, type Exposition } from '../helpers/promql.js';
import { waitFor } from '../helpers/wait.js';

const RULES_FILE = 'deploy/prometheus/alerts.yml';
const RUNBOOK_FILE = 'docs/RUNBOOK.md';
const RUNBOOK_BASE = 'https://github.com/ampersand-health-monitor/ampersand-health-monitor/blob/main/docs/RUNBOOK.md#';
const SEVERITIES = ['critical', 'warning'];

interface Rule {
  readonly alert: string;
  readonly expr: string;
  /** As YAML read them: the test checks that each value is a string. */
  readonly labels?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

function loadRules(text: string): Rule[] {
  const doc = parse(text) as { groups?: { rules?: Rule[] }[] };
  return (doc.groups ?? []).flatMap((g) => g.rules ?? []);
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to '-', and a repeated anchor numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m?.[1]) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The problems of one rule: its expression, and the labels its annotations name. */
const driftProblems = (rule: Rule, live: Exposition): string[] => exprDriftProblems(rule.alert, rule.expr, live, Object.values(rule.annotations ?? {}));

const rules = loadRules(readFileSync(RULES_FILE, 'utf8'));
const anchors = headingAnchors(readFileSync(RUNBOOK_FILE, 'utf8'));

describe('alert rules: labels, annotations and runbook', () => {
  it('has rules', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s has a severity, a summary and a runbook_url into docs/RUNBOOK.md', (_name, rule) => {
    expect(SEVERITIES).toContain(rule.labels?.['severity']);
    const summary = rule.annotations?.['summary'];
    const url = rule.annotations?.['runbook_url'];
    if (typeof summary !== 'string' || typeof url !== 'string') throw new Error(`${rule.alert}: summary and runbook_url must be strings`);
    expect(summary.trim()).not.toBe('');
    expect(url.startsWith(RUNBOOK_BASE), url).toBe(true);
    const anchor = url.slice(RUNBOOK_BASE.length);
    // One section per rule, named after it.
    expect(anchor).toBe(rule.alert.toLowerCase());
    expect([...anchors]).toContain(anchor);
  });

  it('alert names are unique', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every link within docs/RUNBOOK.md leads to a heading', () => {
    const text = readFileSync(RUNBOOK_FILE, 'utf8');
    const links = [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect([...anchors], `#${link}`).toContain(link);
  });

  it('computes anchors the way GitHub does', () => {
    expect([...headingAnchors('# A: b `c` d\n## Same\n## Same\n```\n# not a heading\n```\n### x_y-z (1 %)\n')]).toEqual([
      'a-b-c-d',
      'same',
      'same-1',
      'x_y-z-1-',
    ]);
  });
});

describe('reading PromQL', () => {
  it('finds metrics, matcher labels and grouping labels, and skips functions, keywords, strings, ranges and durations', () => {
    const use = promqlUses(
      'sum without(instance, pod, reason) (increase(m_total{reason=~"unauthorized|x{y}", field="a"}[10m])) > 0 and on(job) max by (job) (up{job="j"} offset 30m) / 3 * 60',
    );
    expect([...use.metrics].sort()).toEqual(['m_total', 'up']);
    expect([...(use.matchers.get('m_total') ?? [])].sort()).toEqual(['field', 'reason']);
    expect([...use.grouping].sort()).toEqual(['instance', 'job', 'pod', 'reason']);
    expect([...use.made]).toEqual([]);
  });

  it('takes the destination of label_replace and label_join as a label the expression makes, whatever the first argument holds', () => {
    const use = promqlUses(
      'x * on(a) group_left(health, joined) label_replace(max by (a, status) (m{s=~"a,b"}[5m] offset 1m), "health", "$1", "status", "(.+)") + label_join(n{k=","}, "joined", ",", "a", "b")',
    );
    expect([...use.made].sort()).toEqual(['health', 'joined']);
    expect([...use.metrics].sort()).toEqual(['m', 'n', 'x']);
    expect([...use.grouping].sort()).toEqual(['a', 'health', 'joined', 'status']);
  });
});

describe('alert rules: no drift from the live /metrics', () => {
  let h: Harness;
  let text = '';
  beforeAll(async () => {
    h = await createHarness();
    h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy' })]);
    await h.start();
    await waitFor('the baseline', async () => (await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v')) !== null);
    // A transition and a delivered message give the counter and the webhook gauge their series.
    h.ampersand.update('int-1', 'a', { connectionStatus: 'bad_credentials' });
    await waitFor('a transition and a delivery', async () => {
      text = await h.metrics();
      return /^ampersand_installation_transitions_total\{/m.test(text) && /^ampersand_slack_up\{/m.test(text) && /^ampersand_api_up\{/m.test(text);
    });
    text = await h.metrics();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('every metric and label of every rule is exported', () => {
    const live = exposition(text);
    expect(rules.flatMap((r) => driftProblems(r, live))).toEqual([]);
  });

  it('finds a misspelled metric, a label the metric lacks, and a grouping label nobody has', () => {
    const live = exposition(text);
    const rule = (expr: string, summary = ''): Rule => ({ alert: 'Probe', expr, annotations: { summary } });
    expect(driftProblems(rule('max without(instance, pod) (ampersand_api_upp) == 0'), live)).toEqual(['Probe: metric ampersand_api_upp is not in /metrics']);
    expect(driftProblems(rule('ampersand_api_up{integration_id="x"} == 0'), live)).toEqual(['Probe: ampersand_api_up has no label integration_id']);
    expect(driftProblems(rule('sum by (reason) (ampersand_api_up)'), live)).toEqual(['Probe: no metric of the expression has the label reason it groups by']);
    expect(driftProblems(rule('ampersand_api_up == 0', '{{ $labels.integration_id }}'), live)).toEqual([
      'Probe: an annotation uses $labels.integration_id, which no metric of the rule has',
    ]);
    expect(driftProblems(rule('histogram_quantile(0.9, sum by (le) (rate(ampersand_poll_duration_seconds_bucket[5m])))'), live)).toEqual([]);
  });
});
