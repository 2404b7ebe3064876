import { describe, expect, it } from 'vitest';
import { cell, displayWidth, terminalSafe, truncateToWidth } from '../../src/cli/terminal-text.js';

describe('terminalSafe', () => {
  it('removes escape sequences whole: colours, cursor moves, a window title, a bare ESC and the 8-bit CSI', () => {
    expect(terminalSafe('\u001b[31mred\u001b[0m')).toBe('red');
    expect(terminalSafe('a\u001b[2J\u001b[Hb')).toBe('ab');
    expect(terminalSafe('\u001b]0;pwned\u0007title')).toBe('title');
    expect(terminalSafe('\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\')).toBe('link');
    expect(terminalSafe('x\u001bcy')).toBe('xy');
    expect(terminalSafe('x\u009b31my')).toBe('xy');
  });

  it('makes line breaks and tabs spaces, so a value stays on its line', () => {
    expect(terminalSafe('Acme\nCorp\r\nEU\tWest\u2028x')).toBe('Acme Corp  EU West x');
  });

  it('removes the other controls and the format characters (bidi overrides, zero-width)', () => {
    expect(terminalSafe('a\u0000b\u0007c\u007fd\u0085e')).toBe('abcd e');
    expect(terminalSafe('\u202eesrever\u202c \u200bzero')).toBe('esrever zero');
  });

  it('replaces a lone surrogate and keeps ordinary text, accents and emoji', () => {
    expect(terminalSafe('a\ud800b')).toBe('a\ufffdb');
    expect(terminalSafe('Société Générale 🚀 顧客')).toBe('Société Générale 🚀 顧客');
  });
});

describe('displayWidth', () => {
  it('counts wide characters twice and combining marks not at all', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('顧客')).toBe(4);
    expect(displayWidth('🚀')).toBe(2);
    expect(displayWidth('e\u0301')).toBe(1);
  });
});

describe('truncateToWidth and cell', () => {
  it('cuts to the width, ending in an ellipsis, and never splits a wide character over the limit', () => {
    expect(truncateToWidth('abcdef', 6)).toBe('abcdef');
    expect(truncateToWidth('abcdefg', 6)).toBe('abcde…');
    expect(truncateToWidth('顧客株式会社', 6)).toBe('顧客…');
    expect(displayWidth(truncateToWidth('顧客株式会社', 6))).toBeLessThanOrEqual(6);
  });

  it('makes the value safe before it cuts it, so an escape sequence cannot be cut in half', () => {
    expect(cell('\u001b[31mabcdefgh\u001b[0m', 5)).toBe('abcd…');
  });
});
