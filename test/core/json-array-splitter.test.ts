import { describe, expect, it } from 'vitest';
import { createJsonArraySplitter, JsonBodyError, parseJsonBody } from '../../src/core/json-array-splitter.js';

/** Feeds `text` in pieces of `size` characters and returns what the splitter makes of it, or its error. */
function split(text: string, size: number): { value: unknown } | { error: string } {
  const splitter = createJsonArraySplitter();
  try {
    for (let i = 0; i < text.length; i += size) splitter.push(text.slice(i, i + size));
    return { value: splitter.end() };
  } catch (error) {
    if (!(error instanceof JsonBodyError)) throw error;
    return { error: error.summary };
  }
}

function reference(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

const pieceSizes = [1, 2, 3, 7, 64, 1_000_000];

describe('createJsonArraySplitter', () => {
  describe('when the body is well-formed JSON', () => {
    it.each([
      '[]',
      ' [ ] ',
      '[1,2,3]',
      '\n[ {"id":"a"} ,\t{"id":"b","n":[1,[2,{"x":[]}]]} ]\n',
      '[{"a":"x,]}\\"y"},[1,[2]],"s\\\\",null,true,-1.5e3]',
      '["\\u005b\\u005d,", "]", "[", "{", "}", ","]',
      '[{"k\\"ey":"v\\\\"}]',
      '["é", "日本", "😀"]',
      '{"not":"an array"}',
      '"a string"',
      '42',
    ])('parses %j as JSON.parse does, however it is cut', (text) => {
      const expected = reference(text);
      if (!expected.ok) throw new Error('the case must be valid JSON');
      for (const size of pieceSizes) expect(split(text, size)).toEqual({ value: expected.value });
      expect(parseJsonBody(text)).toEqual(expected.value);
    });
  });

  describe('when the body is not JSON', () => {
    it.each([
      ['truncated inside an element', '[{"id":'],
      ['truncated between elements', '[{"id":"a"},'],
      ['truncated inside a string', '[{"id":"a'],
      ['an array never closed', '[1,2'],
      ['a trailing comma', '[1,]'],
      ['a leading comma', '[,1]'],
      ['two commas', '[1,,2]'],
      ['a missing comma', '[1 2]'],
      ['a mismatched bracket', '[{"a":1]]'],
      ['a brace closing the array', '[1}'],
      ['text after the array', '[1] x'],
      ['a second array', '[1][2]'],
      ['an HTML page', '<html>oops</html>'],
      ['nothing', ''],
      ['only whitespace', '  \n'],
    ])('rejects %s however it is cut', (_name, text) => {
      expect(reference(text).ok).toBe(false);
      for (const size of pieceSizes) expect(split(text, size)).toHaveProperty('error');
      expect(() => parseJsonBody(text)).toThrow(JsonBodyError);
    });

    it('names the position in the whole body, not in the element', () => {
      // The 3 is at position 6 of the body and 3 of its element.
      expect(split('[1, 2 3]', 2)).toEqual({ error: 'SyntaxError at position 6' });
    });

    it('never repeats the body in its message', () => {
      const result = split('[{"id":"a"}, sk_live_secret]', 4);
      expect(JSON.stringify(result)).not.toContain('sk_live');
    });

    it('reports an element nested too deep for JSON.parse without overflowing the stack', () => {
      const deep = `[${'['.repeat(200_000)}${']'.repeat(200_000)}]`;
      const result = split(deep, 4096);
      // V8 either parses it or gives up with a RangeError; neither may escape as something else.
      if ('error' in result) expect(result.error).toMatch(/RangeError|SyntaxError/);
      else expect(Array.isArray(result.value)).toBe(true);
    });
  });

  describe('when an element is huge', () => {
    it('keeps a string of a million characters, cut anywhere, intact', () => {
      const long = 'x'.repeat(1_000_000);
      const text = JSON.stringify([{ id: 'a', name: long }, { id: 'b' }]);
      expect(split(text, 65_536)).toEqual({ value: [{ id: 'a', name: long }, { id: 'b' }] });
    });

    it('keeps escapes that a piece boundary cuts in two', () => {
      const text = JSON.stringify(['\\"', '"\\', '\\\\\\"']);
      for (const size of [1, 2, 3]) expect(split(text, size)).toEqual({ value: ['\\"', '"\\', '\\\\\\"'] });
    });
  });

  it('parses each element as soon as it has arrived', () => {
    const splitter = createJsonArraySplitter();
    splitter.push('[{"id":"a"},{"id":');
    // The first element is complete: an error in the second is found without the rest of the body.
    expect(() => splitter.push('}')).not.toThrow();
    expect(() => splitter.push(',')).toThrow(JsonBodyError);
  });
});
