/**
 * Plain, aligned columns: a header row, then one row per item, two spaces
 * apart. Every cell is made terminal-safe and cut to its column's width, so a
 * hostile value (a group name with line breaks or escape sequences, a very
 * long id) stays in its cell. Pure.
 */
import { cell, displayWidth } from './terminal-text.js';

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  /** Widest a cell of this column may be, in terminal columns; longer values end in "…". */
  readonly max: number;
}

/** The table as lines (no trailing spaces), header first. */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string[] {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row), column.max)));
  const widths = columns.map((column, i) => Math.max(displayWidth(column.header), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const line = (values: readonly string[]): string =>
    values
      .map((value, i) => value + ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(value))))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}
