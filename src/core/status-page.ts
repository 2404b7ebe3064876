/**
 * The status page (`GET /` on the metrics port) as HTML: what on-call needs at
 * a glance without Prometheus, from the status report, the monitor's own state
 * and the time. Pure: the caller loads the state and passes `now`.
 *
 * The page is read-only and self-contained: no script, no external asset (the
 * CSS is inline), so it works offline and inside a cluster under a CSP of
 * `default-src 'none'`. Every value that reaches it (group names, ids, status
 * values, reasons) is untrusted text: the `markup` template below escapes every
 * interpolation for text and for double-quoted attributes alike, so no
 * value can open an element or leave an attribute. Only the worst `maxRows`
 * installations are rendered, and at most `statusPageMaxValues` status values
 * per count list and bar, so a page of 20,000 unhealthy ones costs no more than
 * one of 500, even when each has a status value of its own.
 */
import { formatDuration } from './duration.js';
import type { Field } from './diff.js';
import type { InstallationStatus, IntegrationStatus, StatusReport } from './status-report.js';

/** The page reloads itself this often, in seconds. */
export const statusPageRefreshSeconds = 30;
/** Installations rendered at most; the rest are counted in one "+N more" line. */
export const statusPageMaxRows = 500;
/**
 * Entries of one count list or bar at most: the largest counts, then one "N other
 * values" entry with the rest. The spec has 2 or 3 values per field, but a value
 * outside it is kept as it came, so a hostile or broken API can send one per installation.
 */
export const statusPageMaxValues = 8;

/** The Slack channel's shared state, as the outbox reports it (a ChannelStatus fits), with its size. */
export interface SlackState {
  /** Where alerts go: the webhook's host, or `log` when SLACK_WEBHOOK_URL is unset and alerts are only logged. */
  readonly target: string;
  /** undefined until a delivery succeeded or found the channel broken. */
  readonly up: boolean | undefined;
  readonly reason: string | undefined;
  readonly downSinceMs: number | undefined;
  readonly lastSuccessMs: number | undefined;
  readonly deadLetters: number;
  /** Messages waiting in the outbox. */
  readonly outboxSize: number;
}

/** What the monitor knows about itself. */
export interface MonitorState {
  /** Whether the last cycle could read the Ampersand API (the upstream tracker's apiUp); undefined before any poll. */
  readonly apiUp: boolean | undefined;
  /** The default route's webhook (SLACK_WEBHOOK_URL) and outbox lane. */
  readonly slack: SlackState;
  /** Each other route's webhook and outbox lane, in file order, by its name (never its URL); absent without routes. */
  readonly routes?: readonly (SlackState & { readonly name: string })[];
}

/** The state read from Redis, or why it could not be read (a fixed, secret-free sentence). */
export type StatusPageView =
  | {
      readonly available: true;
      readonly report: StatusReport;
      readonly monitor: MonitorState;
      /** The last failing operation's first error line per installation shown, from the episode log, by lastErrorKey. */
      readonly lastErrors?: ReadonlyMap<string, string>;
    }
  | { readonly available: false; readonly reason: string };

/** The key of an installation in StatusPageView.lastErrors: ids may hold any character but NUL in practice. */
export const lastErrorKey = (integrationId: string, installationId: string): string => `${integrationId}\u0000${installationId}`;

/** What does not change between two loads: from the configuration. */
export interface StatusPageSettings {
  /** The configured project (AMPERSAND_PROJECT_ID). */
  readonly projectId: string;
  /** POLL_INTERVAL_SECONDS in ms: a last successful poll older than 3 intervals is shown as stale, as the alert rule judges it. */
  readonly pollIntervalMs: number;
  /** DASHBOARD_URL: linked from the header when set (and only if it is http or https). */
  readonly dashboardUrl?: string | undefined;
  /** statusPageMaxRows unless a test asks for fewer. */
  readonly maxRows?: number;
}

// ---------------------------------------------------------------------------
// Escaping: every interpolation is text unless it is already SafeHtml.
// ---------------------------------------------------------------------------

/** Markup made by the `markup` template, which may be inserted as is. */
class SafeHtml {
  constructor(readonly value: string) {}
}

