import { describe, expect, it } from 'vitest';
import type { InstallationRecord } from '../../src/core/snapshot.js';
import {
  escapeHtml,
  lastErrorKey,
  renderStatusPage,
  statusPageMaxValues,
  type MonitorState,
  type StatusPageSettings,
  type StatusPageView,
} from '../../src/core/status-page.js';
import { buildStatusReport, type IntegrationState } from '../../src/core/status-report.js';
import { compileWindows, mutesAt, type Silence } from '../../src/core/silences.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const MIN = 60_000;

function record(overrides: Partial<InstallationRecord> = {}): InstallationRecord {
  return {
    healthStatus: 'healthy',
    lastOperationStatus: 'success',
    settledOperationStatus: 'success',
    connectionStatus: 'working',
    groupRef: 'org-1',
    groupName: 'Customer 1',
    provider: 'salesforce',
    since: { ms: NOW.getTime() - 60 * MIN, exact: false },
    ...overrides,
  };
}

function integration(integrationId: string, records: Record<string, InstallationRecord>, lastSuccessMs = NOW.getTime() - 30_000): IntegrationState {
  return { integrationId, projectId: 'proj-1', lastSuccessMs, snapshot: new Map(Object.entries(records)) };
}

const monitor: MonitorState = {
  apiUp: true,
  slack: {
    target: 'hooks.slack.com',
    up: true,
    reason: undefined,
    downSinceMs: undefined,
    lastSuccessMs: NOW.getTime() - 5 * MIN,
    deadLetters: 0,
    outboxSize: 0,
  },
};
const settings: StatusPageSettings = { projectId: 'proj-1', pollIntervalMs: 60_000 };

function page(states: IntegrationState[], overrides: { monitor?: Partial<MonitorState>; settings?: Partial<StatusPageSettings> } = {}): string {
  const view: StatusPageView = { available: true, report: buildStatusReport(states), monitor: { ...monitor, ...overrides.monitor } };
  return renderStatusPage(view, { ...settings, ...overrides.settings }, NOW);
}

