import { describe, expect, it } from 'vitest';
import { cleanText } from '../../src/core/display-text.js';

describe('cleanText', () => {
  it.each<[string, string, string, boolean]>([
    ['leaves ordinary text alone', 'Session expired: <!here> & more', 'Session expired: <!here> & more', false],
    ['joins lines with one space', 'first line\r\n\r\n\tsecond line', 'first line second line', true],
    ['joins Unicode line and paragraph separators', 'a\u2028b\u2029c\u0085d', 'a b c d', true],
    ['removes C0, DEL and C1 controls', 'a\u0000b\u0007c\u001bd\u007fe\u009bf', 'abcdef', true],
    ['removes bidi overrides and isolates, so a line reads as it is', 'pay \u202eusd 001\u202c \u2066x\u2069', 'pay usd 001 x', true],
    ['removes a byte order mark', '\ufeffname', 'name', true],
    ['keeps emoji sequences with zero-width joiners', 'team 👩‍💻 ok', 'team 👩‍💻 ok', false],
    ['replaces a lone surrogate', 'bad\ud800', 'bad\ufffd', true],
    ['trims the ends without calling it a change', '  padded  ', 'padded', false],
  ])('%s', (_name, input, text, cleaned) => {
    expect(cleanText(input, 100)).toEqual({ text, cleaned, cut: false });
  });

  it('cuts what is still too long after cleaning, and says so', () => {
    expect(cleanText(`\u0007${'x'.repeat(20)}`, 10)).toEqual({ text: `${'x'.repeat(9)}…`, cleaned: true, cut: true });
    expect(cleanText('x'.repeat(10), 10)).toEqual({ text: 'x'.repeat(10), cleaned: false, cut: false });
  });
});