type Interpolation = SafeHtml | string | number | undefined | false | readonly Interpolation[];

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * `text` made safe for HTML text and for a quoted attribute value: the five
 * characters that can end either are entities, and control characters (which
 * HTML does not allow, and NUL among them) become U+FFFD. So do the
 * bidirectional embeddings, overrides and isolates: one left open in a value
 * runs on past its element to the end of the line, and would draw the count
 * after a status value backwards (123 as 321). Right-to-left text itself stays.
 */
export function escapeHtml(text: string): string {
  return (
    text
      .replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c)
      // eslint-disable-next-line no-control-regex -- the control characters are what it replaces
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '\ufffd')
  );
}

function interpolate(value: Interpolation): string {
  if (value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (typeof value === 'number') return escapeHtml(String(value));
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(interpolate).join('');
}

/** A template whose interpolations are escaped (strings, numbers) or inserted (SafeHtml, arrays of them); undefined and false are nothing. */
function markup(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += interpolate(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

// ---------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------

const count = (n: number): string => n.toLocaleString('en-US');

/** `2026-12-01 02:28:14 UTC`. */
function utc(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'an unreadable time' : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A point in time with its age: `<time>` holds the exact instant, the text says how long ago. */
function when(ms: number, now: Date): SafeHtml {
  const date = new Date(ms);
  const iso = Number.isNaN(date.getTime()) ? '' : date.toISOString();
  return markup`<time datetime="${iso}" title="${utc(ms)}">${formatDuration(now.getTime() - ms)} ago</time>`;
}

/**
 * Since when an installation is in its state. `exact` false is only when this
 * monitor first saw it so (the state began then or earlier): "first seen".
 */
function formatSince(since: InstallationStatus['since'], now: Date): SafeHtml {
  if (since === undefined) return markup`<span class="muted">unknown</span>`;
  const at = markup`${when(since.ms, now)}<br><span class="muted small">${utc(since.ms)}</span>`;
  return since.exact ? at : markup`first seen ${at}`;
}

/** http(s) only: a URL that is anything else (javascript:, data:) is not linked, whatever the configuration let through. */
function safeLink(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.username === '' && parsed.password === '' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------

/** The tone of a status value: the ones alerting judges bad, the good ones, and the rest (in_progress, unknown, values outside the spec). */
type Tone = 'ok' | 'bad' | 'other';
const GOOD_VALUES = new Set(['healthy', 'success', 'working', 'created']);
const BAD_VALUES = new Set(['unhealthy', 'failure', 'bad_credentials']);
const tone = (value: string): Tone => (GOOD_VALUES.has(value) ? 'ok' : BAD_VALUES.has(value) ? 'bad' : 'other');
const TONE_ORDER: readonly Tone[] = ['ok', 'other', 'bad'];

/** What one count list or bar shows: at most statusPageMaxValues - 1 values, good first, and the rest summed. */
interface ShownCounts {
  readonly entries: readonly (readonly [value: string, n: number])[];
  /** The values not shown, and their installations; undefined when every value is shown. */
  readonly rest: { readonly values: number; readonly n: number } | undefined;
}

function shownCounts(byValue: Readonly<Record<string, number>>): ShownCounts {
  const all = Object.entries(byValue);
  // The largest counts; ties by value, so two renders of one state agree.
  const kept =
    all.length <= statusPageMaxValues ? all : [...all].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0)).slice(0, statusPageMaxValues - 1);
  const entries = kept.sort(([a], [b]) => TONE_ORDER.indexOf(tone(a)) - TONE_ORDER.indexOf(tone(b)));
  if (kept.length === all.length) return { entries, rest: undefined };
  const shownTotal = kept.reduce((sum, [, n]) => sum + n, 0);
  const total = all.reduce((sum, [, n]) => sum + n, 0);
  return { entries, rest: { values: all.length - kept.length, n: total - shownTotal } };
}

/** Counts as `healthy 118 · unhealthy 2`, good values first. */
function counts(byValue: Readonly<Record<string, number>>): SafeHtml {
  const { entries, rest } = shownCounts(byValue);
  if (entries.length === 0) return markup`<span class="muted">none</span>`;
  return markup`<ul class="counts">
    ${entries.map(([value, n]) => markup`<li class="${tone(value)}"><span class="k">${value}</span> <span class="v">${count(n)}</span></li>`)}
    ${rest === undefined ? undefined : markup`<li class="other"><span class="k">${count(rest.values)} other values</span> <span class="v">${count(rest.n)}</span></li>`}
  </ul>`;
}

/** A bar of the installations by health: one segment per value, its width its share. */
function healthBar(byHealth: Readonly<Record<string, number>>, total: number): SafeHtml {
  const { entries, rest } = shownCounts(byHealth);
  const segments: (readonly [label: string, n: number, tone: Tone])[] = [
    ...entries.map(([value, n]) => [value, n, tone(value)] as const),
    ...(rest === undefined ? [] : [[`${rest.values} other values`, rest.n, 'other'] as const]),
  ];
  const label = segments.map(([value, n]) => `${value} ${n}`).join(', ');
  return markup`<div class="bar" role="img" aria-label="${label === '' ? 'no installations' : label}">${
    total === 0
      ? undefined
      : segments.map(([value, n, t]) => markup`<span class="seg ${t}" style="width:${((100 * n) / total).toFixed(3)}%" title="${value}: ${n}"></span>`)
  }</div>`;
}

function integrationRow(i: IntegrationStatus, settings: StatusPageSettings, now: Date): SafeHtml {
  const stale = now.getTime() - i.lastSuccessMs > 3 * settings.pollIntervalMs;
  const lastPoll = markup`<td class="${stale ? 'bad' : ''}">${when(i.lastSuccessMs, now)}${stale ? markup` <strong>stale</strong>` : undefined}</td>`;
  if (!i.readable) {
    return markup`<tr>
      <th scope="row">${i.integrationId}</th>
      <td colspan="5" class="bad">The stored state cannot be read; the next poll takes a new baseline.</td>
      ${lastPoll}
    </tr>`;
  }
  return markup`<tr>
      <th scope="row">${i.integrationId}</th>
      <td class="num">${count(i.total)}</td>
      <td class="num ${i.needingAttention > 0 ? 'bad' : ''}">${count(i.needingAttention)}</td>
      <td class="health">${healthBar(i.byHealth, i.total)}${counts(i.byHealth)}</td>
      <td>${counts(i.byLastOperation)}</td>
      <td>${counts(i.byConnection)}</td>
      ${lastPoll}
    </tr>`;
}

function integrationsSection(report: StatusReport, settings: StatusPageSettings, now: Date): SafeHtml {
  const body =
    report.integrations.length === 0
      ? markup`<p class="muted">No integration has been polled yet.</p>`
      : markup`<table>
          <thead><tr>
            <th scope="col">Integration</th><th scope="col">Installations</th><th scope="col">Needing attention</th>
            <th scope="col">Health</th><th scope="col">Last operation</th><th scope="col">Connection</th><th scope="col">Last successful poll</th>
          </tr></thead>
          <tbody>${report.integrations.map((i) => integrationRow(i, settings, now))}</tbody>
        </table>`;
  return markup`<section id="integrations"><h2>Integrations</h2>${body}</section>`;
}

/** A status cell, marked bad when alerting judges that field bad. */
function statusCell(value: string, field: Field, row: InstallationStatus): SafeHtml {
  const bad = row.problems.includes(field);
  // The operation is judged on its last settled value: one running again after a failure is still a failure.
  const note = bad && field === 'last_operation_status' && value !== 'failure' ? markup` <span class="muted">(after a failure)</span>` : undefined;
  return markup`<td class="status ${bad ? 'bad' : tone(value) === 'ok' ? 'ok' : ''}">${value}${note}</td>`;
}

/** "muted by silences[0] (reason) until …": its alerts are recorded, not sent, until then. */
function mutedNote(row: InstallationStatus): SafeHtml | undefined {
  const m = row.muted;
  if (m === undefined) return undefined;
  const others = m.also === undefined ? '' : `, ${m.also.join(', ')}`;
  return markup`<br><span class="muted-by" title="alerts are recorded, not sent">muted by ${m.by}${others}${m.reason === undefined ? '' : ` (${m.reason})`} until ${utc(m.until)}</span>`;
}

function installationRow(row: InstallationStatus, now: Date, lastError: string | undefined): SafeHtml {
  return markup`<tr>
      <td class="integration">${row.integrationId}</td>
      <td class="group">${row.groupName}</td>
      <td class="ref"><code>${row.groupRef}</code></td>
      <td>${row.provider}</td>
      ${statusCell(row.healthStatus, 'health_status', row)}
      ${statusCell(row.lastOperationStatus, 'last_operation_status', row)}
      ${statusCell(row.connectionStatus, 'connection_status', row)}
      <td class="since">${formatSince(row.since, now)}</td>
      <td class="id"><code>${row.installationId}</code>${mutedNote(row)}</td>
      <td class="error">${lastError === undefined ? markup`<span class="muted">–</span>` : lastError}</td>
    </tr>`;
}

function attentionSection(report: StatusReport, maxRows: number, now: Date, lastErrors: ReadonlyMap<string, string>): SafeHtml {
  const rows = report.installations;
  const shown = rows.slice(0, maxRows);
  const more = rows.length - shown.length;
  // The last operation error comes from the episode log: known for an operation that failed long enough to fire.
  const body =
    rows.length === 0
      ? markup`<p class="ok-note">Nothing needs attention: every installation is healthy, its last operation did not fail and its credentials work.</p>`
      : markup`<table>
          <thead><tr>
            <th scope="col">Integration</th><th scope="col">Group</th><th scope="col">Group ref</th><th scope="col">Provider</th>
            <th scope="col">Health</th><th scope="col">Last operation</th><th scope="col">Connection</th><th scope="col">Since</th><th scope="col">Installation</th><th scope="col">Last operation error</th>
          </tr></thead>
          <tbody>${shown.map((row) => installationRow(row, now, lastErrors.get(lastErrorKey(row.integrationId, row.installationId))))}</tbody>
          ${more > 0 ? markup`<tfoot><tr><td colspan="10" class="more">+${count(more)} more not shown (the worst ${count(shown.length)} are listed)</td></tr></tfoot>` : undefined}
        </table>`;
  return markup`<section id="attention"><h2>Needing attention <span class="badge ${rows.length > 0 ? 'bad' : 'ok'}">${count(rows.length)}</span></h2>
    <p class="muted">Worst first: most problems, then the longest standing. A problem is what alerting judges bad: unhealthy, a failed last operation, bad credentials.</p>
    ${body}</section>`;
}

function apiLine(apiUp: boolean | undefined): SafeHtml {
  if (apiUp === undefined) return markup`<dd class="muted">unknown: no poll has finished yet</dd>`;
  return apiUp
    ? markup`<dd class="ok">yes</dd>`
    : markup`<dd class="bad">no: the last cycle could not read the Ampersand API (see <a href="/readyz">/readyz</a>)</dd>`;
}

function slackLine(slack: SlackState, now: Date): SafeHtml {
  if (slack.target === 'log') return markup`<dd class="other">no channel: SLACK_WEBHOOK_URL is unset, alerts are only logged</dd>`;
  const last = slack.lastSuccessMs === undefined ? undefined : markup`; last message accepted ${when(slack.lastSuccessMs, now)}`;
  if (slack.up === undefined) return markup`<dd class="muted">unknown: nothing delivered to ${slack.target} yet</dd>`;
  if (slack.up) return markup`<dd class="ok">yes, to ${slack.target}${last}</dd>`;
  const since = slack.downSinceMs === undefined ? undefined : markup` since ${when(slack.downSinceMs, now)}`;
  return markup`<dd class="bad">no: paused${since} (${slack.reason ?? 'unknown reason'}); alerts are kept in order until it works${last}</dd>`;
}

/** The oldest of the last successful polls: the one that says whether the cycles still run. */
function lastCycleLine(report: StatusReport, settings: StatusPageSettings, now: Date): SafeHtml {
  const oldest = [...report.integrations].sort((a, b) => a.lastSuccessMs - b.lastSuccessMs)[0];
  if (oldest === undefined) return markup`<dd class="muted">no successful poll yet</dd>`;
  const stale = now.getTime() - oldest.lastSuccessMs > 3 * settings.pollIntervalMs;
  const which = report.integrations.length === 1 ? undefined : markup` (the oldest, ${oldest.integrationId}; each is in the table below)`;
  return markup`<dd class="${stale ? 'bad' : 'ok'}">last successful poll ${when(oldest.lastSuccessMs, now)}${which}${
    stale ? markup`: <strong>stale</strong>, older than 3 poll intervals` : undefined
  }</dd>`;
}

function monitorSection(monitor: MonitorState, report: StatusReport, settings: StatusPageSettings, now: Date): SafeHtml {
  const { slack } = monitor;
  return markup`<section id="monitor"><h2>Monitor</h2><dl>
    <dt>Ampersand API readable</dt>${apiLine(monitor.apiUp)}
    <dt>Slack delivering</dt>${slackLine(slack, now)}
    <dt>Outbox</dt><dd class="${slack.outboxSize > 0 ? 'other' : ''}">${count(slack.outboxSize)} waiting</dd>
    <dt>Dead letters</dt><dd class="${slack.deadLetters > 0 ? 'bad' : ''}">${count(slack.deadLetters)}</dd>
    ${(monitor.routes ?? []).map(
      (route) => markup`<dt>Route ${route.name}</dt>${slackLine(route, now)}
    <dt>Route ${route.name} outbox</dt><dd class="${route.outboxSize > 0 ? 'other' : ''}">${count(route.outboxSize)} waiting</dd>`,
    )}
    <dt>Last cycle</dt>${lastCycleLine(report, settings, now)}
  </dl></section>`;
}

const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --other: #9a6700; --muted: #59636e; --line: #d1d9e0; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1400px; color: #1f2328; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; border-bottom: 1px solid var(--line); margin-bottom: 8px; }
h1 { font-size: 20px; margin: 8px 0; } h2 { font-size: 16px; margin: 20px 0 8px; }
header p { margin: 0; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.group { white-space: pre-wrap; overflow-wrap: break-word; max-width: 28em; }
td.ref code, td.id code { overflow-wrap: break-word; }
td.integration, td.since, th[scope="row"] { white-space: nowrap; }
.small { font-size: 12px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { font-weight: 600; } dd { margin: 0; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .other { color: var(--other); } .muted { color: var(--muted); }
td.status.bad { font-weight: 600; }
.badge { display: inline-block; min-width: 1.5em; padding: 0 6px; border-radius: 10px; color: #fff; text-align: center; font-size: 13px; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
.bar { display: flex; width: 160px; height: 10px; border-radius: 3px; overflow: hidden; background: #eaeef2; margin: 4px 0; }
.seg.ok { background: var(--ok); } .seg.bad { background: var(--bad); } .seg.other { background: var(--other); }
ul.counts { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0 10px; }
ul.counts .v { font-variant-numeric: tabular-nums; }
td.more { color: var(--muted); font-style: italic; }
.unavailable { border: 1px solid var(--bad); border-radius: 6px; padding: 8px 12px; color: var(--bad); }
`;

/**
 * The whole page. `view` is the loaded state, or why it could not be loaded
 * (the page then says so, and still refreshes itself, so it recovers on its
 * own). Every string in it is escaped; only the worst `settings.maxRows`
 * installations are rendered.
 */
export function renderStatusPage(view: StatusPageView, settings: StatusPageSettings, now: Date): string {
  const dashboard = safeLink(settings.dashboardUrl);
  const attention = view.available ? view.report.installations.length : undefined;
  const title = attention === undefined ? 'state unavailable' : attention === 0 ? 'all well' : `${count(attention)} need attention`;
  const main = view.available
    ? markup`${monitorSection(view.monitor, view.report, settings, now)}${integrationsSection(view.report, settings, now)}${attentionSection(
        view.report,
        settings.maxRows ?? statusPageMaxRows,
        now,
        view.lastErrors ?? new Map<string, string>(),
      )}`
    : markup`<section id="unavailable"><h2>State unavailable</h2><p class="unavailable">The monitor's state cannot be read right now: ${view.reason}. This page tries again every ${statusPageRefreshSeconds} s; <a href="/readyz">/readyz</a> says more.</p></section>`;
  const page = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${statusPageRefreshSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title} · Ampersand health monitor</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<header>
<h1>Ampersand health monitor</h1>
<p>project <code>${settings.projectId}</code> · as of <time datetime="${now.toISOString()}">${utc(now.getTime())}</time> · refreshes every ${statusPageRefreshSeconds} s</p>
${dashboard === undefined ? undefined : markup`<p><a href="${dashboard}" rel="noopener noreferrer">Grafana dashboard</a></p>`}
</header>
<main>${main}</main>
</body>
</html>
`;
  return page.value;
}