/** The markup of one section, by id. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}">`);
  return start < 0 ? '' : html.slice(start, html.indexOf('</section>', start) + '</section>'.length);
}
const bodyRows = (html: string): number => (/<tbody>([\s\S]*?)<\/tbody>/.exec(section(html, 'attention'))?.[1]?.match(/<tr>/g) ?? []).length;

describe('escapeHtml', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['say "hi"', 'say &quot;hi&quot;'],
    ["it's", 'it&#39;s'],
    ['Evil & Co', 'Evil &amp; Co'],
    ['&amp;', '&amp;amp;'],
    ['two\nlines\r\n', 'two\nlines\r\n'],
    ['nul\u0000 esc\u001b del\u007f', 'nul\ufffd esc\ufffd del\ufffd'],
    ['rlo\u202e lre\u202a pdf\u202c rli\u2067 pdi\u2069', 'rlo\ufffd lre\ufffd pdf\ufffd rli\ufffd pdi\ufffd'],
    ['عربي and עברית text', 'عربي and עברית text'],
    ['plain text', 'plain text'],
  ])('makes %j safe as %j', (text, escaped) => {
    expect(escapeHtml(text)).toBe(escaped);
  });
});

describe('renderStatusPage', () => {
  describe('when every string it shows is hostile', () => {
    const hostile = `<b>Evil & "Co"</b>\n<script>alert('x')</script><img src=x onerror=alert(1)>`;
    const escaped = escapeHtml(hostile);
    const html = renderStatusPage(
      {
        available: true,
        report: buildStatusReport([
          {
            integrationId: hostile,
            projectId: hostile,
            lastSuccessMs: NOW.getTime(),
            snapshot: new Map([
              [
                hostile,
                record({
                  healthStatus: hostile,
                  lastOperationStatus: 'failure',
                  settledOperationStatus: 'failure',
                  connectionStatus: hostile,
                  groupRef: hostile,
                  groupName: hostile,
                  provider: hostile,
                }),
              ],
            ]),
          },
        ]),
        monitor: { apiUp: false, slack: { ...monitor.slack, target: hostile, up: false, reason: hostile, downSinceMs: NOW.getTime() - MIN } },
      },
      { projectId: hostile, pollIntervalMs: 60_000, dashboardUrl: `https://grafana.example.com/d/x?title=${encodeURIComponent(hostile)}&a="b"` },
      NOW,
    );

    it('shows each as text, escaped, in text and in attributes alike', () => {
      // Installation id, integration id (twice), group name and ref, provider, health (cell, counts,
      // bar title), connection (cell, counts), the Slack target and reason, the project.
      expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(12);
      expect(html).toContain(`title="${escaped}: 1"`);
      expect(html).toContain(`aria-label="${escaped} 1"`);
    });

    it('lets none of them open an element or an attribute', () => {
      expect(html).not.toContain('<b>');
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<img');
      expect(html).not.toContain('"Co"');
      expect(html).not.toContain("'x'");
      // The dashboard link is the URL as parsed: its quotes are percent-encoded, and the rest escaped.
      expect(html).toMatch(/<a href="https:\/\/grafana\.example\.com\/d\/x\?title=[^"<>]*&amp;a=%22b%22" rel="noopener noreferrer">/);
    });
  });

  it('lets no value reverse what follows it: a count after a status value with a right-to-left override reads as it is', () => {
    // Unescaped, "degraded\u202e 123" is drawn as "degraded 321": the override runs on past the value's element.
    const html = page([integration('int-1', { a: record({ healthStatus: 'degraded\u202e' }), b: record({ healthStatus: 'degraded\u202e' }) })]);
    expect(html).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(html).toContain('<li class="other"><span class="k">degraded\ufffd</span> <span class="v">2</span></li>');
  });

  it('keeps a line break in a group name inside its cell', () => {
    const html = page([integration('int-1', { a: record({ healthStatus: 'unhealthy', groupName: 'Two\nLines & <More>' }) })]);
    expect(html).toContain('<td class="group">Two\nLines &amp; &lt;More&gt;</td>');
  });

  it('references nothing outside itself: no script, stylesheet, image, frame, font or form', () => {
    const html = page([integration('int-1', { a: record({ healthStatus: 'unhealthy' }) })], { settings: { dashboardUrl: 'https://grafana.example.com/d/x' } });
    // The one link is an empty icon in the page itself, so a browser asks no server for /favicon.ico.
    expect(html.match(/<link\b[^>]*>/gi)).toEqual(['<link rel="icon" href="data:,">']);
    expect(html).not.toMatch(/<(script|img|iframe|object|embed|form|base)\b/i);
    expect(html).not.toMatch(/\bsrc=|url\(|@import/i);
  });

  it('refreshes itself every 30 s', () => {
    expect(page([])).toContain('<meta http-equiv="refresh" content="30">');
  });

  describe('the integrations', () => {
    const html = page([
      integration('int-sales', {
        a: record(),
        b: record(),
        c: record(),
        d: record({ healthStatus: 'unhealthy' }),
        e: record({ connectionStatus: 'bad_credentials' }),
      }),
    ]);
    const integrations = section(html, 'integrations');

    it('shows each with its counts by health, last operation and connection', () => {
      expect(integrations).toContain('<th scope="row">int-sales</th>');
      expect(integrations).toContain('<td class="num">5</td>');
      expect(integrations).toContain('<td class="num bad">2</td>');
      expect(integrations).toContain('<li class="ok"><span class="k">healthy</span> <span class="v">4</span></li>');
      expect(integrations).toContain('<li class="bad"><span class="k">unhealthy</span> <span class="v">1</span></li>');
      expect(integrations).toContain('<li class="bad"><span class="k">bad_credentials</span> <span class="v">1</span></li>');
      expect(integrations).toContain('<li class="ok"><span class="k">success</span> <span class="v">5</span></li>');
    });

    it('draws a bar by health, each segment as wide as its share, good first', () => {
      expect(integrations).toContain(
        '<div class="bar" role="img" aria-label="healthy 4, unhealthy 1"><span class="seg ok" style="width:80.000%" title="healthy: 4"></span><span class="seg bad" style="width:20.000%" title="unhealthy: 1"></span></div>',
      );
    });

    describe('when the API sends thousands of distinct status values', () => {
      // Each value is kept as it came (cut to 64 characters): a hostile or broken API can send one per installation.
      const odd = (field: string, i: number): string => `${field}-${'x'.repeat(50)}-${i}`;
      const records = Object.fromEntries(
        Array.from({ length: 3000 }, (_, i) => [
          `inst-${i}`,
          i < 10
            ? record({ healthStatus: 'unhealthy' })
            : record({ healthStatus: odd('h', i), lastOperationStatus: odd('o', i), connectionStatus: odd('c', i) }),
        ]),
      );
      const hostile = section(page([integration('int-odd', records)]), 'integrations');
      const plain = section(page([integration('int-odd', { a: record(), b: record({ healthStatus: 'unhealthy' }) })]), 'integrations');

      it(`shows the ${statusPageMaxValues - 1} largest counts and sums the rest in one "other values" entry`, () => {
        const health = /<td class="health">([\s\S]*?)<\/td>/.exec(hostile)?.[1] ?? '';
        expect(health.match(/<li /g)).toHaveLength(statusPageMaxValues);
        expect(health).toContain('<li class="bad"><span class="k">unhealthy</span> <span class="v">10</span></li>');
        const shownOdd = statusPageMaxValues - 2;
        expect(health).toContain(
          `<li class="other"><span class="k">${(2990 - shownOdd).toLocaleString('en-US')} other values</span> <span class="v">${(2990 - shownOdd).toLocaleString('en-US')}</span></li>`,
        );
        expect(health.match(/<span class="seg /g)).toHaveLength(statusPageMaxValues);
      });

      it('costs about what a page of two values costs', () => {
        expect(hostile.length).toBeLessThan(plain.length + 8 * 1024);
      });
    });

    it('says when the stored state cannot be read', () => {
      const unreadable = page([{ integrationId: 'int-bad', projectId: 'p', lastSuccessMs: NOW.getTime(), snapshot: undefined }]);
      expect(section(unreadable, 'integrations')).toContain('The stored state cannot be read; the next poll takes a new baseline.');
    });

    it('says when none was polled yet', () => {
      expect(section(page([]), 'integrations')).toContain('No integration has been polled yet.');
    });
  });

  describe('the installations needing attention', () => {
    it('lists them worst first, with group, ref, provider, statuses and since when', () => {
      const html = page([
        integration('int-1', {
          ok: record(),
          sick: record({ healthStatus: 'unhealthy', groupName: 'Acme', groupRef: 'org_acme', provider: 'hubspot' }),
          worst: record({ healthStatus: 'unhealthy', connectionStatus: 'bad_credentials', groupName: 'Globex' }),
        }),
      ]);
      const attention = section(html, 'attention');
      expect(attention).toContain('<span class="badge bad">2</span>');
      expect(attention.indexOf('Globex')).toBeLessThan(attention.indexOf('Acme'));
      expect(attention).not.toContain('<code>ok</code>');
      expect(attention).toContain('<td class="group">Acme</td>');
      expect(attention).toContain('<td class="ref"><code>org_acme</code></td>');
      expect(attention).toContain('<td>hubspot</td>');
      expect(attention).toContain('<td class="status bad">unhealthy</td>');
      expect(attention).toContain('<td class="status ok">success</td>');
      expect(attention).toContain('<td class="status bad">bad_credentials</td>');
    });

    it('marks an operation running again after a failure as the failure alerting sees', () => {
      const html = page([integration('int-1', { a: record({ lastOperationStatus: 'in_progress', settledOperationStatus: 'failure' }) })]);
      expect(section(html, 'attention')).toContain('<td class="status bad">in_progress <span class="muted">(after a failure)</span></td>');
    });

    it.each<[string, InstallationRecord['since'], RegExp]>([
      [
        'an exact since as its age and time',
        { ms: NOW.getTime() - 125 * MIN, exact: true },
        /<td class="since"><time datetime="2026-12-01T09:55:00\.000Z" title="2026-12-01 09:55:00 UTC">2 h 5 m ago<\/time><br><span class="muted small">2026-12-01 09:55:00 UTC<\/span><\/td>/,
      ],
      ['a first sighting as "first seen"', { ms: NOW.getTime() - 3 * MIN, exact: false }, /<td class="since">first seen <time [^>]+>3 m ago<\/time>/],
      ['no since as "unknown"', undefined, /<td class="since"><span class="muted">unknown<\/span><\/td>/],
    ])('shows %s', (_name, since, expected) => {
      const { since: _dropped, ...rest } = record({ healthStatus: 'unhealthy' });
      const html = page([integration('int-1', { a: since === undefined ? rest : { ...rest, since } })]);
      expect(section(html, 'attention')).toMatch(expected);
    });

    it('renders only the worst rows, then says how many more there are', () => {
      const many = Object.fromEntries(
        Array.from({ length: 1234 }, (_, i) => [`i${String(i).padStart(4, '0')}`, record({ healthStatus: 'unhealthy', since: { ms: i, exact: true } })]),
      );
      const html = page([integration('int-1', many)], { settings: { maxRows: 10 } });
      expect(bodyRows(html)).toBe(10);
      expect(section(html, 'attention')).toContain('<code>i0009</code>');
      expect(section(html, 'attention')).not.toContain('<code>i0010</code>');
      expect(section(html, 'attention')).toContain('+1,224 more not shown (the worst 10 are listed)');
      expect(section(html, 'attention')).toContain('<span class="badge bad">1,234</span>');
    });

    it('renders 500 rows by default, however many there are', () => {
      const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`i${i}`, record({ healthStatus: 'unhealthy' })]));
      const html = page([integration('int-1', many)]);
      expect(bodyRows(html)).toBe(500);
      expect(html).toContain('+19,500 more not shown (the worst 500 are listed)');
    });

    it('says so when nothing needs attention, without a "more" line', () => {
      const html = page([integration('int-1', { a: record() })]);
      expect(section(html, 'attention')).toContain('Nothing needs attention');
      expect(html).not.toContain('more not shown');
      expect(html).toContain('<title>all well · Ampersand health monitor</title>');
    });
  });

  describe("the monitor's own state", () => {
    const monitorSection = (m: Partial<MonitorState>, states: IntegrationState[] = [integration('int-1', { a: record() })]): string =>
      section(page(states, { monitor: m }), 'monitor');

    it.each<[string, boolean | undefined, string]>([
      ['readable', true, '<dd class="ok">yes</dd>'],
      ['unreadable', false, '<dd class="bad">no: the last cycle could not read the Ampersand API'],
      ['not polled yet', undefined, '<dd class="muted">unknown: no poll has finished yet</dd>'],
    ])('says whether the API is readable: %s', (_name, apiUp, expected) => {
      expect(monitorSection({ apiUp })).toContain(expected);
    });

    it.each<[string, Partial<MonitorState['slack']>, RegExp]>([
      ['delivering', {}, /<dd class="ok">yes, to hooks\.slack\.com; last message accepted <time [^>]+>5 m ago<\/time><\/dd>/],
      [
        'paused',
        { up: false, reason: 'channel_is_archived', downSinceMs: NOW.getTime() - 2 * MIN },
        /<dd class="bad">no: paused since <time [^>]+>2 m ago<\/time> \(channel_is_archived\); alerts are kept in order until it works/,
      ],
      ['unknown', { up: undefined, lastSuccessMs: undefined }, /<dd class="muted">unknown: nothing delivered to hooks\.slack\.com yet<\/dd>/],
      ['only logging', { target: 'log' }, /no channel: SLACK_WEBHOOK_URL is unset, alerts are only logged/],
    ])('says whether Slack is delivering: %s', (_name, slack, expected) => {
      expect(monitorSection({ slack: { ...monitor.slack, ...slack } })).toMatch(expected);
    });

    it('shows each route by its name, with its webhook host and its own outbox lane', () => {
      const html = monitorSection({
        routes: [
          {
            ...monitor.slack,
            name: 'crm-team',
            target: 'hooks.slack.com',
            up: false,
            reason: 'invalid_token',
            downSinceMs: NOW.getTime() - 2 * MIN,
            outboxSize: 7,
          },
          { ...monitor.slack, name: 'routes[1]<b>', outboxSize: 0 },
        ],
      });
      expect(html).toMatch(/<dt>Route crm-team<\/dt><dd class="bad">no: paused since <time [^>]+>2 m ago<\/time> \(invalid_token\)/);
      expect(html).toContain('<dt>Route crm-team outbox</dt><dd class="other">7 waiting</dd>');
      expect(html).toContain('<dt>Route routes[1]&lt;b&gt;</dt><dd class="ok">yes, to hooks.slack.com');
      expect(monitorSection({})).not.toContain('Route ');
    });

    it('shows the outbox and the dead letters', () => {
      const html = monitorSection({ slack: { ...monitor.slack, outboxSize: 1500, deadLetters: 3 } });
      expect(html).toContain('<dt>Outbox</dt><dd class="other">1,500 waiting</dd>');
      expect(html).toContain('<dt>Dead letters</dt><dd class="bad">3</dd>');
    });

    it('shows the last cycle as the oldest last successful poll, and stale past 3 poll intervals', () => {
      const fresh = monitorSection({}, [integration('int-a', {}, NOW.getTime() - 10_000), integration('int-b', {}, NOW.getTime() - 100_000)]);
      expect(fresh).toMatch(/<dd class="ok">last successful poll <time [^>]+>1 m ago<\/time> \(the oldest, int-b; each is in the table below\)<\/dd>/);
      const stale = page([integration('int-a', {}, NOW.getTime() - 181_000)]);
      expect(section(stale, 'monitor')).toContain('<strong>stale</strong>, older than 3 poll intervals');
      expect(section(stale, 'integrations')).toMatch(/<td class="bad"><time [^>]+>3 m ago<\/time> <strong>stale<\/strong><\/td>/);
      expect(section(page([integration('int-a', {}, NOW.getTime() - 179_000)]), 'monitor')).not.toContain('stale');
    });

    it('says when no poll succeeded yet', () => {
      expect(monitorSection({}, [])).toContain('no successful poll yet');
    });
  });

  describe('the dashboard link', () => {
    it('is there when DASHBOARD_URL is set', () => {
      expect(page([], { settings: { dashboardUrl: 'https://grafana.example.com/d/ampersand?orgId=1&var-integration=All' } })).toContain(
        '<a href="https://grafana.example.com/d/ampersand?orgId=1&amp;var-integration=All" rel="noopener noreferrer">Grafana dashboard</a>',
      );
    });

    it.each([undefined, 'javascript:alert(1)', 'data:text/html,<b>x</b>', 'https://user:pw@grafana.example.com/', 'not a url'])(
      'is absent for %s',
      (dashboardUrl) => {
        const html = page([], { settings: { dashboardUrl } });
        expect(html).not.toContain('Grafana dashboard');
        expect(html).not.toContain('javascript:');
      },
    );
  });

  describe('when the state cannot be read', () => {
    const html = renderStatusPage({ available: false, reason: 'Redis did not answer within 2 s' }, { ...settings, dashboardUrl: 'https://g.example/d/x' }, NOW);

    it('says so, with the reason, and still refreshes itself and links the dashboard', () => {
      expect(html).toContain("The monitor's state cannot be read right now: Redis did not answer within 2 s.");
      expect(html).toContain('<title>state unavailable · Ampersand health monitor</title>');
      expect(html).toContain('<meta http-equiv="refresh" content="30">');
      expect(html).toContain('<a href="https://g.example/d/x"');
      expect(html).not.toContain('id="attention"');
    });
  });
});

describe('renderStatusPage: the last operation error', () => {
  it('shows the error line the episode log kept, escaped, and a dash where none is known', () => {
    const states = [
      integration('int-1', {
        a: record({ lastOperationStatus: 'failure', settledOperationStatus: 'failure' }),
        b: record({ healthStatus: 'unhealthy' }),
      }),
    ];
    const view: StatusPageView = {
      available: true,
      report: buildStatusReport(states),
      monitor,
      lastErrors: new Map([[lastErrorKey('int-1', 'a'), '[account] Read failed: <script>alert(1)</script> & "INVALID_SESSION_ID"']]),
    };
    const html = renderStatusPage(view, settings, NOW);
    expect(html).toContain('<th scope="col">Last operation error</th>');
    expect(html).toContain('<td class="error">[account] Read failed: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;INVALID_SESSION_ID&quot;</td>');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<td class="error"><span class="muted">–</span></td>');
  });
});

describe('renderStatusPage with silences and maintenance windows', () => {
  const states = [integration('int-1', { a: record({ healthStatus: 'unhealthy' }), b: record({ healthStatus: 'unhealthy', groupRef: 'org-2' }) })];
  const silences: Silence[] = [{ match: { groupRef: 'org-1' }, until: new Date('2026-12-01T15:00:00Z'), reason: 'customer <migrating>' }];
  const windows = compileWindows([{ match: { provider: 'salesforce' }, cron: '0 11 * * *', durationMinutes: 120, timezone: 'UTC', reason: undefined }]);

  it('says which installation is muted, by what rule, why and until when, escaped', () => {
    const report = buildStatusReport(states, { mutes: mutesAt(silences, windows, NOW) });
    expect(report.installations.map((i) => [i.installationId, i.muted?.by, i.muted?.also, i.muted?.until])).toEqual([
      ['a', 'silences[0]', ['maintenance[0]'], Date.parse('2026-12-01T15:00:00Z')],
      ['b', 'maintenance[0]', undefined, Date.parse('2026-12-01T13:00:00Z')],
    ]);
    const html = renderStatusPage({ available: true, report, monitor }, settings, NOW);
    expect(html).toContain('muted by silences[0], maintenance[0] (customer &lt;migrating&gt;) until 2026-12-01 15:00:00 UTC');
    expect(html).toContain('muted by maintenance[0] until 2026-12-01 13:00:00 UTC');
  });

  it('says nothing of a rule no longer in force', () => {
    const later = new Date('2026-12-01T16:00:00Z');
    const report = buildStatusReport(states, { mutes: mutesAt(silences, windows, later) });
    expect(report.installations.every((i) => i.muted === undefined)).toBe(true);
    expect(renderStatusPage({ available: true, report, monitor }, settings, later)).not.toContain('muted by');
  });
});
