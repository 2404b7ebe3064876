import { describe, expect, it } from 'vitest';
import type { AlertSubject } from '../../src/core/alert-subject.js';
import { selectRoute, validateMonitorConfig, type MonitorConfig, type MonitorConfigOptions, type Route } from '../../src/core/monitor-config.js';
import { compileWindows } from '../../src/core/silences.js';

const HOOK = 'https://hooks.slack.com/services/T0/B0/fakeWebhookSecret123';
const SALES_HOOK = 'https://hooks.slack.com/services/T0/B1/fakeSalesSecret456';
const options: MonitorConfigOptions = { env: { SALES_WEBHOOK: SALES_HOOK, EMPTY_VAR: ' ' }, allowAnyWebhookHost: false };

/** Every key of the issue, and the ones added (route name, reasons). */
const GOOD = {
  projects: [
    { id: 'proj-1', integrations: ['int-1', 'int-2'], groupRef: 'org-1' },
    { id: 'my-project-name', integrations: null },
  ],
  routes: [
    { name: 'sales', match: { projectId: 'proj-1', provider: 'salesforce' }, webhookUrlEnv: 'SALES_WEBHOOK', mention: '<!subteam^S0123ABCD> <@U0123ABCD>' },
    { match: { groupRef: 'org-vip' }, webhookUrl: HOOK, mention: '<!here>' },
    { match: {}, webhookUrl: HOOK },
  ],
  silences: [
    { match: { installationId: 'inst-1', groupRef: 'org-1', integrationId: 'int-1' }, until: '2026-12-01T00:00:00Z', reason: 'customer migrating' },
    { match: {}, until: '2026-12-01T09:30:00+01:00' },
  ],
  maintenance: [{ match: { provider: 'hubspot' }, cron: '0 2 * * SAT', durationMinutes: 120, timezone: 'Europe/Berlin', reason: 'HubSpot maintenance' }],
};

const EXPECTED: MonitorConfig = {
  projects: [
    { id: 'proj-1', integrationIds: ['int-1', 'int-2'], groupRef: 'org-1' },
    { id: 'my-project-name', integrationIds: undefined, groupRef: undefined },
  ],
  routes: [
    {
      name: 'sales',
      match: { projectId: 'proj-1', provider: 'salesforce' },
      webhookUrl: SALES_HOOK,
      webhookSource: '$SALES_WEBHOOK',
      mention: '<!subteam^S0123ABCD> <@U0123ABCD>',
    },
    { name: 'route-4a755ff6', match: { groupRef: 'org-vip' }, webhookUrl: HOOK, webhookSource: 'routes[1].webhookUrl', mention: '<!here>' },
    { name: 'route-544320bf', match: {}, webhookUrl: HOOK, webhookSource: 'routes[2].webhookUrl', mention: undefined },
  ],
  silences: [
    {
      match: { installationId: 'inst-1', groupRef: 'org-1', integrationId: 'int-1' },
      until: new Date('2026-12-01T00:00:00Z'),
      reason: 'customer migrating',
    },
    { match: {}, until: new Date('2026-12-01T08:30:00Z'), reason: undefined },
  ],
  maintenance: [{ match: { provider: 'hubspot' }, cron: '0 2 * * SAT', durationMinutes: 120, timezone: 'Europe/Berlin', reason: 'HubSpot maintenance' }],
};

function problems(value: unknown, opts: MonitorConfigOptions = options): readonly string[] {
  const result = validateMonitorConfig(value, opts);
  if (result.ok) throw new Error('expected problems, got a config');
  return result.problems;
}

