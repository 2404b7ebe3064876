/**
 * The monitor configuration file (issue 8), checked: `validateMonitorConfig` takes
 * the value parsed from the YAML or JSON file and returns the typed
 * configuration, or every problem, one line each, naming the path inside the
 * file (`routes[1].match.provider`) and what is accepted there. Pure: the
 * environment (for `webhookUrlEnv`) is passed in. Reading and parsing the file
 * is monitor-config-file.ts's job.
 *
 *   projects:            # optional; replaces AMPERSAND_PROJECT_ID / AMPERSAND_INTEGRATION_IDS
 *     - id: <project id or name>
 *       integrations: [<integration id>, ...]   # omitted = discover
 *       groupRef: <optional>
 *   routes:              # first match wins; no match = SLACK_WEBHOOK_URL
 *     - name: sales                 # optional; the route's name in logs and metrics
 *       match: { projectId, integrationId, provider, groupRef }   # any subset; {} matches all
 *       webhookUrl: <url>            # or webhookUrlEnv: NAME_OF_ENV_VAR holding it
 *       mention: "<!here>"           # optional, added to firing alerts only
 *   silences:
 *     - match: { installationId, groupRef, integrationId, projectId, provider }   # any subset
 *       until: 2026-12-01T00:00:00Z
 *       reason: <text>               # optional
 *   maintenance:
 *     - match: { ... }
 *       cron: "0 2 * * SAT"
 *       durationMinutes: 120
 *       timezone: Europe/Berlin
 *       reason: <text>               # optional
 *
 * Every key is optional at the top (an empty section, `routes:` with nothing
 * under it, is an empty list), and a key this release does not know is a
 * problem, so that a typo is not silently ignored. `match` is required in a
 * route, a silence and a window: `{}` says "everything" on purpose. A webhook
 * URL follows the rules of SLACK_WEBHOOK_URL (core/endpoint-url.ts) and is
 * never repeated in a problem; nor is the value of the variable that
 * `webhookUrlEnv` names.
 */
import { matchesSubject, type AlertSubject, type SubjectField } from './alert-subject.js';
import { checkSlackWebhookUrl } from './endpoint-url.js';
import { cronProblem, shortestStartGapMinutes, timezoneProblem, type MaintenanceWindow, type Silence } from './silences.js';

export interface ProjectConfig {
  /** The project id or name, as AMPERSAND_PROJECT_ID takes it. */
  readonly id: string;
  /** Undefined: discover every integration of the project each cycle. */
  readonly integrationIds: readonly string[] | undefined;
  readonly groupRef: string | undefined;
}

export const ROUTE_MATCH_FIELDS = ['projectId', 'integrationId', 'provider', 'groupRef'] as const satisfies readonly SubjectField[];
export const MUTE_MATCH_FIELDS = ['installationId', 'groupRef', 'integrationId', 'projectId', 'provider'] as const satisfies readonly SubjectField[];

export type RouteMatch = Readonly<Partial<Record<(typeof ROUTE_MATCH_FIELDS)[number], string>>>;

export interface Route {
  /** The `name` given, else `route-` and a digest of its match and webhook source (unnamedRouteName): for logs, metrics and outbox lanes; never the URL. */
  readonly name: string;
  readonly match: RouteMatch;
  /** The webhook URL. A secret (its path is the token): never log it. */
  readonly webhookUrl: string;
  /** Where the URL came from, safe to log: `routes[1].webhookUrl`, or `$NAME` for webhookUrlEnv. */
  readonly webhookSource: string;
  /** Slack mention syntax added to firing alerts, or undefined. */
  readonly mention: string | undefined;
}

export interface MonitorConfig {
  /** Undefined when the file has no `projects`: AMPERSAND_PROJECT_ID and AMPERSAND_INTEGRATION_IDS apply. */
  readonly projects: readonly ProjectConfig[] | undefined;
  /** In file order; the first that matches wins (selectRoute). */
  readonly routes: readonly Route[];
  readonly silences: readonly Silence[];
  readonly maintenance: readonly MaintenanceWindow[];
}

export interface MonitorConfigOptions {
  /** The environment, for the variables `webhookUrlEnv` names. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** SLACK_WEBHOOK_ALLOW_ANY_HOST: a route's webhook may be on any https host. */
  readonly allowAnyWebhookHost: boolean;
}

export type MonitorConfigResult = { readonly ok: true; readonly config: MonitorConfig } | { readonly ok: false; readonly problems: readonly string[] };

/** The name a route may not take: the route of SLACK_WEBHOOK_URL, when no route matches. */
export const DEFAULT_ROUTE_NAME = 'default';

