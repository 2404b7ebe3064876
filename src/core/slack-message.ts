/**
 * Renders a Notification as a Slack incoming-webhook payload. Pure.
 *
 * The top-level `text` is the line a phone notification shows, so it names the
 * integration, and for each installation its id, group name and groupRef,
 * provider, and the old and new value, Alertmanager style ("[FIRING:2] …").
 * Block Kit blocks carry the same detail, laid out for reading.
 *
 * Every value from outside is escaped for mrkdwn (&, <, >), so a group named
 * `<!channel>` is shown as text and pings nobody, and it is cut to a length
 * that keeps each block inside Slack's limits (section 3,000, header 150).
 * Slack also refuses a message whose blocks carry more than about 12,000
 * characters of text in all (`400 msg_blocks_too_long`, undocumented);
 * `splitNotifications` keeps each message under `MESSAGE_LIMITS.blockText`
 * with the costs measured here.
 */
import type { ContextBlock, SectionBlock } from '@slack/types';
import type { AlertItem } from './alert-policy.js';
import { digestMentions, type AlertEventItem, type AlertNotification } from './alert-notification.js';
import { cleanText } from './display-text.js';
import { formatDuration, ordinal, slackDateToken, utcText } from './time-text.js';
import type { Condition } from './alert-state.js';
import { FIELD_CONDITIONS, conditionCounts, formatCount } from './condition-words.js';
import { FIELDS, NONE } from './diff.js';
import type { BaselineSummary, InstallationNotification, Notification } from './notification.js';
import {
  MESSAGE_LIMITS,
  blockTextLength,
  context,
  escapeMrkdwn,
  fitText,
  header,
  mrkdwnValue as v,
  refNote,
  section,
  truncate,
  type SlackBlock,
  type SlackMessage,
} from './slack-blocks.js';
import { renderDroppedMessage } from './slack-dropped-message.js';
import { renderMassEvent } from './slack-mass-event-message.js';
import { renderUpstreamMessage } from './slack-upstream-message.js';

// The building blocks live in slack-blocks.ts; these are re-exported for the modules that take them from here.
export { MESSAGE_LIMITS, blockTextLength, escapeMrkdwn, truncate, type SlackBlock, type SlackMessage } from './slack-blocks.js';

function describeInstallation(it: AlertItem): string {
  const group = it.groupName === '' && it.groupRef === '' ? 'no group' : `group "${v(it.groupName)}" ${v(it.groupRef)}`;
  return `${v(it.installationId)} (${group}, ${v(it.provider)})`;
}

function describeChange(it: AlertItem): string {
  if (it.change === 'baseline') return `${it.field} is ${v(it.to)}`;
  if (it.change === 'added') return `${it.field} ${NONE} → ${v(it.to)} (new installation)`;
  if (it.change === 'removed') return `${it.field} ${v(it.from)} → ${NONE} (installation removed)`;
  return `${it.field} ${v(it.from)} → ${v(it.to)}`;
}

/** Groups items by installation, keeping first-seen order. */
function byInstallation(items: readonly AlertItem[]): AlertItem[][] {
  const groups = new Map<string, AlertItem[]>();
  for (const it of items) {
    const list = groups.get(it.installationId);
    if (list) list.push(it);
    else groups.set(it.installationId, [it]);
  }
  return [...groups.values()];
}

