/**
 * Free text from the API made fit to show: cut without splitting a character,
 * and cleaned of what would garble a message line or disguise its text. The
 * result is plain text, not escaped: renderers escape it for their format
 * (`escapeMrkdwn` for Slack) like every other value from outside.
 */

/**
 * Cuts `value` to at most `max` code points, the last one being `…`, never
 * inside a surrogate pair. Returns the value unchanged when it fits.
 */
export function truncateCodePoints(value: string, max: number): string {
  if (value.length <= max) return value;
  const points = Array.from(value);
  if (points.length <= max) return value;
  return `${points.slice(0, max - 1).join('')}…`;
}

// Line and paragraph breaks of every kind, with the indentation around them, and tabs: a shown
// value is one line, so each becomes one space ("Error\n    at read()" reads "Error at read()").
const BREAKS = /\s*[\n\v\f\r\u0085\u2028\u2029]\s*|\t/g;
// The other C0 and C1 controls and DEL, the bidirectional embeddings, overrides and isolates
// (which can make a line read as something else in the reader's client: "Trojan Source"),
// and the byte order mark. Zero-width joiners stay: emoji sequences need them.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it removes
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/g;
// With the u flag a surrogate pair is one code point, so this matches only a lone surrogate.
const LONE_SURROGATE = /\p{Surrogate}/gu;

export interface CleanText {
  readonly text: string;
  /** True when a control character, a line break or a lone surrogate was removed or replaced. */
  readonly cleaned: boolean;
  /** True when the text was longer than allowed and cut. */
  readonly cut: boolean;
}

/**
 * One line of text to show: line breaks and tabs become single spaces, the
 * other control characters (C0, DEL, C1, bidi overrides and isolates, BOM) are
 * removed, a lone surrogate becomes U+FFFD, the ends are trimmed, and the
 * result is cut to `max` code points (see truncateCodePoints). `cleaned` and
 * `cut` say what happened, so a parser can warn about it.
 */
export function cleanText(value: string, max: number): CleanText {
  const replaced = value.replace(BREAKS, ' ').replace(INVISIBLE, '').replace(LONE_SURROGATE, '\ufffd');
  const trimmed = replaced.trim();
  const text = truncateCodePoints(trimmed, max);
  return { text, cleaned: replaced !== value, cut: text !== trimmed };
}
