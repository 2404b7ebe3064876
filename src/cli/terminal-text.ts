/**
 * Text from Redis or the API (group names, installation ids, error messages)
 * made safe for a terminal: a group name with a line break would break a row,
 * and an escape sequence could recolour, move the cursor in or retitle the
 * on-call engineer's terminal. Pure: the table and every line the CLI prints
 * of such text go through here; `--json` keeps the data as it is.
 */

// ESC-introduced sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), DCS/SOS/PM/APC
// (ESC P, X, ^, _ … ESC \), and two-character ones (ESC and one byte); the 8-bit C1 CSI too.
// eslint-disable-next-line no-control-regex -- control characters are what it matches
const ESCAPE_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]?|\u001b[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[ -~]?|\u009b[0-?]*[ -/]*[@-~]?/g;
/** Line breaks, tabs and the other spacing controls: a space, so words stay apart. */
const SPACING = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
/** Whatever is left that a terminal does not print as itself: controls (C0, DEL, C1) and format characters (bidi overrides, zero-width). */
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;
const LONE_SURROGATE = /\p{Cs}/gu;

/** `text` as one line a terminal shows as it is: escape sequences removed, line breaks as spaces, other controls removed. */
export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(SPACING, ' ').replace(INVISIBLE, '').replace(LONE_SURROGATE, '\ufffd');
}

const ZERO_WIDTH = /^[\p{Mn}\p{Me}]$/u;
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** Code points a terminal draws two columns wide (East Asian Wide and Fullwidth), by range. */
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x20000, 0x3fffd],
];

/** Columns one code point takes in a terminal: 0 for a combining mark, 2 for a wide one, else 1. */
function codePointWidth(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  const code = char.codePointAt(0) ?? 0;
  if (EMOJI.test(char) || WIDE_RANGES.some(([from, to]) => code >= from && code <= to)) return 2;
  return 1;
}

/** Columns `text` takes in a terminal (of terminal-safe text; an approximation of wcwidth, without a dependency). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += codePointWidth(char);
  return width;
}

/** `text` cut to at most `max` columns, ending in "…" when it was cut. */
export function truncateToWidth(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  let out = '';
  let width = 0;
  for (const char of text) {
    const w = codePointWidth(char);
    if (width + w > max - 1) break;
    out += char;
    width += w;
  }
  return `${out}…`;
}

/** `text` made terminal-safe and cut to `max` columns: one cell or one line of output. */
export function cell(text: string, max: number): string {
  return truncateToWidth(terminalSafe(text), max);
}