function renderInstallations(n: InstallationNotification, ref: string | undefined): SlackMessage {
  const problems = n.items.filter((it) => it.severity === 'problem').length;
  const recoveries = n.items.length - problems;
  const counts = [problems > 0 ? `FIRING:${problems}` : '', recoveries > 0 ? `RESOLVED:${recoveries}` : ''].filter((s) => s !== '').join(', ');
  const partNote = n.parts > 1 ? ` (part ${n.part}/${n.parts})` : '';
  const integration = v(n.integrationId);
  const groups = byInstallation(n.items);

  const prefix =
    n.kind === 'baseline'
      ? `[BASELINE] Ampersand integration ${integration}${partNote}: monitoring started, already needing attention:`
      : `[${counts}] Ampersand integration ${integration}${partNote}:`;
  const textParts = n.items.map((it) => `${describeInstallation(it)} ${describeChange(it)}`);
  const summary = n.summary;
  if (summary !== undefined && summary.omitted > 0) textParts.push(`+${formatCount(summary.omitted)} more installation(s)`);

  const title =
    n.kind === 'baseline'
      ? `Monitoring started: ${formatCount(summary?.installations ?? groups.length)} installation(s) already need attention`
      : problems > 0 && recoveries > 0
        ? `${problems} problem(s), ${recoveries} recovery(ies)`
        : problems > 0
          ? `${problems} problem(s)`
          : `${recoveries} recovery(ies)`;

  const blocks: SlackBlock[] = [header(`${title} · ${escapeMrkdwn(truncate(n.integrationId, 60))}${partNote}`)];
  if (summary !== undefined) blocks.push(section(baselineCounts(summary)));
  for (const group of groups) {
    const block = installationSection(group);
    if (block !== undefined) blocks.push(block);
  }
  if (summary !== undefined && summary.omitted > 0) {
    blocks.push(context(`+${formatCount(summary.omitted)} more installation(s) need attention; the status page lists them all, worst first.`));
  }
  blocks.push(context(`Project \`${v(n.projectId)}\` · integration \`${integration}\` · detected ${v(n.detectedAt)}${refNote(ref)}`));
  return {
    text: fitText(textParts, prefix),
    blocks: blocks.slice(0, MESSAGE_LIMITS.blocks),
    plainText: fitText(textParts, prefix, MESSAGE_LIMITS.plainText - refNote(ref).length) + refNote(ref),
  };
}

