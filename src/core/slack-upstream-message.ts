/**
 * Renders the messages about the monitor's own access to Ampersand ("cannot
 * read Ampersand", "can read again", per project or per integration). Pure.
 *
 * Each says, at a glance: what broke, in words ("Ampersand rejects the
 * monitor's API key"); since when (Slack's date token with a UTC fallback) and,
 * on recovery, for how long; why (the failure as the poll saw it); and what to
 * do, one line per kind of failure (REMEDIES). The top-level `text`, the line a
 * phone shows, keeps the form of the release before: `[FIRING] the monitor
 * cannot read … : <why>`.
 *
 * The kind of failure is the notification's `cause`; an entry queued by the
 * release before has none, and its kind is read from the start of its `reason`,
 * which that release wrote as `<kind> (HTTP n): …`.
 */
import { ERROR_REASONS, type PollErrorReason } from './errors/ampersand-api-error.js';
import type { UpstreamNotification } from './notification.js';
import { MESSAGE_LIMITS, context, escapeMrkdwn, header, mrkdwnValue as v, refNote, section, truncate, type SlackMessage } from './slack-blocks.js';
import { formatDuration, formatUtc, slackDateToken } from './slack-time.js';

/** What is broken, in words, for each kind of failure (`the monitor …` is said around it). */
export const failureWords: Readonly<Record<PollErrorReason, string>> = {
  unauthorized: "Ampersand rejects the monitor's API key (401)",
  forbidden: "Ampersand refuses the monitor's API key access (403)",
  not_found: 'Ampersand does not know the project or integration the monitor asks for (404)',
  redirect: 'AMPERSAND_API_URL answers with a redirect instead of the API',
  timeout: "Ampersand's API does not answer in time",
  network: "the monitor cannot reach Ampersand's API",
  rate_limited: "Ampersand's API is rate limiting the monitor (429)",
  server_error: "Ampersand's API fails with server errors (5xx)",
  client_error: "Ampersand's API refuses the monitor's requests (4xx)",
  invalid_body: "Ampersand's API answers with data the monitor cannot read",
  body_too_large: "Ampersand's answer is larger than AMPERSAND_MAX_BODY_MB",
  internal_error: 'the monitor itself fails while polling (not Ampersand)',
};

/** What to do, one line per kind of failure. */
export const REMEDIES: Readonly<Record<PollErrorReason, string>> = {
  unauthorized: 'Check AMPERSAND_API_KEY: it must be an API key of this project that has not been revoked (the Ampersand dashboard lists them).',
  forbidden: 'Check that AMPERSAND_API_KEY belongs to the project in AMPERSAND_PROJECT_ID and may read it.',
  not_found: 'Check AMPERSAND_API_URL (it usually ends in /v1), AMPERSAND_PROJECT_ID and AMPERSAND_INTEGRATION_IDS.',
  redirect: 'Set AMPERSAND_API_URL to the API itself, such as https://api.withampersand.com/v1: the monitor never follows a redirect with its key.',
  timeout: "Check Ampersand's status page; if Ampersand is up, check the network path to AMPERSAND_API_URL or raise AMPERSAND_TIMEOUT_SECONDS.",
  network: "Check the network path from the monitor to AMPERSAND_API_URL (DNS, proxy, firewall, TLS), then Ampersand's status page.",
  rate_limited: 'Poll less: raise POLL_INTERVAL_SECONDS or lower POLL_CONCURRENCY, or ask Ampersand for a higher limit.',
  server_error: "Likely on Ampersand's side: check Ampersand's status page, and contact Ampersand support if it lasts.",
  client_error: "Check AMPERSAND_GROUP_REF and the ids in the configuration; the monitor's log line names the API's error.",
  invalid_body: "The monitor's log names what could not be read; if it lasts, send that line to Ampersand support.",
  body_too_large: 'Raise AMPERSAND_MAX_BODY_MB, or narrow what is listed with AMPERSAND_GROUP_REF.',
  internal_error: "See the monitor's logs and /readyz: most often Redis refuses its commands (memory full, a wrong key type).",
};

const KNOWN_CAUSES: ReadonlySet<string> = new Set(ERROR_REASONS);

/**
 * The kind of failure of a notification: its `cause`, or, for an entry of the
 * release before, the kind its `reason` starts with (after the degraded
 * prefix); undefined when neither says.
 */
export function upstreamCause(n: UpstreamNotification): PollErrorReason | undefined {
  if (n.cause !== undefined) return n.cause;
  const word = /^(?:upstream degraded: \d+ consecutive poll cycles failed, last error: )?([a-z_]+)(?: \(HTTP \d+\))?:/.exec(n.reason)?.[1];
  return word !== undefined && KNOWN_CAUSES.has(word) ? (word as PollErrorReason) : undefined;
}

const detectedMs = (n: UpstreamNotification): number => Date.parse(n.detectedAt);

