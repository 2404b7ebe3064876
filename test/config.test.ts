import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, KNOWN_VARIABLES, levenshtein, parseConfig, parseConfigWithWarnings, readConfig, type Env } from '../src/config.js';

const minimal: Env = { AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p' };

function problems(env: Env): readonly string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      ampersand: { apiUrl: 'https://api.withampersand.com/v1', integrationIds: [], groupRef: undefined, timeoutMs: 30_000 },
      pollIntervalMs: 60_000,
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'ahm',
      slack: { webhookUrl: undefined, retryHorizonMs: 24 * 3_600_000 },
      metricsPort: 9464,
      metricsInstallationSeries: 'all',
      logLevel: 'info',
    });
    expect(config.slack.deadLetterMax).toBe(10_000);
    expect(config.massEvent).toEqual({ minCount: 10, fraction: 0.25 });
    expect(config.slack.outboxMax).toBe(1000);
  });

  it('reads METRICS_INSTALLATION_SERIES', () => {
    for (const mode of ['all', 'unhealthy', 'none'] as const)
      expect(parseConfig({ ...minimal, METRICS_INSTALLATION_SERIES: mode }).metricsInstallationSeries).toBe(mode);
  });

  it('reads the outbox cap', () => {
    expect(parseConfig({ ...minimal, SLACK_OUTBOX_MAX: '50000' }).slack.outboxMax).toBe(50_000);
  });

  it('reads the mass event thresholds', () => {
    expect(parseConfig({ ...minimal, MASS_EVENT_MIN_COUNT: '50', MASS_EVENT_FRACTION: '0.1' }).massEvent).toEqual({ minCount: 50, fraction: 0.1 });
    expect(parseConfig({ ...minimal, MASS_EVENT_FRACTION: '0' }).massEvent.fraction).toBe(0);
    expect(parseConfig({ ...minimal, MASS_EVENT_FRACTION: '1' }).massEvent.fraction).toBe(1);
  });

  it('accepts a hash-tagged QUEUE_PREFIX, which keeps every key of the deployment in one Redis Cluster slot', () => {
    expect(parseConfig({ ...minimal, QUEUE_PREFIX: '{ahm}' }).queuePrefix).toBe('{ahm}');
    expect(parseConfig({ ...minimal, QUEUE_PREFIX: '{ahm-eu}.prod' }).queuePrefix).toBe('{ahm-eu}.prod');
  });

  it('accepts a fractional poll interval', () => {
    expect(parseConfig({ ...minimal, POLL_INTERVAL_SECONDS: '0.25' }).pollIntervalMs).toBe(250);
  });

  it('reads lists and trims values', () => {
    const config = parseConfig({
      ...minimal,
      AMPERSAND_INTEGRATION_IDS: ' a, b ,,a ',
      AMPERSAND_API_URL: 'https://api.eu.withampersand.com/v1/',
      AMPERSAND_GROUP_REF: 'org-1',
    });
    expect(config.ampersand.integrationIds).toEqual(['a', 'b']);
    expect(config.ampersand.apiUrl).toBe('https://api.eu.withampersand.com/v1');
    expect(config.ampersand.groupRef).toBe('org-1');
  });

  it.each<[string, Env, string]>([
    ['AMPERSAND_API_KEY', { AMPERSAND_PROJECT_ID: 'p' }, 'AMPERSAND_API_KEY is required'],
    ['AMPERSAND_PROJECT_ID', { AMPERSAND_API_KEY: 'k' }, 'AMPERSAND_PROJECT_ID is required'],
    ['AMPERSAND_API_URL', { ...minimal, AMPERSAND_API_URL: 'ftp://x' }, 'AMPERSAND_API_URL must be an https:// URL of the API including /v1'],
    ['POLL_INTERVAL_SECONDS', { ...minimal, POLL_INTERVAL_SECONDS: '0' }, 'POLL_INTERVAL_SECONDS must be a number from 0.1 to 86400, got "0"'],
    ['POLL_INTERVAL_SECONDS', { ...minimal, POLL_INTERVAL_SECONDS: '1,5' }, 'POLL_INTERVAL_SECONDS must be a number'],
    ['MONITOR_JOB_LOCK_SECONDS', { ...minimal, MONITOR_JOB_LOCK_SECONDS: '0.1' }, 'MONITOR_JOB_LOCK_SECONDS must be a number from 5 to 600'],
    ['REDIS_URL', { ...minimal, REDIS_URL: 'http://localhost' }, 'REDIS_URL must be a URL starting with redis:// or rediss://'],
    ['REDIS_URL', { ...minimal, REDIS_URL: 'redis://localhost:6379/db1' }, 'REDIS_URL must have no path, / or /<database number>'],
    ['REDIS_URL', { ...minimal, REDIS_URL: 'redis://localhost:6379/1/2' }, 'REDIS_URL must have no path, / or /<database number>'],
    ['REDIS_URL', { ...minimal, REDIS_URL: 'redis://localhost:6379/-1' }, 'REDIS_URL must have no path, / or /<database number>'],
    ['QUEUE_PREFIX', { ...minimal, QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX must be'],
    ['METRICS_PORT', { ...minimal, METRICS_PORT: '70000' }, 'METRICS_PORT must be a whole number from 1 to 65535'],
    ['AMPERSAND_TIMEOUT_SECONDS', { ...minimal, AMPERSAND_TIMEOUT_SECONDS: 'soon' }, 'AMPERSAND_TIMEOUT_SECONDS must be a whole number'],
    ['LOG_LEVEL', { ...minimal, LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [
      'METRICS_INSTALLATION_SERIES',
      { ...minimal, METRICS_INSTALLATION_SERIES: 'some' },
      'METRICS_INSTALLATION_SERIES must be one of all, unhealthy, none, got "some"',
    ],
    ['SLACK_WEBHOOK_URL', { ...minimal, SLACK_WEBHOOK_URL: 'hooks.slack.com/services/SECRET' }, 'SLACK_WEBHOOK_URL must be a Slack incoming webhook URL'],
  ])('names %s when it is wrong', (_name, env, expected) => {
    const list = problems(env);
    expect(list).toHaveLength(1);
    expect(list[0]).toContain(expected);
  });

  it('reports every bad variable at once, one line each', () => {
    const list = problems({ POLL_INTERVAL_SECONDS: 'x', METRICS_PORT: '-1' });
    expect(list.map((l) => l.split(' ')[0])).toEqual(['AMPERSAND_API_KEY', 'AMPERSAND_PROJECT_ID', 'POLL_INTERVAL_SECONDS', 'METRICS_PORT']);
  });

  it.each(['redis://localhost', 'redis://localhost:6379/', 'redis://:pw@localhost:6379/15', 'rediss://localhost/99'])(
    'accepts the REDIS_URL %s (Redis decides the database range)',
    (redisUrl) => {
      expect(parseConfig({ ...minimal, REDIS_URL: redisUrl }).redisUrl).toBe(redisUrl);
    },
  );

  it('never repeats a Redis URL, which may hold a password', () => {
    expect(problems({ ...minimal, REDIS_URL: 'http://user:hunter2@redis:6379' }).join('\n')).not.toContain('hunter2');
  });

  it('never repeats the webhook URL, which is a secret', () => {
    const list = problems({ ...minimal, SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T1/B1/SECRET' });
    expect(list.join('\n')).not.toContain('SECRET');
  });

  describe('URLs that carry a secret', () => {
    const hook = 'https://hooks.slack.com/services/T0/B0/fakeWebhookSecret123';

    it.each<[string, string]>([
      ['https', 'https://api.eu.withampersand.com/v1'],
      ['loopback http', 'http://127.0.0.1:8080/v1'],
      ['loopback http in 127/8', 'http://127.3.2.1:8080/v1'],
      ['localhost http', 'http://localhost:8080/v1'],
      ['IPv6 loopback http', 'http://[::1]:8080/v1'],
    ])('accepts an API URL over %s', (_name, value) => {
      expect(parseConfig({ ...minimal, AMPERSAND_API_URL: value }).ampersand.apiUrl).toBe(value);
    });

    it.each<[string, string, string]>([
      [
        'plain http off loopback',
        'http://api.withampersand.com/v1',
        'AMPERSAND_API_URL must use https:// (http:// only on 127.0.0.1, localhost or [::1]), got http://api.withampersand.com/v1',
      ],
      ['a user and password', 'https://user:hunter2@api.withampersand.com/v1', 'AMPERSAND_API_URL must not carry a user name or password'],
      [
        'a query',
        'https://api.withampersand.com/v1?token=hunter2',
        'AMPERSAND_API_URL must have no query (?…) or fragment (#…), got https://api.withampersand.com/v1',
      ],
      ['a fragment', 'https://api.withampersand.com/v1#hunter2', 'AMPERSAND_API_URL must have no query'],
      ['an empty query', 'https://api.withampersand.com/v1?', 'AMPERSAND_API_URL must have no query'],
    ])('refuses an API URL with %s, without repeating the secret part', (_name, value, expected) => {
      const list = problems({ ...minimal, AMPERSAND_API_URL: value });
      expect(list).toHaveLength(1);
      expect(list[0]).toContain(expected);
      expect(list[0]).not.toContain('hunter2');
    });

    it.each<[string, Env]>([
      ['a Slack hook', { SLACK_WEBHOOK_URL: hook }],
      ['a loopback receiver', { SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook/fakeWebhookSecret123' }],
      ['another https host when allowed', { SLACK_WEBHOOK_URL: 'https://chat.example.com/hooks/fakeWebhookSecret123', SLACK_WEBHOOK_ALLOW_ANY_HOST: 'true' }],
    ])('accepts a webhook URL of %s', (_name, env) => {
      expect(parseConfig({ ...minimal, ...env }).slack.webhookUrl).toBe(env['SLACK_WEBHOOK_URL']);
    });

    it.each<[string, Env, string]>([
      [
        'another host',
        { SLACK_WEBHOOK_URL: 'https://hooks.example.com/services/T0/B0/fakeWebhookSecret123' },
        'SLACK_WEBHOOK_URL must be https://hooks.slack.com/services/… (set SLACK_WEBHOOK_ALLOW_ANY_HOST=true',
      ],
      [
        'another path on Slack',
        { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/fakeWebhookSecret123' },
        'SLACK_WEBHOOK_URL must be https://hooks.slack.com/services/…',
      ],
      ['plain http to Slack', { SLACK_WEBHOOK_URL: hook.replace('https:', 'http:') }, 'SLACK_WEBHOOK_URL must use https://'],
      [
        'plain http elsewhere, even when any host is allowed',
        { SLACK_WEBHOOK_URL: 'http://chat.example.com/fakeWebhookSecret123', SLACK_WEBHOOK_ALLOW_ANY_HOST: 'true' },
        'SLACK_WEBHOOK_URL must use https://',
      ],
      [
        'a user and password',
        { SLACK_WEBHOOK_URL: 'https://u:fakeWebhookSecret123@hooks.slack.com/services/T0/B0/x' },
        'SLACK_WEBHOOK_URL must not carry a user name or password',
      ],
      ['a query', { SLACK_WEBHOOK_URL: `${hook}?x=1` }, 'SLACK_WEBHOOK_URL must have no query'],
      [
        'another host with the allowance set to false',
        { SLACK_WEBHOOK_URL: 'https://chat.example.com/hooks/fakeWebhookSecret123', SLACK_WEBHOOK_ALLOW_ANY_HOST: 'false' },
        'SLACK_WEBHOOK_URL must be https://hooks.slack.com/services/…',
      ],
      [
        'a user and password on another host, even when any host is allowed',
        { SLACK_WEBHOOK_URL: 'https://u:fakeWebhookSecret123@chat.example.com/hooks/x', SLACK_WEBHOOK_ALLOW_ANY_HOST: 'true' },
        'SLACK_WEBHOOK_URL must not carry a user name or password',
      ],
      [
        'a query on another host, even when any host is allowed',
        { SLACK_WEBHOOK_URL: 'https://chat.example.com/hooks/fakeWebhookSecret123?x=1', SLACK_WEBHOOK_ALLOW_ANY_HOST: 'true' },
        'SLACK_WEBHOOK_URL must have no query',
      ],
    ])('refuses a webhook URL on %s, and never repeats any of it', (_name, env, expected) => {
      const list = problems({ ...minimal, ...env });
      expect(list).toHaveLength(1);
      expect(list[0]).toContain(expected);
      expect(list[0]).not.toContain('fakeWebhookSecret123');
      expect(list[0]).not.toContain('example.com');
    });
  });

  describe('an API key that is not a valid header value', () => {
    it.each<[string, string]>([
      ['two lines', 'amp-key-line1\namp-key-line2'],
      ['a space', 'amp-key part2'],
      ['a control character', 'amp-key\u0007x'],
      ['a non-ASCII character', 'amp-keyé'],
    ])('is refused when it holds %s, without being repeated', (_name, key) => {
      const list = problems({ ...minimal, AMPERSAND_API_KEY: key });
      expect(list).toEqual([
        'AMPERSAND_API_KEY must be printable ASCII with no spaces, line breaks or control characters (it is sent as the X-Api-Key header); value hidden',
      ]);
    });

    it('is trimmed of a trailing line break, as $(cat key-file) leaves one', () => {
      expect(parseConfig({ ...minimal, AMPERSAND_API_KEY: 'amp-key\n' }).ampersand.apiKey).toBe('amp-key');
    });
  });

  describe('values the service cannot honour', () => {
    it.each<[string, Env, string]>([
      ['METRICS_PORT=0', { METRICS_PORT: '0' }, 'METRICS_PORT must be a whole number from 1 to 65535, got "0"'],
      [
        'a forget time under 3 poll intervals',
        { POLL_INTERVAL_SECONDS: '60', MONITOR_FORGET_AFTER_SECONDS: '179' },
        'MONITOR_FORGET_AFTER_SECONDS must be at least 3 poll intervals (3 × POLL_INTERVAL_SECONDS = 180), got "179"',
      ],
      ['a job lock under 5 s', { MONITOR_JOB_LOCK_SECONDS: '4.9' }, 'MONITOR_JOB_LOCK_SECONDS must be a number from 5 to 600, got "4.9"'],
      ['a Slack timeout over the shutdown grace', { SLACK_TIMEOUT_SECONDS: '8' }, 'SLACK_TIMEOUT_SECONDS must be a whole number from 1 to 7, got "8"'],
      [
        '1.5 messages per second',
        { SLACK_MESSAGES_PER_SECOND: '1.5' },
        'SLACK_MESSAGES_PER_SECOND must be a whole number from 1 to 100, or a rate from 0.01 to 1 whose interval (1000 / rate ms) is a whole number of milliseconds, such as 0.5 or 0.25; got "1.5"',
      ],
      ['0.3 messages per second', { SLACK_MESSAGES_PER_SECOND: '0.3' }, 'SLACK_MESSAGES_PER_SECOND must be a whole number from 1 to 100, or a rate'],
      ['0 messages per second', { SLACK_MESSAGES_PER_SECOND: '0' }, 'SLACK_MESSAGES_PER_SECOND must be'],
      [
        'integration ids that are only commas',
        { AMPERSAND_INTEGRATION_IDS: ',,,' },
        'AMPERSAND_INTEGRATION_IDS must be comma-separated integration ids, or empty to discover every integration; got only separators (",,,")',
      ],
      ['integration ids that are only commas and spaces', { AMPERSAND_INTEGRATION_IDS: ' , ,' }, 'AMPERSAND_INTEGRATION_IDS must be comma-separated'],
      ...['0', '-1', '1.5', 'abc', '10000001'].map((v): [string, Env, string] => [
        `SLACK_DEAD_LETTER_MAX=${v}`,
        { SLACK_DEAD_LETTER_MAX: v },
        'SLACK_DEAD_LETTER_MAX must be a whole number from 1 to 10000000',
      ]),
      ...['0', '9', '1.5', 'abc', '1000001'].map((v): [string, Env, string] => [
        `SLACK_OUTBOX_MAX=${v}`,
        { SLACK_OUTBOX_MAX: v },
        `SLACK_OUTBOX_MAX must be a whole number from 10 to 1000000, got "${v}"`,
      ]),
      ...['0', '-1', '2.5', 'ten', '1000001'].map((v): [string, Env, string] => [
        `MASS_EVENT_MIN_COUNT=${v}`,
        { MASS_EVENT_MIN_COUNT: v },
        `MASS_EVENT_MIN_COUNT must be a whole number from 1 to 1000000, got "${v}"`,
      ]),
      ...['1.5', '-0.1', '25%', '.25', 'a quarter'].map((v): [string, Env, string] => [
        `MASS_EVENT_FRACTION=${v}`,
        { MASS_EVENT_FRACTION: v },
        `MASS_EVENT_FRACTION must be a number from 0 to 1, got "${v}"`,
      ]),
      ...['yes', '0', 'off'].map((v): [string, Env, string] => [
        `SLACK_OUTBOX_COALESCE=${v}`,
        { SLACK_OUTBOX_COALESCE: v },
        `SLACK_OUTBOX_COALESCE must be true or false, got "${v}"`,
      ]),
      ...['yes', '1', 'TRUE'].map((v): [string, Env, string] => [
        `SLACK_WEBHOOK_ALLOW_ANY_HOST=${v}`,
        { SLACK_WEBHOOK_ALLOW_ANY_HOST: v },
        'SLACK_WEBHOOK_ALLOW_ANY_HOST must be true or false',
      ]),
      [
        'the tests-only lock flag set to yes',
        { NODE_ENV: 'test', MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS: 'yes' },
        'MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS must be true or false, got "yes"',
      ],
      [
        'a job lock under 0.5 s even with the tests-only flag',
        { NODE_ENV: 'test', MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS: 'true', MONITOR_JOB_LOCK_SECONDS: '0.4' },
        'MONITOR_JOB_LOCK_SECONDS must be a number from 0.5 to 600, got "0.4"',
      ],
    ])('refuses %s with one line', (_name, env, expected) => {
      expect(problems({ ...minimal, ...env })).toEqual([expect.stringContaining(expected)]);
    });

    it.each<[string, number]>([
      ['0.5', 0.5],
      ['0.25', 0.25],
      ['0.01', 0.01],
      ['1', 1],
      ['20', 20],
    ])('accepts %s messages per second, which the limiter honours exactly', (value, rate) => {
      expect(parseConfig({ ...minimal, SLACK_MESSAGES_PER_SECOND: value }).slack.messagesPerSecond).toBe(rate);
    });

    it('accepts a forget time of exactly 3 poll intervals, and follows a long interval by default', () => {
      expect(parseConfig({ ...minimal, POLL_INTERVAL_SECONDS: '1', MONITOR_FORGET_AFTER_SECONDS: '3' }).forgetAfterMs).toBe(3000);
      expect(parseConfig({ ...minimal, POLL_INTERVAL_SECONDS: '600' }).forgetAfterMs).toBe(1_800_000);
    });

    it('allows a job lock under 5 s only with the flag named for tests, and warns about it', () => {
      const { config, warnings } = parseConfigWithWarnings({
        ...minimal,
        MONITOR_JOB_LOCK_SECONDS: '1',
        MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS: 'true',
        NODE_ENV: 'test',
      });
      expect(config.jobLockMs).toBe(1000);
      expect(warnings).toEqual([expect.stringContaining('MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS is set')]);
    });
  });

  it.each([undefined, 'production', 'development', 'TEST'])('refuses the tests-only job lock flag with NODE_ENV=%s, in one line', (nodeEnv) => {
    for (const value of ['true', 'false']) {
      const env: Env = { ...minimal, MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS: value, ...(nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv }) };
      expect(problems(env)).toEqual([expect.stringContaining('MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS is for tests only and is refused unless NODE_ENV=test')]);
    }
  });

  describe('unknown variables of our families', () => {
    it('warns about each one, naming the closest known variable and not its value', () => {
      const { warnings } = parseConfigWithWarnings({
        ...minimal,
        SLACK_WEBHOK_URL: 'https://hooks.slack.com/services/T/B/fakeWebhookSecret123',
        POLL_INTERVAL: '5',
        METRICS_PROT: '1',
        PATH: '/bin',
        NODE_OPTIONS: '',
      });
      expect(warnings).toEqual([
        'METRICS_PROT is not a variable this service reads (ignored); did you mean METRICS_PORT?',
        'POLL_INTERVAL is not a variable this service reads (ignored); did you mean POLL_INTERVAL_SECONDS?',
        'SLACK_WEBHOK_URL is not a variable this service reads (ignored); did you mean SLACK_WEBHOOK_URL?',
      ]);
    });

    it('knows exactly the variables .env.example documents', () => {
      const documented = [...readFileSync(new URL('../.env.example', import.meta.url), 'utf8').matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
      expect([...KNOWN_VARIABLES].sort()).toEqual([...new Set(documented)].sort());
      expect(parseConfigWithWarnings({ ...minimal, METRICS_HOST: '127.0.0.1', SLACK_DEAD_LETTER_MAX: '10' }).warnings).toEqual([]);
    });

    it('measures edit distance', () => {
      expect(levenshtein('kitten', 'sitting')).toBe(3);
      expect(levenshtein('', 'abc')).toBe(3);
    });
  });
});

describe('parseConfig: METRICS_HOST', () => {
  it('binds every interface by default, as containers need', () => {
    expect(parseConfig(minimal).metricsHost).toBe('0.0.0.0');
  });

  it.each(['127.0.0.1', '::1', '::', 'localhost', 'monitor.internal'])('accepts %s', (host) => {
    expect(parseConfig({ ...minimal, METRICS_HOST: host }).metricsHost).toBe(host);
  });

  it.each(['0.0.0.0:9464', 'http://localhost', 'a b', '-leading.dash', '[::1]'])('names itself when given %s', (host) => {
    expect(problems({ ...minimal, METRICS_HOST: host })).toEqual([`METRICS_HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a hostname, got "${host}"`]);
  });
});

describe('parseConfig: METRICS_HOST that only looks like a host name', () => {
  it.each(['999.999.999.999', '10.0.0.256', '1.2.3', '10'])('refuses %s, a number that is no IPv4 address, before anything listens', (host) => {
    expect(problems({ ...minimal, METRICS_HOST: host })).toEqual([
      `METRICS_HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a hostname, got "${host}" (not an IPv4 address: four numbers from 0 to 255)`,
    ]);
  });

  it('still accepts a host name with digits in its labels', () => {
    expect(parseConfig({ ...minimal, METRICS_HOST: 'node-1.10.internal' }).metricsHost).toBe('node-1.10.internal');
  });
});

describe('parseConfig: a bad value with a line break or a control character', () => {
  it.each<[string, Env, string]>([
    ['METRICS_PORT', { METRICS_PORT: '12\n34' }, 'METRICS_PORT must be a whole number from 1 to 65535, got "12\\n34"'],
    ['LOG_LEVEL', { LOG_LEVEL: 'info\r\nwarn' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "info\\r\\nwarn"'],
    [
      'QUEUE_PREFIX',
      { QUEUE_PREFIX: 'a\u2028b\u0085c\u001bd' },
      'QUEUE_PREFIX must be 1 to 64 characters of letters, digits, "_", ".", "-", "{" or "}", got "a\\u2028b\\u0085c\\u001bd"',
    ],
    [
      'AMPERSAND_INTEGRATION_IDS',
      { AMPERSAND_INTEGRATION_IDS: ',\n,' },
      'AMPERSAND_INTEGRATION_IDS must be comma-separated integration ids, or empty to discover every integration; got only separators (",\\n,")',
    ],
    ['METRICS_HOST', { METRICS_HOST: 'a\nb' }, 'METRICS_HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a hostname, got "a\\nb"'],
  ])('shows the %s value escaped, so the problem stays one line', (_name, env, expected) => {
    const found = problems({ ...minimal, ...env });
    expect(found).toEqual([expected]);
    // eslint-disable-next-line no-control-regex -- ESC is one of the characters it must not contain
    expect(found[0]).not.toMatch(/[\r\n\u0085\u2028\u2029\u001b]/);
  });

  it('cuts a long bad value', () => {
    expect(problems({ ...minimal, LOG_LEVEL: 'x'.repeat(5000) })).toEqual([
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${'x'.repeat(100)}…"`,
    ]);
  });
});

describe('parseConfig: the alert variables', () => {
  it('default to alerting after 2 bad polls, resolving after 2 good ones, reminding every 4 h, 20 look-ups, the Ampersand dashboard and no runbook', () => {
    expect(parseConfig(minimal).alerts).toEqual({
      policy: { alertAfterPolls: 2, resolveAfterPolls: 2, remindIntervalMs: 14_400_000 },
      failureDetailsPerCycle: 20,
      ampersandDashboardUrl: 'https://dashboard.withampersand.com',
      runbookUrl: undefined,
    });
  });

  it('read each one, and 0 turns reminders and look-ups off', () => {
    const env = {
      ...minimal,
      ALERT_AFTER_POLLS: '1',
      RESOLVE_AFTER_POLLS: '3',
      REMIND_INTERVAL_SECONDS: '0',
      FAILURE_DETAILS_PER_CYCLE: '0',
      AMPERSAND_DASHBOARD_URL: 'https://dashboard.eu.example.com/',
      RUNBOOK_URL: 'https://wiki.example.com/runbooks/ampersand#alerts',
    };
    expect(parseConfig(env).alerts).toEqual({
      policy: { alertAfterPolls: 1, resolveAfterPolls: 3, remindIntervalMs: 0 },
      failureDetailsPerCycle: 0,
      ampersandDashboardUrl: 'https://dashboard.eu.example.com/',
      runbookUrl: 'https://wiki.example.com/runbooks/ampersand#alerts',
    });
    expect(parseConfigWithWarnings(env).warnings).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['ALERT_AFTER_POLLS', '0', 'ALERT_AFTER_POLLS must be a whole number from 1 to 100, got "0"'],
    ['ALERT_AFTER_POLLS', '2.5', 'ALERT_AFTER_POLLS must be a whole number from 1 to 100, got "2.5"'],
    ['RESOLVE_AFTER_POLLS', '101', 'RESOLVE_AFTER_POLLS must be a whole number from 1 to 100, got "101"'],
    ['REMIND_INTERVAL_SECONDS', '-1', 'REMIND_INTERVAL_SECONDS must be a whole number from 0 to 2592000, got "-1"'],
    ['REMIND_INTERVAL_SECONDS', '4h', 'REMIND_INTERVAL_SECONDS must be a whole number from 0 to 2592000, got "4h"'],
    ['FAILURE_DETAILS_PER_CYCLE', '1001', 'FAILURE_DETAILS_PER_CYCLE must be a whole number from 0 to 1000, got "1001"'],
    [
      'AMPERSAND_DASHBOARD_URL',
      'dashboard.withampersand.com',
      'AMPERSAND_DASHBOARD_URL must be an http:// or https:// URL of the Ampersand dashboard, such as https://dashboard.withampersand.com, got "dashboard.withampersand.com"',
    ],
    [
      'RUNBOOK_URL',
      'javascript:alert(1)',
      'RUNBOOK_URL must be an http:// or https:// URL of the runbook, such as https://wiki.example.com/runbooks/ampersand, got "javascript:alert(1)"',
    ],
  ])('name %s in one line when it is %s, and start-up stops (exit 2)', (name, value, expected) => {
    expect(problems({ ...minimal, [name]: value })).toEqual([expected]);
    expect(readConfig({ ...minimal, [name]: value })).toBeInstanceOf(ConfigError);
  });

  it.each(['AMPERSAND_DASHBOARD_URL', 'RUNBOOK_URL'])(
    'refuse a %s with a user name and password, without repeating them: the channel sees the link',
    (name) => {
      const found = problems({ ...minimal, [name]: 'https://admin:hunter2@wiki.example.com/x' });
      expect(found).toEqual([
        `${name} must not carry a user name or password (user:password@host): Slack messages show the link to the channel (value hidden)`,
      ]);
    },
  );
});

describe('parseConfig: DASHBOARD_URL', () => {
  it('is unset by default: the status page shows no dashboard link', () => {
    expect(parseConfig(minimal).dashboardUrl).toBeUndefined();
  });

  it.each([
    ['https://grafana.example.com/d/ampersand-health', 'https://grafana.example.com/d/ampersand-health'],
    [
      'http://grafana.monitoring.svc:3000/d/ahm?orgId=1&var-integration=All#panel-2',
      'http://grafana.monitoring.svc:3000/d/ahm?orgId=1&var-integration=All#panel-2',
    ],
    [' HTTPS://Grafana.Example.com ', 'https://grafana.example.com/'],
  ])('accepts %s, as parsed', (raw, parsed) => {
    expect(parseConfig({ ...minimal, DASHBOARD_URL: raw }).dashboardUrl).toBe(parsed);
  });

  it.each([
    'javascript:alert(document.cookie)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'ftp://grafana.example.com/',
    'grafana.example.com/d/x',
    '/d/x',
  ])('refuses %s, naming the variable and what it accepts', (raw) => {
    expect(problems({ ...minimal, DASHBOARD_URL: raw })).toEqual([
      `DASHBOARD_URL must be an http:// or https:// URL of the Grafana dashboard, such as https://grafana.example.com/d/ampersand-health, got ${JSON.stringify(raw)}`,
    ]);
  });

  it('refuses a user name and password without repeating them: the page would show them to everyone', () => {
    const found = problems({ ...minimal, DASHBOARD_URL: 'https://admin:hunter2@grafana.example.com/d/x' });
    expect(found).toEqual([
      'DASHBOARD_URL must not carry a user name or password (user:password@host): the status page shows the link to everyone (value hidden)',
    ]);
  });

  it('refuses one longer than 2048 characters', () => {
    expect(problems({ ...minimal, DASHBOARD_URL: `https://grafana.example.com/${'a'.repeat(3000)}` })).toEqual([
      'DASHBOARD_URL must be at most 2048 characters, got 3028',
    ]);
  });

  it('makes start-up stop with that one line (the entry point exits 2 on a ConfigError)', () => {
    const result = readConfig({ ...minimal, DASHBOARD_URL: 'javascript:alert(1)' });
    expect(result).toBeInstanceOf(ConfigError);
    expect((result as ConfigError).problems).toEqual([expect.stringMatching(/^DASHBOARD_URL must be an http:\/\/ or https:\/\/ URL/)]);
  });
});

describe('parseConfig: the mass event thresholds', () => {
  it('make start-up stop with one line each (the entry point exits 2 on a ConfigError)', () => {
    const result = readConfig({ ...minimal, MASS_EVENT_MIN_COUNT: '0', MASS_EVENT_FRACTION: '25%' });
    expect(result).toBeInstanceOf(ConfigError);
    expect((result as ConfigError).problems).toEqual([
      'MASS_EVENT_MIN_COUNT must be a whole number from 1 to 1000000, got "0"',
      'MASS_EVENT_FRACTION must be a number from 0 to 1, got "25%"',
    ]);
  });
});

describe('parseConfig on Redis Cluster', () => {
  it('reads REDIS_CLUSTER_NODES as the seeds, defaults QUEUE_PREFIX to {ahm}, and keeps no credentials', () => {
    const config = parseConfig({ ...minimal, REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-2.internal:7001 ,[::1]:7002,10.0.0.1:7000' });
    expect(config.redisCluster).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(config.queuePrefix).toBe('{ahm}');
    expect(parseConfig(minimal).redisCluster).toBeUndefined();
  });

  it('takes the user, password and TLS of REDIS_URL for every node, and its host as one more seed', () => {
    const config = parseConfig({ ...minimal, REDIS_URL: 'rediss://monitor:p%40ss@10.0.0.9:7000', REDIS_CLUSTER_NODES: '10.0.0.1:7000' });
    expect(config.redisCluster).toEqual({
      nodes: [
        { host: '10.0.0.9', port: 7000 },
        { host: '10.0.0.1', port: 7000 },
      ],
      username: 'monitor',
      password: 'p@ss',
      tls: true,
    });
  });

  it('reads a redis+cluster:// REDIS_URL', () => {
    const config = parseConfig({ ...minimal, REDIS_URL: 'redis+cluster://:s3cret@a:7000,b:7001/0', QUEUE_PREFIX: 'prod-{ahm}' });
    expect(config.redisCluster).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      username: undefined,
      password: 's3cret',
      tls: false,
    });
    expect(config.queuePrefix).toBe('prod-{ahm}');
    expect(parseConfig({ ...minimal, REDIS_URL: 'rediss+cluster://a:7000' }).redisCluster?.tls).toBe(true);
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: 'a:7000,b' }, 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port: "b" is not host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:0' }, 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port: "a:0" is not host:port'],
    [{ REDIS_CLUSTER_NODES: ',' }, 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:7000', QUEUE_PREFIX: 'ahm' }, 'QUEUE_PREFIX must contain a hash tag such as {ahm} on Redis Cluster'],
    [{ REDIS_CLUSTER_NODES: 'a:7000', QUEUE_PREFIX: 'ahm{}' }, 'QUEUE_PREFIX must contain a hash tag such as {ahm} on Redis Cluster'],
    [{ REDIS_URL: 'redis+cluster://a:7000', QUEUE_PREFIX: 'ahm' }, 'QUEUE_PREFIX must contain a hash tag'],
    [{ REDIS_URL: 'redis+cluster://a:7000', REDIS_CLUSTER_NODES: 'a:7000' }, 'REDIS_CLUSTER_NODES must not be set with a redis+cluster:// REDIS_URL'],
    [{ REDIS_URL: 'redis+cluster://u:hunter2@a:7000/3' }, 'REDIS_URL must be redis+cluster://'],
    [{ REDIS_URL: 'redis+cluster://u:hunter2@a' }, 'REDIS_URL must be redis+cluster://'],
    [{ REDIS_URL: 'redis://u:hunter2@a:7000/2', REDIS_CLUSTER_NODES: 'a:7000' }, 'REDIS_URL must have no database but 0 with REDIS_CLUSTER_NODES'],
  ])('refuses %j, naming the variable', (env, expected) => {
    const found = problems({ ...minimal, ...env });
    expect(found.join('\n')).toContain(expected);
    expect(found.join('\n')).not.toContain('hunter2');
  });

  it('exits 2 through readConfig on a bad cluster variable', () => {
    expect(readConfig({ ...minimal, REDIS_CLUSTER_NODES: 'nope' })).toBeInstanceOf(ConfigError);
  });
});

describe('parseConfig on Redis Sentinel', () => {
  it('reads REDIS_SENTINELS and REDIS_SENTINEL_NAME, and keeps REDIS_URL for the credentials and database', () => {
    const config = parseConfig({
      ...minimal,
      REDIS_URL: 'rediss://monitor:s3cret@ignored:6379/2',
      REDIS_SENTINELS: ' 10.0.0.1:26379, sentinel-2.internal:26379 ,10.0.0.1:26379',
      REDIS_SENTINEL_NAME: 'ahm-master',
    });
    expect(config.redisSentinel).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-2.internal', port: 26379 },
      ],
      name: 'ahm-master',
    });
    expect(config.redisUrl).toBe('rediss://monitor:s3cret@ignored:6379/2');
    expect(config.redisCluster).toBeUndefined();
    // No hash tag is needed: Sentinel serves one standalone master.
    expect(config.queuePrefix).toBe('ahm');
    expect(parseConfig(minimal).redisSentinel).toBeUndefined();
  });

  it.each([
    [{ REDIS_SENTINELS: 'a:26379,b' }, 'REDIS_SENTINELS must be a comma-separated list of host:port: "b" is not host:port'],
    [{ REDIS_SENTINELS: ',', REDIS_SENTINEL_NAME: 'ahm' }, 'REDIS_SENTINELS must be a comma-separated list of host:port, such as 10.0.0.1:26379'],
    [{ REDIS_SENTINELS: 'a:26379' }, 'REDIS_SENTINEL_NAME is required with REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'my master' }, 'REDIS_SENTINEL_NAME must be a master group name'],
    [{ REDIS_SENTINEL_NAME: 'ahm' }, 'REDIS_SENTINEL_NAME is set without REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'ahm', REDIS_CLUSTER_NODES: 'a:7000' }, 'REDIS_SENTINELS must not be set with a Redis Cluster'],
    [
      { REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'ahm', REDIS_URL: 'redis+cluster://u:hunter2@a:7000', QUEUE_PREFIX: '{ahm}' },
      'REDIS_SENTINELS must not be set with a Redis Cluster',
    ],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'ahm', REDIS_URL: 'http://u:hunter2@a' }, 'REDIS_URL must be a URL starting with redis://'],
  ])('refuses %j, naming the variable', (env, expected) => {
    const found = problems({ ...minimal, ...env });
    expect(found.join('\n')).toContain(expected);
    expect(found.join('\n')).not.toContain('hunter2');
  });

  it('exits 2 through readConfig on a bad Sentinel variable', () => {
    expect(readConfig({ ...minimal, REDIS_SENTINELS: 'a:26379' })).toBeInstanceOf(ConfigError);
  });
});