/** A name no route may take either: what the releases before routes called the destination of SLACK_WEBHOOK_URL. */
export const LEGACY_ROUTE_NAME = 'slack';

/** The longest mention, in characters: it is shown in full at the top of a message, within its size budget. */
export const MAX_MENTION_LENGTH = 200;

/** The longest maintenance window: a month. Longer is a silence. */
export const MAX_WINDOW_MINUTES = 31 * 24 * 60;

const TOP_KEYS = ['projects', 'routes', 'silences', 'maintenance'] as const;
const PROJECT_KEYS = ['id', 'integrations', 'groupRef'] as const;
const ROUTE_KEYS = ['name', 'match', 'webhookUrl', 'webhookUrlEnv', 'mention'] as const;
const SILENCE_KEYS = ['match', 'until', 'reason'] as const;
const WINDOW_KEYS = ['match', 'cron', 'durationMinutes', 'timezone', 'reason'] as const;

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** One Slack mention: @here, @channel, @everyone, a user group or a user, with an optional label; several are separated by spaces. */
const MENTION = /^<(?:!(?:here|channel|everyone)|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)(?:\|[^<>|]+)?>$/;
/** RFC 3339 date and time with an explicit offset; seconds and fractions optional. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/** A value as a problem shows it: a string quoted and cut short (a URL not at all), a number or boolean as it is, anything else by its type. */
function shown(value: unknown): string {
  // A URL in the wrong key (a webhook pasted under webhookUrlEnv, name or mention) may be a secret: never repeated.
  if (typeof value === 'string' && value.includes('://')) return '(a URL, hidden)';
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/**
 * `routes[1]` + `match` → `routes[1].match`; a key that is no identifier is
 * quoted, and one that holds a URL (a webhook pasted as a key) is not shown.
 */
const child = (path: string, key: string): string => {
  const quoted = key.includes('://') ? '(a URL, hidden)' : key.length > 40 ? `${key.slice(0, 40)}…` : key;
  const part = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(quoted);
  if (path === '') return part;
  return part.startsWith('"') ? `${path}[${part}]` : `${path}.${part}`;
};
const item = (path: string, index: number): string => `${path}[${index}]`;

class Problems {
  readonly lines: string[] = [];

  add(path: string, message: string): void {
    this.lines.push(`${path === '' ? 'the file' : path} ${message}`);
  }

  /** Reports every key of `obj` not in `accepted`; `what` names the thing (`a route`). */
  unknownKeys(obj: Json, path: string, accepted: readonly string[], what: string): void {
    for (const key of Object.keys(obj)) {
      if (!accepted.includes(key)) this.add(child(path, key), `is not a key ${what} accepts (${accepted.join(', ')})`);
    }
  }

  /** Notes that the value at `path` is missing or not what it `accepts`. */
  expected(value: unknown, path: string, accepts: string): undefined {
    this.add(path, value === undefined ? `is required: ${accepts}` : `must be ${accepts}, got ${shown(value)}`);
    return undefined;
  }

  /** A non-empty string, or undefined (noted) when it is not one. */
  text(value: unknown, path: string, what: string): string | undefined {
    if (typeof value === 'string' && value.trim() !== '') return value;
    return this.expected(value, path, what);
  }

  /** An optional non-empty string: absent and null are undefined. */
  optionalText(value: unknown, path: string, what: string): string | undefined {
    return value === undefined || value === null ? undefined : this.text(value, path, what);
  }

  /** A list (null and absent: empty); each item handed to `each`, whose undefined results are dropped. */
  list<T>(value: unknown, path: string, what: string, each: (item: unknown, path: string, index: number) => T | undefined): T[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.add(path, `must be a list of ${what}, got ${shown(value)}`);
      return [];
    }
    const out: T[] = [];
    value.forEach((entry, index) => {
      const result = each(entry, item(path, index), index);
      if (result !== undefined) out.push(result);
    });
    return out;
  }

  /** A mapping of some of the `accepted` keys, or undefined (noted); a key it does not accept is noted too. */
  mapping(value: unknown, path: string, accepted: readonly string[], what: string, hint = ''): Json | undefined {
    if (!isObject(value)) {
      this.add(path, `must be a mapping of ${accepted.join(', ')}${hint}, got ${shown(value)}`);
      return undefined;
    }
    this.unknownKeys(value, path, accepted, what);
    return value;
  }

  /** A `match` of `what` (`a route`): a mapping of some of `fields` to non-empty strings. */
  match<F extends string>(value: unknown, path: string, fields: readonly F[], what: string): Readonly<Partial<Record<F, string>>> | undefined {
    const hint = ' to the values to match ({} matches everything)';
    if (value === undefined) {
      this.add(path, `is required: a mapping of any of ${fields.join(', ')}${hint}`);
      return undefined;
    }
    const obj = this.mapping(value, path, fields, `the match of ${what}`, hint);
    if (obj === undefined) return undefined;
    const match: Partial<Record<F, string>> = {};
    let ok = true;
    for (const field of fields) {
      if (!Object.hasOwn(obj, field)) continue;
      const text = this.text(obj[field], child(path, field), `the ${field} to match, a non-empty string`);
      if (text === undefined) ok = false;
      else match[field] = text;
    }
    return ok && Object.keys(obj).every((key) => (fields as readonly string[]).includes(key)) ? match : undefined;
  }
}

