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
import { waitFor } from '../helpers/wait.js';

const RULES_FILE = 'deploy/prometheus/alerts.yml';
const RUNBOOK_FILE = 'docs/RUNBOOK.md';
const RUNBOOK_BASE = 'https://github.com/ampersand-health-monitor/ampersand-health-monitor/blob/main/docs/RUNBOOK.md#';
const SEVERITIES = ['critical', 'warning'];
/** Labels Prometheus adds to every scraped series (`pod` by the Kubernetes service discovery). */
const TARGET_LABELS = new Set(['instance', 'job', 'pod']);
/** Series Prometheus makes itself for each target, with only target labels. */
const SYNTHETIC_METRICS = new Set(['up']);

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

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'atan2', 'inf', 'nan']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

interface ExprUse {
  /** Metric names in selectors (an identifier not followed by '(' and not a keyword). */
  readonly metrics: Set<string>;
  /** Label names in each metric's matchers. */
  readonly matchers: Map<string, Set<string>>;
  /** Label names in by/without/on/ignoring/group_left/group_right lists. */
  readonly grouping: Set<string>;
}

/**
 * Reads the metric names and label names a PromQL expression uses. A small
 * lexer rather than one regex: strings, range and subquery brackets
 * (`[10m]`, `[15m:1m]`), numbers and durations (`3 * 60`, `offset 30m`) are
 * skipped, an identifier followed by '(' is a function or an aggregation,
 * and the identifiers inside `{…}` are label names, not metrics.
 */
function promqlUses(expr: string): ExprUse {
  const use: ExprUse = { metrics: new Set(), matchers: new Map(), grouping: new Set() };
  let i = 0;
  const skipSpace = (): void => {
    while (i < expr.length && /\s/.test(expr[i] ?? '')) i++;
  };
  const skipString = (): void => {
    const quote = expr[i];
    i++;
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
    i++;
  };
  const ident = (): string => {
    const m = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i));
    const name = m?.[0] ?? '';
    i += name.length;
    return name;
  };
  /** Label names of a `{…}` matcher list or a `(…)` grouping list starting at expr[i]. */
  const labelList = (close: string): string[] => {
    const names: string[] = [];
    i++;
    for (;;) {
      skipSpace();
      const c = expr[i];
      if (c === undefined) throw new Error(`unclosed list in ${expr}`);
      if (c === close) {
        i++;
        return names;
      }
      if (c === '"' || c === "'" || c === '`') skipString();
      else if (/[A-Za-z_]/.test(c)) names.push(ident());
      else i++;
    }
  };

  while (i < expr.length) {
    const c = expr[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      skipString();
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '[') {
      while (i < expr.length && expr[i] !== ']') i++;
      i++;
    } else if (/[0-9.]/.test(c)) {
      // A number or a duration: 0.25, 60, 30m, 1h30m, 1e3.
      const m = /^[0-9.]+(?:[eE][+-]?[0-9]+)?[A-Za-z0-9]*/.exec(expr.slice(i));
      i += m?.[0].length ?? 1;
    } else if (c === '{') {
      // A selector without a metric name (`{__name__=…}`) has no name to check.
      labelList('}');
    } else if (/[A-Za-z_:]/.test(c)) {
      const name = ident();
      skipSpace();
      const lower = name.toLowerCase();
      if (GROUPING.has(lower)) {
        if (expr[i] === '(') for (const label of labelList(')')) use.grouping.add(label);
      } else if (KEYWORDS.has(lower) || expr[i] === '(' || /^(by|without)\b/i.test(expr.slice(i))) {
        // A keyword, a function or an aggregation (`max without(…) (…)` too): its '(' is read as an ordinary character.
      } else {
        use.metrics.add(name);
        const labels = use.matchers.get(name) ?? new Set<string>();
        use.matchers.set(name, labels);
        if (expr[i] === '{') for (const label of labelList('}')) labels.add(label);
      }
    } else {
      i++;
    }
  }
  return use;
}

/** Metric families of a text exposition: every series name, and the label names seen on it. */
function exposition(text: string): { labels: Map<string, Set<string>>; histograms: Set<string> } {
  const labels = new Map<string, Set<string>>();
  const histograms = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) histogram$/.exec(line);
    if (type?.[1]) histograms.add(type[1]);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s/.exec(line);
    if (!m?.[1]) continue;
    const set = labels.get(m[1]) ?? new Set<string>();
    labels.set(m[1], set);
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) if (l[1]) set.add(l[1]);
  }
  return { labels, histograms };
}

/** The problems of one rule against a live exposition: unknown metrics, and labels no metric of the rule has. */
function driftProblems(rule: Rule, live: ReturnType<typeof exposition>): string[] {
  const problems: string[] = [];
  const use = promqlUses(rule.expr);
  const labelsOf = (metric: string): Set<string> | undefined => {
    if (SYNTHETIC_METRICS.has(metric)) return new Set();
    const direct = live.labels.get(metric);
    if (direct !== undefined) return direct;
    // A histogram's family name itself has no series; its _bucket, _sum and _count have.
    const suffix = /_(bucket|sum|count)$/.exec(metric);
    const base = suffix ? metric.slice(0, -suffix[0].length) : undefined;
    if (base === undefined || !live.histograms.has(base)) return undefined;
    const out = new Set(live.labels.get(metric));
    if (suffix?.[1] === 'bucket') out.add('le');
    return out;
  };
  const all = new Set<string>(TARGET_LABELS);
  for (const metric of use.metrics) {
    const labels = labelsOf(metric);
    if (labels === undefined) {
      problems.push(`${rule.alert}: metric ${metric} is not in /metrics`);
      continue;
    }
    for (const l of labels) all.add(l);
    for (const l of use.matchers.get(metric) ?? []) {
      if (!labels.has(l) && !TARGET_LABELS.has(l)) problems.push(`${rule.alert}: ${metric} has no label ${l}`);
    }
  }
  for (const l of use.grouping) if (!all.has(l)) problems.push(`${rule.alert}: no metric of the rule has the label ${l} it groups by`);
  for (const text of Object.values(rule.annotations ?? {})) {
    if (typeof text !== 'string') continue;
    for (const m of text.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (m[1] && !all.has(m[1])) problems.push(`${rule.alert}: an annotation uses $labels.${m[1]}, which no metric of the rule has`);
    }
  }
  return problems;
}

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
    expect(driftProblems(rule('sum by (reason) (ampersand_api_up)'), live)).toEqual(['Probe: no metric of the rule has the label reason it groups by']);
    expect(driftProblems(rule('ampersand_api_up == 0', '{{ $labels.integration_id }}'), live)).toEqual([
      'Probe: an annotation uses $labels.integration_id, which no metric of the rule has',
    ]);
    expect(driftProblems(rule('histogram_quantile(0.9, sum by (le) (rate(ampersand_poll_duration_seconds_bucket[5m])))'), live)).toEqual([]);
  });
});
