/**
 * The building blocks of every Slack message the core renders: the limits
 * Slack enforces, escaping and cutting values from outside, and the three
 * Block Kit blocks used (header, section, context). Pure. Each message kind
 * has its renderer module; slack-message.ts dispatches to them.
 *
 * Every value from outside goes through `mrkdwnValue` (escaped for mrkdwn and
 * cut), so a group named `<!channel>` is shown as text and pings nobody, and
 * every block is cut to Slack's limits (section 3,000, header 150).
 */
import type { ContextBlock, HeaderBlock, SectionBlock } from '@slack/types';

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

/** A value from outside as mrkdwn: cut to MESSAGE_LIMITS.value, then escaped. */
export const mrkdwnValue = (value: string): string => escapeMrkdwn(truncate(value, MESSAGE_LIMITS.value));

/**
 * `prefix` and as many `parts` as fit in `limit` characters, joined with "; ",
 * then "(+N more)" for the parts left out.
 */
export function fitText(parts: readonly string[], prefix: string, limit: number = MESSAGE_LIMITS.text): string {
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
export function header(textValue: string): HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(textValue, MESSAGE_LIMITS.headerText), emoji: true } };
}

export function section(markdown: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(markdown, MESSAGE_LIMITS.sectionText) } };
}

export function context(markdown: string): ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(markdown, MESSAGE_LIMITS.sectionText) }] };
}

/** The notification id in the footer ties a message to the service's logs (and shows a duplicate as one). */
export const refNote = (ref: string | undefined): string => (ref === undefined ? '' : ` · ref \`${mrkdwnValue(ref)}\``);
