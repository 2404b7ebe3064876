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
import type { ContextBlock, HeaderBlock, SectionBlock } from '@slack/types';
import type { AlertItem } from './alert-policy.js';
import { NONE } from './diff.js';
import type { InstallationNotification, Notification, UpstreamNotification } from './notification.js';

/** The Block Kit blocks this module renders, typed by Slack's own package (types only: core stays pure). */
export type SlackBlock = HeaderBlock | SectionBlock | ContextBlock;

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
  /**
   * The same alert as plain text (no blocks), within 4,000 characters, ending
   * with the outbox ref as the blocks' footer does: sent when Slack refuses the
   * message itself, so the alert still arrives. Every rendered kind sets it.
   */
  readonly plainText?: string;
}

export const MESSAGE_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  /**
   * All block text of one message. Slack's cumulative limit is undocumented and
   * was seen between 11,341 and 13,200 (slackapi/bolt-js#2867, #2509); this leaves margin.
   */
  blockText: 10_000,
  /** Slack truncates beyond 40,000; a notification line this long helps nobody. */
  text: 3000,
  /** The plain-text fallback sent when Slack refuses a message's blocks. */
  plainText: 4000,
  value: 200,
} as const;

/** Total length of the text in `blocks`, counted the way Slack's cumulative limit counts it. */
export function blockTextLength(blocks: unknown): number {
  if (Array.isArray(blocks)) return blocks.reduce((sum: number, b: unknown) => sum + blockTextLength(b), 0);
  if (typeof blocks !== 'object' || blocks === null) return 0;
  let sum = 0;
  for (const [key, value] of Object.entries(blocks)) sum += key === 'text' && typeof value === 'string' ? value.length : blockTextLength(value);
  return sum;
}

/** Escapes the three characters Slack's mrkdwn gives meaning to. */
export function escapeMrkdwn(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Cuts a string to `max` UTF-16 code units (never more characters than Slack
 * counts), marking the cut. It cuts between code points, never inside a
 * surrogate pair, and on escaped text it never leaves half an entity (`&am…`).
 */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = value.slice(0, max - 1);
  // A lone high surrogate is not text: JSON carries it as \ud83d, and Slack shows garbage or refuses it.
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && !cut.includes(';', amp)) cut = cut.slice(0, amp);
  return `${cut}…`;
}

const v = (value: string): string => escapeMrkdwn(truncate(value, MESSAGE_LIMITS.value));

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

function fitText(parts: readonly string[], prefix: string, limit: number = MESSAGE_LIMITS.text): string {
  let out = prefix;
  for (const [i, part] of parts.entries()) {
    const sep = i === 0 ? ' ' : '; ';
    const more = ` (+${parts.length - i} more)`;
    if (out.length + sep.length + part.length + more.length > limit) return out + more;
    out += sep + part;
  }
  return out;
}

// Header text is plain_text; it is escaped all the same (Slack decodes the three entities everywhere).
function header(textValue: string): HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(textValue, MESSAGE_LIMITS.headerText), emoji: true } };
}

function section(markdown: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(markdown, MESSAGE_LIMITS.sectionText) } };
}

function context(markdown: string): ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(markdown, MESSAGE_LIMITS.sectionText) }] };
}

/** The notification id in the footer ties a message to the service's logs (and shows a duplicate as one). */
const refNote = (ref: string | undefined): string => (ref === undefined ? '' : ` · ref \`${v(ref)}\``);

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

  const title =
    n.kind === 'baseline'
      ? `Monitoring started: ${groups.length} installation(s) already need attention`
      : problems > 0 && recoveries > 0
        ? `${problems} problem(s), ${recoveries} recovery(ies)`
        : problems > 0
          ? `${problems} problem(s)`
          : `${recoveries} recovery(ies)`;

  const blocks: SlackBlock[] = [header(`${title} · ${escapeMrkdwn(truncate(n.integrationId, 60))}${partNote}`)];
  for (const group of groups) {
    const block = installationSection(group);
    if (block !== undefined) blocks.push(block);
  }
  blocks.push(context(`Project \`${v(n.projectId)}\` · integration \`${integration}\` · detected ${v(n.detectedAt)}${refNote(ref)}`));
  return {
    text: fitText(textParts, prefix),
    blocks: blocks.slice(0, MESSAGE_LIMITS.blocks),
    plainText: fitText(textParts, prefix, MESSAGE_LIMITS.plainText - refNote(ref).length) + refNote(ref),
  };
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

function renderUpstream(n: UpstreamNotification, ref: string | undefined): SlackMessage {
  const reason = v(n.reason);
  if (n.integrationId !== undefined) {
    // One integration cannot be read while the others can: its alerts are silent meanwhile.
    const integration = v(n.integrationId);
    const text =
      n.state === 'down'
        ? `[FIRING] the monitor cannot read integration ${integration}: ${reason}`
        : n.noLongerMonitored
          ? `[RESOLVED] ${reason}`
          : `[RESOLVED] the monitor can read integration ${integration} again (${reason})`;
    return {
      text,
      plainText: text + refNote(ref),
      blocks: [
        header(
          n.state === 'down'
            ? `The monitor cannot read integration ${truncate(n.integrationId, 60)}`
            : n.noLongerMonitored
              ? `Integration ${truncate(n.integrationId, 60)} is no longer monitored`
              : `The monitor can read integration ${truncate(n.integrationId, 60)} again`,
        ),
        section(text),
        context(`Project \`${v(n.projectId)}\` · integration \`${integration}\` · detected ${v(n.detectedAt)}${refNote(ref)}`),
      ],
    };
  }
  const text =
    n.state === 'down'
      ? `[FIRING] the monitor cannot read Ampersand project ${v(n.projectId)}: ${reason}`
      : `[RESOLVED] the monitor can read Ampersand project ${v(n.projectId)} again (${reason})`;
  return {
    text,
    plainText: text + refNote(ref),
    blocks: [
      header(n.state === 'down' ? 'The monitor cannot read Ampersand' : 'The monitor can read Ampersand again'),
      section(text),
      context(`Project \`${v(n.projectId)}\` · detected ${v(n.detectedAt)}${refNote(ref)}`),
    ],
  };
}

/** Renders one notification as one Slack message within Slack's limits; `ref` is its outbox id. */
export function renderSlackMessage(n: Notification, ref?: string): SlackMessage {
  return n.kind === 'upstream' ? renderUpstream(n, ref) : renderInstallations(n, ref);
}

/** The plain-text form of a rendered message: `text` only, no blocks. */
export function plainTextMessage(message: SlackMessage): SlackMessage {
  return { text: truncate(message.plainText ?? message.text, MESSAGE_LIMITS.plainText), blocks: [] };
}
