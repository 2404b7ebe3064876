/**
 * Reads the metric and label names a PromQL expression uses, and checks them
 * against a live /metrics exposition of the service: the drift tests of the
 * alert rules (test/deploy/alert-rules.test.ts) and of the Grafana dashboard
 * (test/deploy/dashboard.test.ts) share it.
 */

/** Labels Prometheus adds to every scraped series (`pod` by the Kubernetes service discovery). */
export const TARGET_LABELS: ReadonlySet<string> = new Set(['instance', 'job', 'pod']);
/** Series Prometheus makes itself for each target, with only target labels. */
const SYNTHETIC_METRICS = new Set(['up']);

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'atan2', 'inf', 'nan']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

export interface ExprUse {
  /** Metric names in selectors (an identifier not followed by '(' and not a keyword). */
  readonly metrics: Set<string>;
  /** Label names in each metric's matchers. */
  readonly matchers: Map<string, Set<string>>;
  /** Label names in by/without/on/ignoring/group_left/group_right lists. */
  readonly grouping: Set<string>;
  /** Labels the expression makes itself: the destination of label_replace and label_join. */
  readonly made: Set<string>;
}

/**
 * The destination label of `label_replace(v, "dst", …)` or `label_join(v, "dst", …)` whose '(' is
 * at expr[open]: the string after the first comma at the call's own depth (the first argument may
 * hold commas, strings and brackets of its own).
 */
function madeLabel(expr: string, open: number): string | undefined {
  let depth = 0;
  for (let i = open; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      const quote = c;
      i++;
      while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
    } else if (c === '(' || c === '{' || c === '[') {
      depth++;
    } else if (c === ')' || c === '}' || c === ']') {
      depth--;
      if (depth === 0) return undefined;
    } else if (c === ',' && depth === 1) {
      return /^\s*(["'`])([A-Za-z_][A-Za-z0-9_]*)\1/.exec(expr.slice(i + 1))?.[2];
    }
  }
  return undefined;
}

/**
 * Reads the metric names and label names a PromQL expression uses. A small
 * lexer rather than one regex: strings, range and subquery brackets
 * (`[10m]`, `[15m:1m]`), numbers and durations (`3 * 60`, `offset 30m`) are
 * skipped, an identifier followed by '(' is a function or an aggregation,
 * and the identifiers inside `{…}` are label names, not metrics.
 */
export function promqlUses(expr: string): ExprUse {
  const use: ExprUse = { metrics: new Set(), matchers: new Map(), grouping: new Set(), made: new Set() };
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
      } else if ((lower === 'label_replace' || lower === 'label_join') && expr[i] === '(') {
        const made = madeLabel(expr, i);
        if (made !== undefined) use.made.add(made);
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
export function exposition(text: string): { labels: Map<string, Set<string>>; histograms: Set<string> } {
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

/** What a live /metrics exports: every series name, the label names seen on it, and the histogram families. */
export type Exposition = ReturnType<typeof exposition>;

/**
 * The problems of one expression against a live exposition: metrics it does not
 * have, matcher labels a metric lacks, grouping labels no metric of the
 * expression has (nor label_replace makes), and `$labels.x` in the texts that
 * go with it (a rule's annotations) that no metric of the expression has.
 * Each problem starts with `name`.
 */
export function driftProblems(name: string, expr: string, live: Exposition, texts: readonly unknown[] = []): string[] {
  const problems: string[] = [];
  const use = promqlUses(expr);
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
  const all = new Set<string>([...TARGET_LABELS, ...use.made]);
  for (const metric of use.metrics) {
    const labels = labelsOf(metric);
    if (labels === undefined) {
      problems.push(`${name}: metric ${metric} is not in /metrics`);
      continue;
    }
    for (const l of labels) all.add(l);
    for (const l of use.matchers.get(metric) ?? []) {
      if (!labels.has(l) && !TARGET_LABELS.has(l)) problems.push(`${name}: ${metric} has no label ${l}`);
    }
  }
  for (const l of use.grouping) if (!all.has(l)) problems.push(`${name}: no metric of the expression has the label ${l} it groups by`);
  for (const text of texts) {
    if (typeof text !== 'string') continue;
    for (const m of text.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (m[1] && !all.has(m[1])) problems.push(`${name}: an annotation uses $labels.${m[1]}, which no metric of the rule has`);
    }
  }
  return problems;
}