/**
 * Checks the parsed monitor configuration file. All problems are collected, each
 * naming its path, before the result says no; the service then exits 2.
 */
export function validateMonitorConfig(value: unknown, options: MonitorConfigOptions): MonitorConfigResult {
  const problems = new Problems();
  if (value === undefined || value === null) {
    problems.add('', `is empty: it must be a mapping with any of ${TOP_KEYS.join(', ')}`);
    return { ok: false, problems: problems.lines };
  }
  const top = problems.mapping(value, '', TOP_KEYS, 'the file');
  if (top === undefined) return { ok: false, problems: problems.lines };

  const projects = top['projects'] === undefined || top['projects'] === null ? undefined : checkProjects(top['projects'], problems);
  const routes = checkRoutes(top['routes'], problems, options);
  const silences = problems.list(top['silences'], 'silences', 'silences', (entry, path) => checkSilence(entry, path, problems));
  const maintenance = problems.list(top['maintenance'], 'maintenance', 'maintenance windows', (entry, path) => checkWindow(entry, path, problems));

  if (problems.lines.length > 0) return { ok: false, problems: problems.lines };
  return { ok: true, config: { projects, routes, silences, maintenance } };
}

function checkProjects(value: unknown, problems: Problems): ProjectConfig[] | undefined {
  if (Array.isArray(value) && value.length === 0) {
    problems.add('projects', 'must list at least one project, or be left out to use AMPERSAND_PROJECT_ID');
    return undefined;
  }
  const seen = new Set<string>();
  return problems.list(value, 'projects', 'projects', (entry, path) => {
    const obj = problems.mapping(entry, path, PROJECT_KEYS, 'a project');
    if (obj === undefined) return undefined;
    const id = problems.text(obj['id'], child(path, 'id'), 'the Ampersand project id or name');
    if (id !== undefined && seen.has(id)) problems.add(child(path, 'id'), `repeats project ${shown(id)}: list each project once`);
    if (id !== undefined) seen.add(id);
    const integrationIds = checkIntegrations(obj['integrations'], child(path, 'integrations'), problems);
    const groupRef = problems.optionalText(obj['groupRef'], child(path, 'groupRef'), 'a groupRef, a non-empty string');
    return id === undefined ? undefined : { id, integrationIds, groupRef };
  });
}

function checkIntegrations(value: unknown, path: string, problems: Problems): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.length === 0) {
    problems.add(path, 'must list at least one integration id, or be left out to discover every integration of the project');
    return undefined;
  }
  const seen = new Set<string>();
  return problems.list(value, path, 'integration ids', (entry, itemPath) => {
    const id = problems.text(entry, itemPath, 'an integration id, a non-empty string');
    if (id === undefined) return undefined;
    if (seen.has(id)) problems.add(itemPath, `repeats integration ${shown(id)}`);
    seen.add(id);
    return id;
  });
}

function checkRoutes(value: unknown, problems: Problems, options: MonitorConfigOptions): Route[] {
  const names = new Set<string>();
  return problems.list(value, 'routes', 'routes', (entry, path) => {
    const obj = problems.mapping(entry, path, ROUTE_KEYS, 'a route');
    if (obj === undefined) return undefined;
    const given = checkRouteName(obj['name'], child(path, 'name'), names, problems);
    const match = problems.match(obj['match'], child(path, 'match'), ROUTE_MATCH_FIELDS, 'a route');
    const webhook = checkWebhook(obj, path, problems, options);
    const mention = checkMention(obj['mention'], child(path, 'mention'), problems);
    if (match === undefined || webhook === undefined) return undefined;
    const name = given ?? unnamedRouteName(match, webhook);
    if (given === undefined && names.has(name)) problems.add(path, `repeats another unnamed route's match and webhook: give each route a name`);
    names.add(name);
    return { name, match, ...webhook, mention };
  });
}

