/**
 * Prints a Slack message readably on a terminal: the notification line, then
 * the Block Kit blocks as indented text, with Slack's entities decoded.
 */
const decode = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function blockText(block: Record<string, unknown>): string[] {
  const text = block['text'] as { text?: unknown } | undefined;
  if (typeof text?.text === 'string') return decode(text.text).split('\n');
  const elements = block['elements'];
  if (Array.isArray(elements)) {
    return elements.flatMap((e: { text?: unknown }) => (typeof e.text === 'string' ? decode(e.text).split('\n') : []));
  }
  return [];
}

export function formatForConsole(body: { text?: unknown; blocks?: unknown }, at: Date): string {
  const lines = [`━━━ Slack message ${at.toISOString().slice(11, 19)} ━━━`, decode(typeof body.text === 'string' ? body.text : '')];
  if (Array.isArray(body.blocks)) {
    for (const block of body.blocks as Record<string, unknown>[]) {
      const marker = block['type'] === 'header' ? '#' : '│';
      for (const line of blockText(block)) lines.push(`  ${marker} ${line}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
