/** CSV input for data sets: numbers separated by commas, one sample per line, optional header row. */
import { readFileSync } from 'node:fs';
import { fail } from '../backend/validate.js';
import type { Matrix } from '../matrix.js';

/** Options of `parseCsv` / `readCsv`. */
export interface CsvOptions {
  /** Whether the first line is a header: true, false, or `auto` (default: a header when any field is not a number). */
  header?: boolean | 'auto';
  /** Field separator; default `,`. */
  delimiter?: string;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses CSV text of numbers into a Matrix (rows = lines). Blank lines are skipped; every row must
 * have the same number of fields, each a finite decimal number (optionally double-quoted).
 * @param source - a name for error messages (the path)
 */
export function parseCsv(text: string, options: CsvOptions = {}, source = 'CSV text'): Matrix {
  if (typeof text !== 'string') fail('a string', 'text', text, TypeError);
  if (typeof options !== 'object' || options === null) fail('an options object { header, delimiter }', 'options', options, TypeError);
  const header = options.header ?? 'auto';
  if (header !== true && header !== false && header !== 'auto') fail("true, false or 'auto'", 'options.header', header);
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"') fail('one character other than "', 'options.delimiter', delimiter);
  const lines = text.split(/\r?\n/).map((l, i) => ({ line: i + 1, fields: l.split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, '$1')) }))
    .filter((l) => !(l.fields.length === 1 && l.fields[0] === ''));
  if (lines.length && (header === true || (header === 'auto' && lines[0].fields.some((f) => !NUMBER.test(f))))) lines.shift();
  if (!lines.length) throw new Error(`Invalid CSV ${source}: expected at least one row of numbers but received none`);
  const cols = lines[0].fields.length;
  const data = new Float32Array(lines.length * cols);
  lines.forEach(({ line, fields }, r) => {
    if (fields.length !== cols) throw new Error(`Invalid CSV ${source}: expected ${cols} fields on line ${line} but received ${fields.length}`);
    fields.forEach((f, c) => {
      const v = Number(f);
      if (!NUMBER.test(f) || !Number.isFinite(Math.fround(v))) {
        throw new Error(`Invalid CSV ${source}: expected a finite number on line ${line}, column ${c + 1} but received ${JSON.stringify(f)}`);
      }
      data[r * cols + c] = v;
    });
  });
  return { rows: lines.length, cols, data };
}

/** Reads a CSV file of numbers into a Matrix (see `parseCsv`). */
export function readCsv(path: string, options: CsvOptions = {}): Matrix {
  if (typeof path !== 'string' || path === '') fail('a file path', 'path', path, TypeError);
  return parseCsv(readFileSync(path, 'utf8'), options, path);
}
