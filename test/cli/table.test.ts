import { describe, expect, it } from 'vitest';
import { renderTable, type Column } from '../../src/cli/table.js';
import { displayWidth } from '../../src/cli/terminal-text.js';

interface Row {
  readonly id: string;
  readonly name: string;
}

const columns: Column<Row>[] = [
  { header: 'ID', value: (r) => r.id, max: 10 },
  { header: 'NAME', value: (r) => r.name, max: 12 },
];

describe('renderTable', () => {
  it('aligns columns two spaces apart, with no trailing spaces', () => {
    expect(
      renderTable(columns, [
        { id: 'a', name: 'Acme' },
        { id: 'longer-id', name: 'B' },
      ]),
    ).toEqual(['ID         NAME', 'a          Acme', 'longer-id  B']);
  });

  it('keeps a hostile value in its cell: one line per row, no escape sequence, cut to the column width, aligned by display width', () => {
    const lines = renderTable(columns, [
      { id: 'x', name: 'Evil\n\u001b[31mRED\u001b[0m\r\nCorp' },
      { id: '顧客', name: 'x'.repeat(500) },
      { id: 'y', name: '顧客株式会社です' },
    ]);
    expect(lines).toHaveLength(4);
    // eslint-disable-next-line no-control-regex -- control characters are what must not be there
    expect(lines.join('')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(lines[1]).toBe('x     Evil RED  C…');
    expect(lines[2]).toBe(`顧客  ${'x'.repeat(11)}…`);
    // The NAME column starts at the same terminal column on every row.
    const nameColumn = (line: string, name: string): number => displayWidth(line.slice(0, line.indexOf(name)));
    expect(nameColumn(lines[0] ?? '', 'NAME')).toBe(6);
    expect(nameColumn(lines[2] ?? '', 'x')).toBe(6);
    expect(displayWidth(lines[3] ?? '')).toBeLessThanOrEqual(6 + 12);
  });
});