/** A baseline summary's counts: every installation needing attention, by condition, worst first. */
function baselineCounts(summary: BaselineSummary): string {
  const byCondition: Partial<Record<Condition, number>> = {};
  for (const field of FIELDS) {
    const count = summary.fields[field];
    if (count !== undefined) byCondition[FIELD_CONDITIONS[field]] = count;
  }
  const shown = summary.installations - summary.omitted;
  return [
    `*${formatCount(summary.installations)} installation(s) already need attention:* ${conditionCounts(byCondition)}`,
    summary.omitted > 0 ? `The worst ${formatCount(shown)} are listed below.` : '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** The section of one installation: its items, which all share the installation id. */
function installationSection(group: readonly AlertItem[]): SectionBlock | undefined {
  const first = group[0];
  if (first === undefined) return undefined;
  const lines = group.map((it) => `${it.severity === 'problem' ? ':red_circle:' : ':large_green_circle:'} ${describeChange(it)}`);
  return section(
    [
      `*Installation* \`${v(first.installationId)}\``,
      `*Group* ${first.groupName === '' ? '_none_' : v(first.groupName)} (\`${v(first.groupRef)}\`) · *Provider* ${v(first.provider)}`,
      ...lines,
    ].join('\n'),
  );
}

/** Block text that one installation's items add to a message. */
export function installationBlockText(items: readonly AlertItem[]): number {
  return blockTextLength(installationSection(items));
}

/**
 * Block text of a message of `n` besides its installations, at its largest:
 * the header at its limit and a footer ref as long as a ref can be.
 */
export function messageOverheadBlockText(n: Omit<InstallationNotification, 'items' | 'part' | 'parts'>): number {
  const empty = renderInstallations({ ...n, items: [], part: 1, parts: 1 }, 'x'.repeat(MESSAGE_LIMITS.value));
  return MESSAGE_LIMITS.headerText + blockTextLength(empty.blocks.slice(1));
}

// ---------------------------------------------------------------------------
// kind 'alerts': the digest of one poll's alert events (alert-notification.ts).
// Each item answers what broke (in words), for whom, since when (and for how
// long, on recovery), why (the operation's error), and what to do; the message
// says how many installations of the integration have the condition now.
// ---------------------------------------------------------------------------

/** Where a message's links go; the Slack notifier is given them (AMPERSAND_DASHBOARD_URL, RUNBOOK_URL). */
export interface MessageLinks {
  /** The Ampersand dashboard; the spec documents no deep link to an installation, so the root is linked. */
  readonly ampersandDashboardUrl: string;
  /** Added to messages with a firing or a reminder. */
  readonly runbookUrl?: string;
}

/** AMPERSAND_DASHBOARD_URL's default. */
export const defaultAmpersandDashboardUrl = 'https://dashboard.withampersand.com';

const defaultLinks: MessageLinks = { ampersandDashboardUrl: defaultAmpersandDashboardUrl };

/**
 * One line of outside text, cleaned of line breaks and controls, cut and
 * escaped; a backtick becomes U+02CB, which looks the same and cannot end the
 * code span the value may be shown in (as operation.ts does for error lines).
 */
const line = (value: string, max: number = MESSAGE_LIMITS.value): string => escapeMrkdwn(cleanText(value, max).text.replace(/`/g, '\u02cb'));

/**
 * A mrkdwn link. The URL comes from the configuration, checked there; the
 * characters that would end the link or the token early are percent-encoded,
 * and `&` is escaped as Slack asks.
 */
export function slackLink(url: string, label: string): string {
  const safe = url.replace(/[|<>\s]/g, (c) => encodeURIComponent(c)).replace(/&/g, '&amp;');
  return `<${safe}|${escapeMrkdwn(label)}>`;
}

/**
 * The provider as the messages name it: its display name from `GET /providers`
 * when known ("HubSpot"), else its id with a capital first letter
 * ("salesforce" → "Salesforce"); '' when it has none.
 */
export function providerLabel(provider: string, displayName?: string): string {
  if (displayName !== undefined && displayName !== '') return cleanText(displayName, 60).text;
  const name = cleanText(provider, 60).text;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

const itemProvider = (item: AlertEventItem): string => providerLabel(item.provider, item.providerName);

/** The provider in an item's facts: "HubSpot (`hubspot`)" when its display name is known, else its id. */
function providerFact(item: AlertEventItem): string {
  if (item.providerName === undefined || item.providerName === '') return `provider ${line(item.provider)}`;
  return `provider ${line(item.providerName, 60)} (\`${line(item.provider)}\`)`;
}

/** What fails, for an operation: by its action type when the failure details say it. */
function operationWords(item: AlertEventItem): string {
  switch (item.details?.actionType) {
    case 'read':
      return 'reads';
    case 'write':
      return 'writes';
    case 'subscribe':
      return 'subscriptions';
    default:
      return 'operations';
  }
}

/** The condition in words, without the provider: "unhealthy", "reads failing", "credentials rejected". */
function conditionWords(item: AlertEventItem): string {
  switch (item.condition) {
    case 'unhealthy':
      return 'unhealthy';
    case 'operation_failing':
      return `${operationWords(item)} failing`;
    case 'bad_credentials':
      return 'credentials rejected';
  }
}

/** What broke, in words: "Salesforce reads failing", "HubSpot credentials rejected", "Zendesk installation unhealthy". */
export function alertHeadline(item: AlertEventItem): string {
  const what = item.condition === 'unhealthy' ? 'installation unhealthy' : conditionWords(item);
  const who = itemProvider(item);
  return who === '' ? what.charAt(0).toUpperCase() + what.slice(1) : `${who} ${what}`;
}

/** The provider, or "Installation" when there is none, as the subject of "… recovered". */
const subjectOf = (item: AlertEventItem): string => itemProvider(item) || 'Installation';

/** The condition in the counts line: "*3 of 120* unhealthy". */
const COUNT_WORDS: Readonly<Record<Condition, string>> = {
  unhealthy: 'unhealthy',
  operation_failing: 'with operations failing',
  bad_credentials: 'with credentials rejected',
};

/** The one-line remedy of each condition. */
function remedy(item: AlertEventItem): string {
  switch (item.condition) {
    case 'bad_credentials': {
      const who = item.consumerName ?? item.consumerRef;
      return `The customer must reconnect: ask ${who === undefined ? 'the user who connected it' : line(who)} to reconnect their ${line(itemProvider(item) || 'provider')} account in your app. Ampersand cannot read or write for this installation until then.`;
    }
    case 'operation_failing':
      return 'Read the error above and the full log of the operation in the Ampersand dashboard, then fix its cause (the provider account’s permissions or limits, its data, or the integration’s config).';
    case 'unhealthy':
      return 'Open the installation in the Ampersand dashboard: its recent operations and its connection show why Ampersand marks it unhealthy.';
  }
}

/** When the problem began: its first bad poll, or, carried over from before (since unknown), at least since it fired. */
function sinceText(item: AlertEventItem, at: (ms: number) => string): string {
  return item.since === null ? `since at least ${at(item.firedAt)}` : `since ${at(item.since)}`;
}

/** How long the problem lasted or lasts, until `endMs`; "at least" when its start is not known. */
function lastedText(item: AlertEventItem, endMs: number): string {
  return `${item.since === null ? 'at least ' : ''}${formatDuration(endMs - (item.since ?? item.firedAt))}`;
}

/** What held a deferred firing back: the rule and its reason when the episode log said, else the kind of thing. */
function heldText(item: AlertEventItem): string {
  if (item.heldBy === undefined) return 'held back by a silence or maintenance window';
  const { by, reason } = item.heldBy;
  const rule = by.startsWith('maintenance') ? `maintenance window ${by}` : `silence ${by}`;
  return `held back by ${line(rule, 60)}${reason === undefined || reason === '' ? '' : ` (${line(reason, 120)})`}`;
}

const EVENT_EMOJI: Readonly<Record<AlertEventItem['event'], string>> = { fire: ':red_circle:', remind: ':bell:', resolve: ':large_green_circle:' };

/** The event's first line, in words: what happened to what. `at` renders a time. */
function eventLine(item: AlertEventItem, detectedMs: number, at: (ms: number) => string): string {
  const headline = line(alertHeadline(item));
  switch (item.event) {
    case 'fire':
      return `${headline}, ${sinceText(item, at)}${item.deferred ? ` (${heldText(item)} until now)` : ''}`;
    case 'remind':
      return `Still firing: ${headline}, for ${lastedText(item, detectedMs)}, ${sinceText(item, at)}`;
    case 'resolve': {
      const end = item.endedAt ?? detectedMs;
      const what = `${conditionWords(item)} for ${lastedText(item, end)}, ${sinceText(item, at)}`;
      return item.reason === 'removed' ? `${line(subjectOf(item))} installation removed while ${what}` : `${line(subjectOf(item))} recovered: ${what}`;
    }
  }
}

/** For whom: the group's name and ref. */
function groupText(item: AlertEventItem): string {
  if (item.groupName === '' && item.groupRef === '') return 'no group';
  return `${item.groupName === '' ? '_unnamed group_' : `*${line(item.groupName)}*`} (\`${line(item.groupRef)}\`)`;
}

function consumerText(item: AlertEventItem): string | undefined {
  if (item.consumerName === undefined && item.consumerRef === undefined) return undefined;
  const name = item.consumerName === undefined ? '' : line(item.consumerName);
  const ref = item.consumerRef === undefined ? '' : `\`${line(item.consumerRef)}\``;
  return `consumer ${[name, ref === '' ? '' : name === '' ? ref : `(${ref})`].filter((s) => s !== '').join(' ')}`;
}

/** Why: the failing operation, its result and its first error lines. */
function whyLines(item: AlertEventItem): string[] {
  const d = item.details;
  if (d === undefined) return [];
  const when = d.time === undefined ? '' : `, ${slackDateToken(Date.parse(d.time))}`;
  const head = `*Why* operation \`${line(d.operationId)}\` (${line(d.actionType ?? 'operation')}${when})${d.result === undefined ? '' : `: ${line(d.result, 300)}`}`;
  const errors = d.errorLines.map((l) => `> \`${line(l, 300)}\``);
  const more = d.omittedErrorLines > 0 ? [`> _+${d.omittedErrorLines} more error line(s) in its log_`] : [];
  return [head, ...errors, ...more];
}

/** Paused reads shown per item; the rest are counted. */
const maxPausedShown = 10;

function pausedText(paused: readonly string[]): string {
  const shown = paused.slice(0, maxPausedShown).map((r) => line(r, 100));
  return `${shown.join(', ')}${paused.length > shown.length ? ` and ${paused.length - shown.length} more` : ''}`;
}

/** The section of one item. */
function alertItemSection(item: AlertEventItem, detectedMs: number): SectionBlock {
  const facts = [
    `Installation \`${line(item.installationId)}\``,
    providerFact(item),
    consumerText(item),
    item.event === 'fire' && item.episodesThisWeek !== undefined && item.episodesThisWeek >= 2
      ? `*${ordinal(item.episodesThisWeek)} time this week*`
      : undefined,
  ].filter((f): f is string => f !== undefined);
  const open = item.event !== 'resolve';
  const lines = [
    `${EVENT_EMOJI[item.event]} *${eventLine(item, detectedMs, slackDateToken)}*`,
    `For ${groupText(item)} · ${facts.join(' · ')}`,
    ...(open ? whyLines(item) : []),
    ...(open && item.pausedReads !== undefined && item.pausedReads.length > 0 ? [`*Paused reads* ${pausedText(item.pausedReads)}`] : []),
    ...(open ? [`*What to do* ${remedy(item)}`] : []),
  ];
  return section(lines.join('\n'));
}

/** The phone-notification form of one item, without times: what broke, for whom. */
function itemPhrase(item: AlertEventItem): string {
  const what =
    item.event === 'resolve'
      ? `${line(subjectOf(item))} ${item.reason === 'removed' ? 'installation removed while' : 'recovered:'} ${conditionWords(item)}`
      : `${item.event === 'remind' ? 'still: ' : ''}${line(alertHeadline(item))}`;
  const group = item.groupName === '' && item.groupRef === '' ? 'no group' : `${line(item.groupName)} (${line(item.groupRef)})`;
  return `${what} — ${group}`;
}

/** The plain-text form of one item: its phrase, since when in UTC, and its first error line. */
function itemPlainLine(item: AlertEventItem, detectedMs: number): string {
  const error = item.event === 'resolve' ? undefined : (item.details?.errorLines[0] ?? item.details?.result);
  const consumer = consumerText(item);
  return [
    `${EVENT_EMOJI[item.event]} ${eventLine(item, detectedMs, utcText)}`,
    `for ${groupText(item)}`,
    `installation \`${line(item.installationId)}\``,
    ...(consumer === undefined ? [] : [consumer]),
    ...(error === undefined ? [] : [`error: \`${line(error, 300)}\``]),
  ].join(' · ');
}

/** The integration as the messages name it: its name and id, or its id. */
function integrationLabel(n: AlertNotification): string {
  const id = line(n.integrationId);
  const name = n.integrationName ?? '';
  // An integration the API names after its id (or with no name) is not named twice.
  return name === '' || name === n.integrationId ? `integration ${id}` : `${line(name)} (${id})`;
}

/**
 * How many: "Installations of this integration now: *3 of 120* unhealthy · *1 of 120* with
 * credentials rejected", for the conditions that fire or are in the message.
 */
function countsLine(n: AlertNotification): string {
  const shown = new Set(n.items.map((i) => i.condition));
  const parts = (['bad_credentials', 'unhealthy', 'operation_failing'] as const)
    .filter((c) => n.firing[c] > 0 || shown.has(c))
    .map((c) => `*${n.firing[c]} of ${n.installations}* ${COUNT_WORDS[c]}`);
  return parts.length === 0 ? 'No installation of this integration has an open alert now.' : `Installations of this integration now: ${parts.join(' · ')}`;
}

/**
 * `FIRING:2, REMINDER:1, RESOLVED:1`, Alertmanager style, of the events shown; `+N more` when the
 * digest left events out for its size budget (their kinds are not kept, only their number).
 */
function eventCounts(items: readonly AlertEventItem[], omitted: number): string {
  const count = (event: AlertEventItem['event']): number => items.filter((i) => i.event === event).length;
  const parts: [string, number][] = [
    ['FIRING', count('fire')],
    ['REMINDER', count('remind')],
    ['RESOLVED', count('resolve')],
  ];
  const shown = parts.filter(([, k]) => k > 0).map(([label, k]) => `${label}:${k}`);
  return [...shown, ...(omitted > 0 ? [`+${omitted} more`] : [])].join(', ');
}

function alertsTitle(n: AlertNotification): string {
  const [first] = n.items;
  const total = n.items.length + n.omitted;
  if (first !== undefined && total === 1) return `${EVENT_EMOJI[first.event]} ${eventLine(first, Date.parse(n.detectedAt), utcText)}`;
  const count = (event: AlertEventItem['event']): number => n.items.filter((i) => i.event === event).length;
  const words = [
    [count('fire'), 'firing'],
    [count('remind'), 'still firing'],
    [count('resolve'), 'resolved'],
  ]
    .filter(([k]) => Number(k) > 0)
    .map(([k, w]) => `${k} ${w}`)
    .join(', ');
  const emoji = count('fire') > 0 ? EVENT_EMOJI.fire : count('remind') > 0 ? EVENT_EMOJI.remind : EVENT_EMOJI.resolve;
  const name =
    n.integrationName === undefined || n.integrationName === '' || n.integrationName === n.integrationId ? `Integration ${n.integrationId}` : n.integrationName;
  return `${emoji} ${line(name, 60)}: ${words}${n.omitted > 0 ? `, +${n.omitted} more` : ''}`;
}

/** Digests merged in the outbox while they waited (outbox coalescing): said once, beside the detection time. */
function coalescedNote(n: AlertNotification): string {
  const merged = n.coalesced;
  if (merged === undefined || merged.digests < 2) return '';
  const first = Date.parse(merged.firstDetectedAt);
  return ` · merged from ${merged.digests} polls${Number.isNaN(first) ? '' : ` since ${slackDateToken(first)}`} while waiting to be sent`;
}

/**
 * One digest as one message: a header saying what happened (the event itself
 * when there is one), the integration and how many of its installations have
 * each condition now, one section per event, worst first, as many as Slack's
 * block count and text budget allow (then "+N more"), and a footer with the
 * links, when it was detected and the outbox ref. The top-level `text` (the
 * phone notification) names what broke and for whom, without times; the
 * plain-text fallback adds since when, in UTC, and the first error line.
 */
function renderAlerts(n: AlertNotification, ref: string | undefined, links: MessageLinks): SlackMessage {
  const detectedMs = Date.parse(n.detectedAt);
  const label = integrationLabel(n);
  const firing = n.items.some((i) => i.event !== 'resolve');
  const linkTexts = [
    slackLink(links.ampersandDashboardUrl, 'Ampersand dashboard'),
    ...(firing && links.runbookUrl !== undefined ? [slackLink(links.runbookUrl, 'Runbook')] : []),
  ];
  const top = section(`*${label}* · project \`${line(n.projectId)}\`\n${countsLine(n)}`);
  // One element per link: a long URL (up to 2,048 characters each) can never cut another's markup.
  const footer: ContextBlock = {
    type: 'context',
    elements: [...linkTexts, `detected ${slackDateToken(detectedMs)}${coalescedNote(n)}${refNote(ref)}`].map((text) => ({
      type: 'mrkdwn',
      text: truncate(text, MESSAGE_LIMITS.sectionText),
    })),
  };
  const head = header(alertsTitle(n));

  // Items in order, while the message stays within Slack's block count and text budget (a mention takes a block).
  const mention = digestMentions(n) ? n.mention.length + 1 : 0;
  const budget = MESSAGE_LIMITS.blockText - blockTextLength([head, top, footer]) - 200 - mention;
  const maxItems = MESSAGE_LIMITS.blocks - 4 - (mention > 0 ? 1 : 0);
  const sections: SectionBlock[] = [];
  let used = 0;
  for (const item of n.items) {
    const block = alertItemSection(item, detectedMs);
    const cost = blockTextLength(block);
    if (sections.length === maxItems || used + cost > budget) break;
    sections.push(block);
    used += cost;
  }
  const notShown = n.items.length - sections.length + n.omitted;
  const more = notShown > 0 ? [context(`+${notShown} more event(s) not shown here; the service logs one \`alert:\` line for each.`)] : [];

  const prefix = `[${eventCounts(n.items, n.omitted)}] ${label}:`;
  const phrases = n.items.map(itemPhrase);
  const suffix = n.omitted > 0 ? ` (+${n.omitted} more)` : '';
  const plainLines = n.items.map((item) => itemPlainLine(item, detectedMs));
  const plainHead = `[${eventCounts(n.items, n.omitted)}] ${label} · ${countsLine(n).replace(/\*/g, '')}`;
  return {
    text: fitText(phrases, prefix, MESSAGE_LIMITS.text - suffix.length) + suffix,
    blocks: [head, top, ...sections, ...more, footer],
    plainText: fitLines([plainHead, ...plainLines], MESSAGE_LIMITS.plainText - refNote(ref).length - suffix.length) + suffix + refNote(ref),
  };
}

/** Lines joined by line breaks, as many as fit in `limit`, then how many more there were. */
function fitLines(lines: readonly string[], limit: number): string {
  let out = '';
  for (const [i, l] of lines.entries()) {
    const next = i === 0 ? l : `${out}\n${l}`;
    const more = `\n(+${lines.length - i} more)`;
    if (next.length + (i === lines.length - 1 ? 0 : more.length) > limit) return i === 0 ? truncate(l, limit) : `${out}${more}`;
    out = next;
  }
  return out;
}

/** Renders one notification as one Slack message within Slack's limits; `ref` is its outbox id, `links` where its links go. */
export function renderSlackMessage(n: Notification, ref?: string, links: MessageLinks = defaultLinks): SlackMessage {
  switch (n.kind) {
    case 'upstream':
      return renderUpstreamMessage(n, ref);
    case 'dropped':
      return renderDroppedMessage(n, ref);
    case 'alerts':
      // A digest with a mass event is one summary (slack-mass-event-message.ts), its other events one line each.
      return withMention(n, n.mass !== undefined && n.mass.length > 0 ? renderMassEvent(n, ref) : renderAlerts(n, ref, links));
    default:
      return renderInstallations(n, ref);
  }
}

/**
 * A firing digest with its route's mention (digestMentions): first in the notification text, so
 * that the phone shows who is called, and in a section of its own under the header, where Slack
 * notifies the mentioned. A digest of recoveries or reminders only is returned as it is. The
 * mention is checked Slack syntax (monitor-config.ts), so it is not escaped.
 */
function withMention(n: AlertNotification, message: SlackMessage): SlackMessage {
  if (!digestMentions(n)) return message;
  const [head, ...rest] = message.blocks;
  return {
    text: truncate(`${n.mention} ${message.text}`, MESSAGE_LIMITS.text),
    blocks: head === undefined ? [section(n.mention)] : [head, section(n.mention), ...rest].slice(0, MESSAGE_LIMITS.blocks),
    ...(message.plainText === undefined ? {} : { plainText: truncate(`${n.mention} ${message.plainText}`, MESSAGE_LIMITS.plainText) }),
  };
}

/** The plain-text form of a rendered message: `text` only, no blocks. */
export function plainTextMessage(message: SlackMessage): SlackMessage {
  return { text: truncate(message.plainText ?? message.text, MESSAGE_LIMITS.plainText), blocks: [] };
}
