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
import type { SectionBlock } from '@slack/types';
import type { AlertItem } from './alert-policy.js';
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

/** Renders one notification as one Slack message within Slack's limits; `ref` is its outbox id. */
export function renderSlackMessage(n: Notification, ref?: string): SlackMessage {
  // A digest of the alert states; its mass events are rendered by slack-mass-event-message.ts.
  if (n.kind === 'alerts') return renderMassEvent(n, ref);
  if (n.kind === 'dropped') return renderDroppedMessage(n, ref);
  return n.kind === 'upstream' ? renderUpstreamMessage(n, ref) : renderInstallations(n, ref);
}

/** The plain-text form of a rendered message: `text` only, no blocks. */
export function plainTextMessage(message: SlackMessage): SlackMessage {
  return { text: truncate(message.plainText ?? message.text, MESSAGE_LIMITS.plainText), blocks: [] };
}