describe('validateMonitorConfig', () => {
  describe('with a good file', () => {
    it('returns the typed configuration, with the webhook of webhookUrlEnv read from the environment', () => {
      expect(validateMonitorConfig(GOOD, options)).toEqual({ ok: true, config: EXPECTED });
    });

    it('reads a file without any key, and empty sections, as "use the environment"', () => {
      const empty: MonitorConfig = { projects: undefined, routes: [], silences: [], maintenance: [] };
      expect(validateMonitorConfig({}, options)).toEqual({ ok: true, config: empty });
      expect(validateMonitorConfig({ projects: null, routes: null, silences: null, maintenance: null }, options)).toEqual({ ok: true, config: empty });
    });

    it('gives windows that compile', () => {
      const result = validateMonitorConfig(GOOD, options);
      expect(result.ok && compileWindows(result.config.maintenance)).toHaveLength(1);
    });

    it('accepts another https host for a webhook when SLACK_WEBHOOK_ALLOW_ANY_HOST is true, and a loopback one always', () => {
      const routes = [
        { match: {}, webhookUrl: 'https://chat.example.com/hooks/fakeWebhookSecret123' },
        { match: {}, webhookUrl: 'http://127.0.0.1:9/hook/fakeWebhookSecret123' },
      ];
      expect(validateMonitorConfig({ routes }, { ...options, allowAnyWebhookHost: true }).ok).toBe(true);
      expect(problems({ routes })).toEqual([
        expect.stringMatching(/^routes\[0\]\.webhookUrl must be https:\/\/hooks\.slack\.com\/services\/… \(set SLACK_WEBHOOK_ALLOW_ANY_HOST=true/),
      ]);
    });
  });

  describe('with a bad file', () => {
    /** GOOD with one section replaced. */
    const bad = (patch: Record<string, unknown>): Record<string, unknown> => ({ ...GOOD, ...patch });
    const route = (patch: Record<string, unknown>) => bad({ routes: [{ match: {}, webhookUrl: HOOK, ...patch }] });
    const window = (patch: Record<string, unknown>) =>
      bad({ maintenance: [{ match: {}, cron: '0 2 * * SAT', durationMinutes: 60, timezone: 'UTC', ...patch }] });
    const silence = (patch: Record<string, unknown>) => bad({ silences: [{ match: {}, until: '2026-12-01T00:00:00Z', ...patch }] });
    const CRON = 'a 5-field cron expression (minute hour day-of-month month day-of-week), such as "0 2 * * SAT"';
    const INSTANT = 'a date and time with its offset, such as 2026-12-01T00:00:00Z or 2026-12-01T09:00:00+01:00';
    const TIMEZONE = 'an IANA time zone, such as Europe/Berlin, America/New_York or UTC';

    it.each<[string, unknown, string]>([
      // The file itself
      ['an empty file', null, 'the file is empty: it must be a mapping with any of projects, routes, silences, maintenance'],
      ['a list', [], 'the file must be a mapping of projects, routes, silences, maintenance, got a list'],
      ['a misspelt key', { route: [] }, 'route is not a key the file accepts (projects, routes, silences, maintenance)'],
      ['a key that is no identifier', { 'my routes': [] }, '"my routes" is not a key the file accepts (projects, routes, silences, maintenance)'],
      // projects
      ['no project', bad({ projects: [] }), 'projects must list at least one project, or be left out to use AMPERSAND_PROJECT_ID'],
      ['a project that is a string', bad({ projects: ['proj-1'] }), 'projects[0] must be a mapping of id, integrations, groupRef, got "proj-1"'],
      ['a project without id', bad({ projects: [{ integrations: ['int-1'] }] }), 'projects[0].id is required: the Ampersand project id or name'],
      ['a project listed twice', bad({ projects: [{ id: 'p' }, { id: 'p' }] }), 'projects[1].id repeats project "p": list each project once'],
      [
        'an empty list of integrations',
        bad({ projects: [{ id: 'p', integrations: [] }] }),
        'projects[0].integrations must list at least one integration id, or be left out to discover every integration of the project',
      ],
      [
        'integrations as one string',
        bad({ projects: [{ id: 'p', integrations: 'int-1' }] }),
        'projects[0].integrations must be a list of integration ids, got "int-1"',
      ],
      [
        'an integration id that is a number',
        bad({ projects: [{ id: 'p', integrations: ['a', 42] }] }),
        'projects[0].integrations[1] must be an integration id, a non-empty string, got 42',
      ],
      ['an integration listed twice', bad({ projects: [{ id: 'p', integrations: ['a', 'a'] }] }), 'projects[0].integrations[1] repeats integration "a"'],
      ['an empty groupRef', bad({ projects: [{ id: 'p', groupRef: '' }] }), 'projects[0].groupRef must be a groupRef, a non-empty string, got ""'],
      [
        'a misspelt project key',
        bad({ projects: [{ id: 'p', integration: ['a'] }] }),
        'projects[0].integration is not a key a project accepts (id, integrations, groupRef)',
      ],
      // routes
      ['routes that are a mapping', bad({ routes: { match: {} } }), 'routes must be a list of routes, got a mapping'],
      [
        'a route match on a number',
        bad({ routes: [GOOD.routes[0], { match: { provider: 42 }, webhookUrl: HOOK }] }),
        'routes[1].match.provider must be the provider to match, a non-empty string, got 42',
      ],
      [
        'a route without match',
        route({ match: undefined }),
        'routes[0].match is required: a mapping of any of projectId, integrationId, provider, groupRef to the values to match ({} matches everything)',
      ],
      [
        'a route match on an installation',
        route({ match: { installationId: 'i' } }),
        'routes[0].match.installationId is not a key the match of a route accepts (projectId, integrationId, provider, groupRef)',
      ],
      [
        'a route match that is a string',
        route({ match: 'all' }),
        'routes[0].match must be a mapping of projectId, integrationId, provider, groupRef to the values to match ({} matches everything), got "all"',
      ],
      ['a route with both webhooks', route({ webhookUrlEnv: 'SALES_WEBHOOK' }), 'routes[0] must have webhookUrl or webhookUrlEnv, not both'],
      [
        'a route without webhook',
        bad({ routes: [{ match: {} }] }),
        'routes[0] needs webhookUrl (a Slack incoming webhook URL) or webhookUrlEnv (the name of an environment variable that holds one)',
      ],
      [
        'a webhook over http',
        route({ webhookUrl: HOOK.replace('https:', 'http:') }),
        'routes[0].webhookUrl must use https:// (http:// only on 127.0.0.1, localhost or [::1]) (value hidden)',
      ],
      [
        'a webhook with a query',
        route({ webhookUrl: `${HOOK}?token=fakeWebhookSecret123` }),
        'routes[0].webhookUrl must have no query (?…) or fragment (#…) (value hidden)',
      ],
      [
        'a webhook with a password',
        route({ webhookUrl: 'https://u:fakeWebhookSecret123@hooks.slack.com/services/T0/B0/x' }),
        'routes[0].webhookUrl must not carry a user name or password (user:password@host); it is sent in logs and messages (value hidden)',
      ],
      [
        'a webhook that is no URL',
        route({ webhookUrl: 'hooks.slack.com/services/fakeWebhookSecret123' }),
        'routes[0].webhookUrl must be a Slack incoming webhook URL, https://hooks.slack.com/services/… (value hidden)',
      ],
      [
        'a webhook that is a number',
        route({ webhookUrl: 42 }),
        'routes[0].webhookUrl must be a Slack incoming webhook URL, https://hooks.slack.com/services/… (value hidden)',
      ],
      [
        'a variable name that is not one',
        bad({ routes: [{ match: {}, webhookUrlEnv: 'sales-webhook' }] }),
        'routes[0].webhookUrlEnv must be the name of an environment variable (letters, digits and "_", not starting with a digit), got "sales-webhook"',
      ],
      [
        'a variable that is not set',
        bad({ routes: [{ match: {}, webhookUrlEnv: 'NOT_SET' }] }),
        "routes[0].webhookUrlEnv names NOT_SET, which is not set or empty: it must hold the route's Slack incoming webhook URL",
      ],
      [
        'a variable that is blank',
        bad({ routes: [{ match: {}, webhookUrlEnv: 'EMPTY_VAR' }] }),
        "routes[0].webhookUrlEnv names EMPTY_VAR, which is not set or empty: it must hold the route's Slack incoming webhook URL",
      ],
      [
        'a mention without Slack syntax',
        route({ mention: '@here' }),
        'routes[0].mention must be Slack mention syntax, such as "<!here>", "<!channel>", "<!subteam^S0123ABCD>" (a user group) or "<@U0123ABCD>" (a user), several separated by spaces, 200 characters at most; got "@here"',
      ],
      [
        'a mention that is a list',
        route({ mention: ['<!here>'] }),
        'routes[0].mention must be Slack mention syntax, such as "<!here>", "<!channel>", "<!subteam^S0123ABCD>" (a user group) or "<@U0123ABCD>" (a user), several separated by spaces, 200 characters at most; got a list',
      ],
      ['a route named default', route({ name: 'default' }), 'routes[0].name must not be "default": that is the route of SLACK_WEBHOOK_URL'],
      ['a route named slack', route({ name: 'slack' }), 'routes[0].name must not be "slack": the release before named the route of SLACK_WEBHOOK_URL so'],
      [
        'a mention too long to show',
        route({ mention: Array.from({ length: 20 }, () => '<!subteam^S0123ABCD>').join(' ') }),
        `routes[0].mention must be Slack mention syntax, such as "<!here>", "<!channel>", "<!subteam^S0123ABCD>" (a user group) or "<@U0123ABCD>" (a user), several separated by spaces, 200 characters at most; got "${Array.from(
          { length: 20 },
          () => '<!subteam^S0123ABCD>',
        )
          .join(' ')
          .slice(0, 100)}…"`,
      ],
      [
        'a route name with a space',
        route({ name: 'the sales' }),
        'routes[0].name must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit, got "the sales"',
      ],
      [
        'two routes of one name',
        bad({
          routes: [
            { name: 'a', match: {}, webhookUrl: HOOK },
            { name: 'a', match: {}, webhookUrl: HOOK },
          ],
        }),
        'routes[1].name repeats the route name "a": each route needs its own',
      ],
      [
        'a route key that is no identifier',
        route({ 'web hook': HOOK }),
        'routes[0]["web hook"] is not a key a route accepts (name, match, webhookUrl, webhookUrlEnv, mention)',
      ],
      [
        'a misspelt route key',
        route({ webhookURL: HOOK }),
        'routes[0].webhookURL is not a key a route accepts (name, match, webhookUrl, webhookUrlEnv, mention)',
      ],
      // silences
      ['a silence without until', silence({ until: undefined }), `silences[0].until is required: ${INSTANT}`],
      ['a silence until a date without time', silence({ until: '2026-12-01' }), `silences[0].until must be ${INSTANT}, got "2026-12-01"`],
      ['a silence until a time without offset', silence({ until: '2026-12-01T00:00:00' }), `silences[0].until must be ${INSTANT}, got "2026-12-01T00:00:00"`],
      ['a silence until 30 February', silence({ until: '2026-02-30T00:00:00Z' }), `silences[0].until must be ${INSTANT}, got "2026-02-30T00:00:00Z"`],
      ['a silence until 24:00', silence({ until: '2026-12-01T24:00:00Z' }), `silences[0].until must be ${INSTANT}, got "2026-12-01T24:00:00Z"`],
      ['a silence until a number', silence({ until: 1796083200 }), `silences[0].until must be ${INSTANT}, got 1796083200`],
      [
        'a silence match on a name',
        silence({ match: { groupName: 'x' } }),
        'silences[0].match.groupName is not a key the match of a silence accepts (installationId, groupRef, integrationId, projectId, provider)',
      ],
      ['a silence whose reason is a number', silence({ reason: 5 }), 'silences[0].reason must be a text, got 5'],
      // maintenance
      ['a window without cron', window({ cron: undefined }), `maintenance[0].cron is required: ${CRON}`],
      [
        'a window that starts again every minute before it ends',
        window({ cron: '* * * * *', durationMinutes: 1 }),
        'maintenance[0].durationMinutes must be shorter than the time between two starts of its cron (1 minutes), or the window never ends; mute for good with a silence and its until',
      ],
      [
        'a weekly window a week long',
        window({ cron: '0 2 * * SAT', durationMinutes: 10_080 }),
        'maintenance[0].durationMinutes must be shorter than the time between two starts of its cron (10080 minutes), or the window never ends; mute for good with a silence and its until',
      ],
      [
        'an hourly window of the month it may last',
        window({ cron: '0 * * * *', durationMinutes: 44_640, timezone: 'Europe/Berlin' }),
        'maintenance[0].durationMinutes must be shorter than the time between two starts of its cron (60 minutes), or the window never ends; mute for good with a silence and its until',
      ],
      [
        'a window with a bad day name',
        window({ cron: '0 2 * * FOO' }),
        `maintenance[0].cron must be ${CRON}; "0 2 * * FOO" is refused: configuration entry 5 (FOO) contains illegal characters.`,
      ],
      [
        'a window with seconds',
        window({ cron: '0 0 2 * * SAT' }),
        `maintenance[0].cron must be ${CRON}; "0 0 2 * * SAT" is refused: mode '5-part' requires exactly 5 parts, but pattern '0 0 2 * * SAT' has 6 parts.`,
      ],
      ['a window on 30 February', window({ cron: '0 2 30 2 *' }), `maintenance[0].cron must be ${CRON}; "0 2 30 2 *" never matches a date`],
      [
        'a window of 0 minutes',
        window({ durationMinutes: 0 }),
        'maintenance[0].durationMinutes must be a whole number of minutes from 1 to 44640 (31 days), got 0',
      ],
      [
        'a window of 1.5 minutes',
        window({ durationMinutes: 1.5 }),
        'maintenance[0].durationMinutes must be a whole number of minutes from 1 to 44640 (31 days), got 1.5',
      ],
      [
        'a window duration as text',
        window({ durationMinutes: '120' }),
        'maintenance[0].durationMinutes must be a whole number of minutes from 1 to 44640 (31 days), got "120"',
      ],
      [
        'a window longer than a month',
        window({ durationMinutes: 44_641 }),
        'maintenance[0].durationMinutes must be a whole number of minutes from 1 to 44640 (31 days), got 44641',
      ],
      [
        'a window without duration',
        window({ durationMinutes: undefined }),
        'maintenance[0].durationMinutes is required: a whole number of minutes from 1 to 44640 (31 days)',
      ],
      ['a window in an unknown zone', window({ timezone: 'Europe/Atlantis' }), `maintenance[0].timezone must be ${TIMEZONE}, got "Europe/Atlantis"`],
      ['a window in an offset', window({ timezone: '+02:00' }), `maintenance[0].timezone must be ${TIMEZONE}, got "+02:00"`],
      ['a window in an empty zone', window({ timezone: '' }), `maintenance[0].timezone must be ${TIMEZONE}, got ""`],
      ['a window without zone', window({ timezone: undefined }), `maintenance[0].timezone is required: ${TIMEZONE}`],
      [
        'a window without match',
        window({ match: undefined }),
        'maintenance[0].match is required: a mapping of any of installationId, groupRef, integrationId, projectId, provider to the values to match ({} matches everything)',
      ],
    ])('names the path of %s', (_name, value, expected) => {
      // JSON has no undefined: a key patched to undefined is a key left out, as in the file.
      expect(problems(JSON.parse(JSON.stringify(value)))).toEqual([expected]);
    });

    it('reports every problem of the file, in file order', () => {
      const value = {
        projects: [{ id: '' }],
        routes: [{ match: { provider: 1 }, webhookUrlEnv: 'NOT_SET' }],
        silences: [{ match: {}, until: 'soon' }],
        maintenance: [{ match: {}, cron: '* *', durationMinutes: -1, timezone: 'x' }],
      };
      expect(problems(value).map((p) => p.split(' ')[0])).toEqual([
        'projects[0].id',
        'routes[0].match.provider',
        'routes[0].webhookUrlEnv',
        'silences[0].until',
        'maintenance[0].cron',
        'maintenance[0].durationMinutes',
        'maintenance[0].timezone',
      ]);
    });

    it('never repeats a webhook URL, from the file or from the variable webhookUrlEnv names', () => {
      const env = {
        ...options.env,
        BAD_HOOK: 'https://evil.example.com/services/fakeEnvSecret789',
        HTTP_HOOK: 'http://hooks.slack.com/services/fakeEnvSecret789',
      };
      const list = problems(
        {
          routes: [
            { match: {}, webhookUrl: 'https://evil.example.com/services/fakeWebhookSecret123' },
            { match: {}, webhookUrl: 'http://hooks.slack.com/services/T0/B0/fakeWebhookSecret123' },
            { match: {}, webhookUrl: 'https://hooks.slack.com/services/T0/B0/fakeWebhookSecret123#x' },
            { match: {}, webhookUrl: 'fakeWebhookSecret123' },
            { match: {}, webhookUrlEnv: 'BAD_HOOK' },
            { match: {}, webhookUrlEnv: 'HTTP_HOOK' },
          ],
        },
        { env, allowAnyWebhookHost: false },
      );
      expect(list).toHaveLength(6);
      expect(list[4]).toBe(
        'routes[4].webhookUrlEnv names BAD_HOOK, which must be https://hooks.slack.com/services/… (set SLACK_WEBHOOK_ALLOW_ANY_HOST=true for a Slack-compatible receiver or an egress proxy); value hidden',
      );
      for (const line of list) {
        expect(line).not.toMatch(/Secret|evil|services\/T0/);
      }
    });

    it('does not show a key that holds a URL, as when a webhook is pasted where a key goes', () => {
      expect(problems({ routes: [{ match: {}, [HOOK]: true, webhookUrl: HOOK }] })).toEqual([
        'routes[0]["(a URL, hidden)"] is not a key a route accepts (name, match, webhookUrl, webhookUrlEnv, mention)',
      ]);
    });
  });
});

describe('a maintenance window just shorter than the time between its starts', () => {
  it('is accepted: it ends a minute before the next one starts', () => {
    const maintenance = [
      { match: {}, cron: '0 * * * *', durationMinutes: 59, timezone: 'UTC' },
      { match: {}, cron: '0 2 * * SAT', durationMinutes: 10_079, timezone: 'UTC' },
      // The week the clocks go forward is an hour shorter in Berlin: 10,020 minutes.
      { match: {}, cron: '0 2 * * SAT', durationMinutes: 10_019, timezone: 'Europe/Berlin' },
    ];
    expect(validateMonitorConfig({ maintenance }, options).ok).toBe(true);
    expect(problems({ maintenance: [{ ...maintenance[2], durationMinutes: 10_020 }] })).toEqual([
      'maintenance[0].durationMinutes must be shorter than the time between two starts of its cron (10020 minutes), or the window never ends; mute for good with a silence and its until',
    ]);
  });
});

describe('the name of a route without one', () => {
  const names = (routes: unknown[]) => {
    const result = validateMonitorConfig({ routes }, options);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    return result.config.routes.map((r) => r.name);
  };
  const hubspot = { match: { provider: 'hubspot' }, webhookUrl: HOOK };
  const vip = { match: { groupRef: 'org-vip' }, webhookUrlEnv: 'SALES_WEBHOOK' };

  it('does not follow its position: a route inserted above keeps the lane of the others, so no waiting message changes webhook', () => {
    const [before] = names([hubspot]);
    const after = names([vip, hubspot]);
    expect(after[1]).toBe(before);
    expect(after[0]).not.toBe(before);
    expect(before).toMatch(/^route-[0-9a-f]{8}$/);
  });

  it('changes with the match or the webhook variable, and never shows the URL', () => {
    const [a] = names([hubspot]);
    const [b] = names([{ ...hubspot, match: { provider: 'salesforce' } }]);
    const [c] = names([{ match: hubspot.match, webhookUrlEnv: 'SALES_WEBHOOK' }]);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a).not.toContain('hooks');
  });

  it('is refused when two unnamed routes would share it', () => {
    expect(problems({ routes: [hubspot, { ...hubspot }] })).toContain("routes[1] repeats another unnamed route's match and webhook: give each route a name");
  });
});

describe('selectRoute', () => {
  const result = validateMonitorConfig(GOOD, options);
  const routes: readonly Route[] = result.ok ? result.config.routes : [];
  const subject: AlertSubject = { installationId: 'inst-1', groupRef: 'org-vip', integrationId: 'int-1', projectId: 'proj-1', provider: 'salesforce' };

  it.each<[string, Partial<AlertSubject>, string | undefined]>([
    ['the first route that matches', {}, 'sales'],
    ['a later route when the first does not match', { provider: 'hubspot' }, 'route-4a755ff6'],
    ['the catch-all route last', { provider: 'hubspot', groupRef: 'org-2' }, 'route-544320bf'],
  ])('picks %s', (_name, patch, name) => {
    expect(selectRoute(routes, { ...subject, ...patch })?.name).toBe(name);
  });

  it('picks no route (SLACK_WEBHOOK_URL) when none matches', () => {
    expect(selectRoute(routes.slice(0, 2), { ...subject, provider: 'hubspot', groupRef: 'org-2' })).toBeUndefined();
  });
});