/**
 * The name of a route without `name`: `route-` and a 32-bit digest of its
 * match and its webhook (the variable named by webhookUrlEnv, or the URL: a
 * digest that short tells nothing of the token). The route's outbox lane is
 * named after it and kept across restarts: a name by position (`routes[0]`)
 * would send the messages waiting for one route to another route's webhook
 * once a route is inserted above it. Edit the match or the webhook and the
 * name changes: the old lane then goes to the default route at the next start
 * or cycle. A `name` is clearer in logs and metrics; the README says so.
 */
function unnamedRouteName(match: RouteMatch, webhook: Pick<Route, 'webhookUrl' | 'webhookSource'>): string {
  const source = webhook.webhookSource.startsWith('$') ? webhook.webhookSource : webhook.webhookUrl;
  const text = JSON.stringify([ROUTE_MATCH_FIELDS.map((f) => match[f] ?? null), source]);
  // FNV-1a, 32 bits: stable across releases and platforms, and enough to tell a file's few routes apart.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return `route-${hash.toString(16).padStart(8, '0')}`;
}

function checkRouteName(value: unknown, path: string, names: Set<string>, problems: Problems): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ROUTE_NAME.test(value)) {
    problems.add(path, `must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit, got ${shown(value)}`);
    return undefined;
  }
  if (value === DEFAULT_ROUTE_NAME) problems.add(path, `must not be "${DEFAULT_ROUTE_NAME}": that is the route of SLACK_WEBHOOK_URL`);
  // The outbox reads the destination "slack" of entries queued before routes existed as the default route.
  else if (value === LEGACY_ROUTE_NAME) problems.add(path, `must not be "${LEGACY_ROUTE_NAME}": the release before named the route of SLACK_WEBHOOK_URL so`);
  else if (names.has(value)) problems.add(path, `repeats the route name ${shown(value)}: each route needs its own`);
  names.add(value);
  return value;
}

/** The route's webhook, from webhookUrl or from the variable webhookUrlEnv names; neither value is ever shown. */
function checkWebhook(obj: Json, path: string, problems: Problems, options: MonitorConfigOptions): Pick<Route, 'webhookUrl' | 'webhookSource'> | undefined {
  const literal = obj['webhookUrl'];
  const envName = obj['webhookUrlEnv'];
  if (literal !== undefined && envName !== undefined) {
    problems.add(path, 'must have webhookUrl or webhookUrlEnv, not both');
    return undefined;
  }
  if (literal === undefined && envName === undefined) {
    problems.add(path, 'needs webhookUrl (a Slack incoming webhook URL) or webhookUrlEnv (the name of an environment variable that holds one)');
    return undefined;
  }
  if (literal !== undefined) {
    const where = child(path, 'webhookUrl');
    if (typeof literal !== 'string') {
      problems.add(where, 'must be a Slack incoming webhook URL, https://hooks.slack.com/services/… (value hidden)');
      return undefined;
    }
    const checked = checkSlackWebhookUrl(literal.trim(), options.allowAnyWebhookHost);
    if (!checked.ok) {
      problems.add(where, checked.problem);
      return undefined;
    }
    return { webhookUrl: literal.trim(), webhookSource: where };
  }
  const where = child(path, 'webhookUrlEnv');
  if (typeof envName !== 'string' || !ENV_NAME.test(envName)) {
    problems.add(where, `must be the name of an environment variable (letters, digits and "_", not starting with a digit), got ${shown(envName)}`);
    return undefined;
  }
  const url = options.env[envName]?.trim();
  if (url === undefined || url === '') {
    problems.add(where, `names ${envName}, which is not set or empty: it must hold the route's Slack incoming webhook URL`);
    return undefined;
  }
  const checked = checkSlackWebhookUrl(url, options.allowAnyWebhookHost);
  if (!checked.ok) {
    problems.add(where, `names ${envName}, which ${checked.problem}`);
    return undefined;
  }
  return { webhookUrl: url, webhookSource: `$${envName}` };
}

function checkMention(value: unknown, path: string, problems: Problems): string | undefined {
  if (value === undefined || value === null) return undefined;
  const mentions = typeof value === 'string' ? value.trim().split(/ +/) : [];
  if (mentions.length === 0 || !mentions.every((m) => MENTION.test(m)) || mentions.join(' ').length > MAX_MENTION_LENGTH) {
    problems.add(
      path,
      `must be Slack mention syntax, such as "<!here>", "<!channel>", "<!subteam^S0123ABCD>" (a user group) or "<@U0123ABCD>" (a user), several separated by spaces, ${MAX_MENTION_LENGTH} characters at most; got ${shown(value)}`,
    );
    return undefined;
  }
  return mentions.join(' ');
}

