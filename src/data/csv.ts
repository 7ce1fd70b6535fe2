/**
 * A labelled data set from CSV text: one sample per line, one column of class
 * labels and the rest features.
 *
 * - Cells are separated by `delimiter` (default ','); a cell may be wrapped in
 *   double quotes, but a quoted cell cannot hold the delimiter or a line break.
 * - The first line is a header when none of its cells is a number (or when
 *   `header: true`); otherwise it is data.
 * - The label column is `label` by name (a header cell, compared without case)
 *   or by 0-based index; by default the column named `label`, else the first
 *   column. Labels must be integers ≥ 0.
 * - Every other cell must be a number. When they are all integers 0–255 the
 *   features are bytes (Uint8Array, as pixels are); otherwise Float32Array.
 * - Empty lines are skipped; every other line needs as many cells as the first.
 */
import { getPlatform } from '../platform/platform.js';
import type { LabeledData } from './dataset.js';

export interface CsvOptions {
  /** The label column: a header name, or a 0-based index (default: the column named 'label', else 0). */
  label?: string | number;
  /** Whether the first line is a header (default: when none of its cells is a number). */
  header?: boolean;
  delimiter?: string;
  /** The data set's name (default: the `name` passed to parseCsv). */
  datasetName?: string;
}

const isNumber = (cell: string) => cell.trim() !== '' && Number.isFinite(Number(cell));

function cells(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((c) => {
    const t = c.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
  });
}

/** Parses CSV text into samples (N, F) and labels; `name` (the file) starts every error message. */
export function parseCsv(text: string, name: string, options: CsvOptions = {}): LabeledData {
  const delimiter = options.delimiter ?? ',';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new Error(`${name}: the CSV file is empty; it needs a line per sample (a label column and the features).`);
  const firstCells = cells(lines[first]!, delimiter);
  const width = firstCells.length;
  const header = options.header ?? !firstCells.some(isNumber);
  const names = header ? firstCells : null;
  if (header) first++;
  const columnName = (c: number) => (names ? ` ('${names[c]}')` : '');

  let labelColumn: number;
  if (options.label === undefined) {
    const named = names?.findIndex((n) => n.toLowerCase() === 'label') ?? -1;
    labelColumn = named >= 0 ? named : 0;
  } else if (typeof options.label === 'number' || /^\d+$/.test(options.label)) {
    labelColumn = Number(options.label);
    if (labelColumn >= width) throw new Error(`${name}: label column ${labelColumn} does not exist: the lines have ${width} columns (0 to ${width - 1}).`);
  } else {
    const wanted = options.label.toLowerCase();
    labelColumn = names?.findIndex((n) => n.toLowerCase() === wanted) ?? -1;
    if (labelColumn < 0) {
      throw new Error(
        names
          ? `${name}: no column named '${options.label}'; the header has ${names.slice(0, 8).map((n) => `'${n}'`).join(', ')}${names.length > 8 ? ', …' : ''}. Name the label column, or give its 0-based index.`
          : `${name}: no column named '${options.label}': the file has no header line. Give the label column's 0-based index instead.`,
      );
    }
  }
  if (width < 2) throw new Error(`${name}: line ${first + (header ? 0 : 1)} has ${width} cell(s): a CSV data set needs a label column and at least one feature (is the delimiter '${delimiter}' right?).`);

  const features = width - 1;
  const rows: number[][] = [];
  const labels: number[] = [];
  let bytes = true;
  for (let l = first; l < lines.length; l++) {
    if (lines[l]!.trim() === '') continue;
    const row = cells(lines[l]!, delimiter);
    const lineNumber = l + 1;
    if (row.length !== width) {
      throw new Error(`${name}: line ${lineNumber} has ${row.length} cells but line ${header ? first : first + 1} has ${width}; every line needs the same columns.`);
    }
    const values: number[] = new Array(features);
    for (let c = 0, f = 0; c < width; c++) {
      const cell = row[c]!;
      if (!isNumber(cell)) {
        throw new Error(
          `${name}: line ${lineNumber}, column ${c + 1}${columnName(c)}: ${JSON.stringify(cell)} is not a number. ` +
            `Every cell below the header must be a number: fix or drop that line${c === labelColumn ? ' (labels are class indices 0, 1, 2, …)' : ''}.`,
        );
      }
      const value = Number(cell);
      if (c === labelColumn) {
        if (!Number.isInteger(value) || value < 0) {
          throw new Error(`${name}: line ${lineNumber}, column ${c + 1}${columnName(c)}: the label ${cell} is not a class index (an integer ≥ 0).`);
        }
        labels.push(value);
      } else {
        values[f++] = value;
        if (bytes && !(Number.isInteger(value) && value >= 0 && value <= 255)) bytes = false;
      }
    }
    rows.push(values);
  }
  if (rows.length === 0) throw new Error(`${name}: the CSV file has a header but no data lines.`);
  const x = bytes ? new Uint8Array(rows.length * features) : new Float32Array(rows.length * features);
  rows.forEach((row, n) => x.set(row, n * features));
  const y = Uint32Array.from(labels);
  const classes = labels.reduce((a, b) => Math.max(a, b), 0) + 1;
  return { x, y, shape: [features], classes, count: rows.length, name: options.datasetName ?? name };
}

/** Reads a CSV file through the platform and parses it (see parseCsv). */
export async function loadCsv(path: string, options: CsvOptions = {}): Promise<LabeledData> {
  const bytes = await (await getPlatform()).readFile(path);
  return parseCsv(new TextDecoder().decode(bytes), path, options);
}
