/**
 * Parses a JSON body that arrives in pieces, without ever holding it whole
 * when it is a top-level array (what the spec's list operations return): each
 * element is handed to JSON.parse as soon as its last character has arrived,
 * so memory holds the parsed elements and one element's text, not the body's
 * bytes, their concatenation, their decoded string and the parsed tree all at
 * once (which is what reading the body first and parsing it after costs).
 *
 * The splitter only finds where elements end: it tracks strings (with their
 * escapes) and bracket depth, and cuts at the commas of depth 1. JSON.parse
 * then checks each element in full, so a body this accepts is exactly one
 * JSON.parse accepts. A body that is not an array (an object, an HTML page) is
 * kept as text and parsed at the end, as before; the caller's byte cap bounds it.
 */

/** Why the body is not JSON, with the position (in characters of the whole body) where that was found. */
export class JsonBodyError extends Error {
  override readonly name = 'JsonBodyError';
  constructor(
    /** 'SyntaxError', 'SyntaxError at position N', 'SyntaxError: unexpected end of input', or 'RangeError' (nested too deep). */
    readonly summary: string,
  ) {
    super(summary);
  }
}

export interface JsonArraySplitter {
  /** The next piece of the body's text; throws JsonBodyError as soon as an element (or the text after the array) cannot be JSON. */
  push(text: string): void;
  /** The body has ended: the parsed value (the array of elements, or the whole non-array body parsed). Throws JsonBodyError. */
  end(): unknown;
}

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * How many backslashes end `text` before `end`, looking back no further than
 * `from`; a run that reaches `from` continues the `carried` one that ended the
 * text before (from is then where this piece of the string began).
 */
function trailingBackslashes(text: string, from: number, end: number, carried: number): number {
  let at = end - 1;
  while (at >= from && text.charCodeAt(at) === BACKSLASH) at -= 1;
  const run = end - 1 - at;
  return at < from ? run + carried : run;
}

/**
 * What JSON.parse objected to, without V8's excerpt of the text (the body is
 * the server's and may quote a secret), its position moved by `offset`: the
 * element's place in the whole body.
 */
function describeParseError(error: unknown, offset: number): string {
  if (!(error instanceof Error)) return 'unparsable';
  if (error.name !== 'SyntaxError') return error.name;
  if (/end of JSON input/i.test(error.message)) return 'SyntaxError: unexpected end of input';
  const position = /at position (\d+)/.exec(error.message)?.[1];
  return position === undefined ? 'SyntaxError' : `SyntaxError at position ${offset + Number(position)}`;
}

function parseAt(text: string, offset: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new JsonBodyError(describeParseError(error, offset));
  }
}

/** Parses a whole body at once, failing as the splitter does: the same errors, without V8's excerpt of the body. */
export function parseJsonBody(text: string): unknown {
  return parseAt(text, 0);
}

/** A new splitter for one body. */
export function createJsonArraySplitter(): JsonArraySplitter {
  let mode: 'start' | 'array' | 'whole' | 'closed' = 'start';
  /** Text of a body that is not an array, or of the element being read. */
  let pieces: string[] = [];
  /** Characters of the body before the current piece. */
  let consumed = 0;
  /** Where the element being read starts, in characters of the whole body. */
  let elementStart = 0;
  let depth = 0;
  let inString = false;
  /** Backslashes that ended the last piece inside a string: they may escape this piece's first quote. */
  let backslashes = 0;
  let commas = 0;
  const items: unknown[] = [];

  /** Ends the element whose text ends with `last`; an empty one is allowed only in `[]`. */
  function finishElement(last: string, closing: boolean): void {
    pieces.push(last);
    const element = pieces.length === 1 ? (pieces[0] ?? '') : pieces.join('');
    pieces = [];
    if (closing && items.length === 0 && commas === 0 && element.trim() === '') return;
    items.push(parseAt(element, elementStart));
  }

  function scanArray(text: string): void {
    // The hot loop works on locals (closure variables are slower to read and write) and stores them back at its exits.
    let from = 0;
    let i = 0;
    let level = depth;
    let quoted = inString;
    const n = text.length;
    while (i < n) {
      if (quoted) {
        // Jump to the next quote; it ends the string unless an odd run of backslashes escapes it.
        const quote = text.indexOf('"', i);
        if (quote < 0) {
          backslashes = trailingBackslashes(text, i, n, backslashes);
          break;
        }
        // Most quotes follow no backslash at all.
        const run = quote > i && text.charCodeAt(quote - 1) !== BACKSLASH ? 0 : trailingBackslashes(text, i, quote, backslashes);
        backslashes = 0;
        i = quote + 1;
        if (run % 2 === 0) quoted = false;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === QUOTE) quoted = true;
      else if (c === COMMA) {
        if (level === 1) {
          finishElement(text.slice(from, i), false);
          commas += 1;
          from = i + 1;
          elementStart = consumed + from;
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) level += 1;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        level -= 1;
        if (level === 0) {
          depth = 0;
          inString = false;
          if (c !== CLOSE_BRACKET) throw new JsonBodyError(`SyntaxError at position ${consumed + i}`);
          finishElement(text.slice(from, i), true);
          mode = 'closed';
          checkTrailing(text, i + 1);
          return;
        }
      }
      i += 1;
    }
    depth = level;
    inString = quoted;
    if (from < n) pieces.push(from === 0 ? text : text.slice(from));
  }

  /** After the array only whitespace may come. */
  function checkTrailing(text: string, from: number): void {
    for (let i = from; i < text.length; i += 1) {
      if (!isWhitespace(text.charCodeAt(i))) throw new JsonBodyError(`SyntaxError at position ${consumed + i}`);
    }
  }

  return {
    push(text) {
      if (text === '') return;
      if (mode === 'start') {
        let i = 0;
        while (i < text.length && isWhitespace(text.charCodeAt(i))) i += 1;
        if (i === text.length) {
          pieces.push(text);
          consumed += text.length;
          return;
        }
        if (text.charCodeAt(i) === OPEN_BRACKET) {
          mode = 'array';
          depth = 1;
          pieces = [];
          elementStart = consumed + i + 1;
          const rest = text.slice(i + 1);
          consumed += i + 1;
          scanArray(rest);
          consumed += rest.length;
          return;
        }
        mode = 'whole';
      }
      if (mode === 'whole') pieces.push(text);
      else if (mode === 'array') scanArray(text);
      else checkTrailing(text, 0);
      consumed += text.length;
    },
    end() {
      if (mode === 'closed') return items;
      if (mode === 'array') throw new JsonBodyError('SyntaxError: unexpected end of input');
      // Not an array (or nothing at all): the whole text, as JSON.parse reads it.
      const whole = pieces.join('');
      pieces = [];
      return parseAt(whole, 0);
    },
  };
}