function checkSilence(entry: unknown, path: string, problems: Problems): Silence | undefined {
  const obj = problems.mapping(entry, path, SILENCE_KEYS, 'a silence');
  if (obj === undefined) return undefined;
  const match = problems.match(obj['match'], child(path, 'match'), MUTE_MATCH_FIELDS, 'a silence');
  const until = checkInstant(obj['until'], child(path, 'until'), problems);
  const reason = problems.optionalText(obj['reason'], child(path, 'reason'), 'a text');
  if (match === undefined || until === undefined) return undefined;
  return { match, until, reason };
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** An RFC 3339 date and time with its offset, such as 2026-12-01T00:00:00Z; a date alone would leave its zone to guess. */
function checkInstant(value: unknown, path: string, problems: Problems): Date | undefined {
  const accepts = 'a date and time with its offset, such as 2026-12-01T00:00:00Z or 2026-12-01T09:00:00+01:00';
  const parts = typeof value === 'string' ? INSTANT.exec(value.trim()) : null;
  const [year, month, day, hour, minute, second] = (parts?.slice(1, 7) ?? []).map((p) => Number(p ?? 0));
  const valid =
    parts !== null &&
    month !== undefined &&
    month >= 1 &&
    month <= 12 &&
    day !== undefined &&
    day >= 1 &&
    day <= daysIn(year ?? 0, month) &&
    (hour ?? 99) <= 23 &&
    (minute ?? 99) <= 59 &&
    (second ?? 99) <= 59;
  const ms = valid && typeof value === 'string' ? Date.parse(value.trim()) : Number.NaN;
  return Number.isNaN(ms) ? problems.expected(value, path, accepts) : new Date(ms);
}

function checkWindow(entry: unknown, path: string, problems: Problems): MaintenanceWindow | undefined {
  const obj = problems.mapping(entry, path, WINDOW_KEYS, 'a maintenance window');
  if (obj === undefined) return undefined;
  const match = problems.match(obj['match'], child(path, 'match'), MUTE_MATCH_FIELDS, 'a maintenance window');
  const cron = checkCron(obj['cron'], child(path, 'cron'), problems);
  const durationMinutes = checkDuration(obj['durationMinutes'], child(path, 'durationMinutes'), problems);
  const timezone = checkTimezone(obj['timezone'], child(path, 'timezone'), problems);
  const reason = problems.optionalText(obj['reason'], child(path, 'reason'), 'a text');
  if (match === undefined || cron === undefined || durationMinutes === undefined || timezone === undefined) return undefined;
  // A window that starts again before it ends never ends: it would mute for good, and cost every poll a long walk.
  const gap = shortestStartGapMinutes(cron, timezone);
  if (gap !== undefined && durationMinutes >= gap) {
    problems.add(
      child(path, 'durationMinutes'),
      `must be shorter than the time between two starts of its cron (${gap} minutes), or the window never ends; mute for good with a silence and its until`,
    );
    return undefined;
  }
  return { match, cron, durationMinutes, timezone, reason };
}

function checkCron(value: unknown, path: string, problems: Problems): string | undefined {
  const accepts = 'a 5-field cron expression (minute hour day-of-month month day-of-week), such as "0 2 * * SAT"';
  if (typeof value !== 'string' || value.trim() === '') return problems.expected(value, path, accepts);
  const problem = cronProblem(value.trim());
  if (problem !== undefined) problems.add(path, `must be ${accepts}; ${shown(value)} ${problem}`);
  return problem === undefined ? value.trim() : undefined;
}

function checkDuration(value: unknown, path: string, problems: Problems): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_WINDOW_MINUTES) return value;
  return problems.expected(value, path, `a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES} (31 days)`);
}

function checkTimezone(value: unknown, path: string, problems: Problems): string | undefined {
  const accepts = 'an IANA time zone, such as Europe/Berlin, America/New_York or UTC';
  if (typeof value !== 'string' || value.trim() === '' || timezoneProblem(value.trim()) !== undefined) return problems.expected(value, path, accepts);
  return value.trim();
}

/**
 * The route of an installation's alerts: the first route whose match covers
 * its subject, or undefined, which means SLACK_WEBHOOK_URL (the default
 * route). A route match names no installation, so every alert of one
 * integration and group goes the same way.
 */
export function selectRoute(routes: readonly Route[], subject: AlertSubject): Route | undefined {
  return routes.find((route) => matchesSubject(route.match, subject));
}