/** "Since <token> (for 12 m)" for an open alert; the detection time when the start is unknown. */
function sinceLine(n: UpstreamNotification): string {
  const now = detectedMs(n);
  if (n.sinceMs !== undefined) {
    const lasting = Number.isNaN(now) || now < n.sinceMs ? '' : ` (for ${formatDuration(now - n.sinceMs)})`;
    return `*Since:* ${slackDateToken(n.sinceMs)}${lasting}`;
  }
  return Number.isNaN(now) ? `*Since:* at least ${v(n.detectedAt)}` : `*Since:* at least ${slackDateToken(now)}`;
}

function plainSince(n: UpstreamNotification): string {
  const start = n.sinceMs ?? detectedMs(n);
  return Number.isNaN(start) ? n.detectedAt : formatUtc(start);
}

/** "It was down for 2 h 13 m, since <token>." on recovery, when the start is known. */
function outageLine(n: UpstreamNotification): string {
  const now = detectedMs(n);
  if (n.sinceMs === undefined || Number.isNaN(now)) return '';
  return `It could not for ${formatDuration(now - n.sinceMs)}, since ${slackDateToken(n.sinceMs)}.`;
}

function footer(n: UpstreamNotification, ref: string | undefined): string {
  const integration = n.integrationId === undefined ? '' : ` · integration \`${v(n.integrationId)}\``;
  const now = detectedMs(n);
  return `Project \`${v(n.projectId)}\`${integration} · detected ${Number.isNaN(now) ? v(n.detectedAt) : slackDateToken(now)}${refNote(ref)}`;
}

/** The headline of the release before: what the phone shows. */
function headline(n: UpstreamNotification): string {
  const reason = v(n.reason);
  if (n.integrationId !== undefined) {
    const integration = v(n.integrationId);
    if (n.state === 'down') return `[FIRING] the monitor cannot read integration ${integration}: ${reason}`;
    if (n.noLongerMonitored) return `[RESOLVED] ${reason}`;
    return `[RESOLVED] the monitor can read integration ${integration} again (${reason})`;
  }
  const project = v(n.projectId);
  return n.state === 'down'
    ? `[FIRING] the monitor cannot read Ampersand project ${project}: ${reason}`
    : `[RESOLVED] the monitor can read Ampersand project ${project} again (${reason})`;
}

function title(n: UpstreamNotification): string {
  if (n.integrationId === undefined) return n.state === 'down' ? 'The monitor cannot read Ampersand' : 'The monitor can read Ampersand again';
  const id = truncate(n.integrationId, 60);
  if (n.state === 'down') return `The monitor cannot read integration ${id}`;
  return n.noLongerMonitored ? `Integration ${id} is no longer monitored` : `The monitor can read integration ${id} again`;
}

/** The body of a "cannot read" message: what, since when, why, what to do. */
function downLines(n: UpstreamNotification): string[] {
  const cause = upstreamCause(n);
  const what = cause === undefined ? "the monitor's polls of Ampersand fail" : failureWords[cause];
  const scope =
    n.integrationId === undefined
      ? `No installation of project \`${v(n.projectId)}\` is being checked meanwhile: no alert can fire until it reads again.`
      : `Integration \`${v(n.integrationId)}\` is not being checked meanwhile (the others are): its alerts cannot fire until it reads again.`;
  return [
    `*What:* ${what.charAt(0).toUpperCase()}${what.slice(1)}. ${scope}`,
    sinceLine(n),
    `*Why:* ${v(n.reason)}`,
    `*What to do:* ${cause === undefined ? "See the monitor's logs and /readyz, which name the failure." : REMEDIES[cause]}`,
  ];
}

function upLines(n: UpstreamNotification): string[] {
  const outage = outageLine(n);
  if (n.noLongerMonitored) {
    return [
      `*What:* Integration \`${v(n.integrationId ?? '')}\` left the list of integrations the monitor polls (AMPERSAND_INTEGRATION_IDS, or the project's integrations), so its "cannot read" alert is closed without a successful read.`,
      `*Why:* ${v(n.reason)}`,
    ];
  }
  const scope = n.integrationId === undefined ? `project \`${v(n.projectId)}\`` : `integration \`${v(n.integrationId)}\``;
  return [
    `*What:* The monitor reads ${scope} again.${outage === '' ? '' : ` ${outage}`}`,
    `*Why:* ${v(n.reason)}`,
    '*What to do:* Nothing. Changes made while it could not read are compared with the last snapshot at this poll and alerted now.',
  ];
}

/** Renders one upstream notification as one Slack message within Slack's limits; `ref` is its outbox id. */
export function renderUpstreamMessage(n: UpstreamNotification, ref: string | undefined): SlackMessage {
  const text = headline(n);
  const lines = n.state === 'down' ? downLines(n) : upLines(n);
  const cause = n.state === 'down' ? upstreamCause(n) : undefined;
  const plainExtra = n.state === 'down' ? ` · since ${plainSince(n)} · ${cause === undefined ? "See the monitor's logs and /readyz." : REMEDIES[cause]}` : '';
  return {
    text,
    plainText: truncate(text + escapeMrkdwn(plainExtra), MESSAGE_LIMITS.plainText - refNote(ref).length) + refNote(ref),
    blocks: [header(title(n)), section(lines.join('\n')), context(footer(n, ref))],
  };
}
