/**
 * The `Matrix` type used for every data set and result: row-major float32 with explicit shape.
 */
import { allFinite, fail, int, size } from './backend/validate.js';

/** A row-major float32 matrix: element (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/**
 * A `rows x cols` matrix, zero-filled or wrapping (not copying) `data` of length rows * cols. A
 * container: NaN / Infinity entries are rejected by the functions that read it, naming the argument.
 */
export function matrix(rows: number, cols: number, data?: Float32Array | ArrayLike<number>): Matrix {
  size(int('rows', rows) >= int('cols', cols) ? 'rows' : 'cols', rows, cols);
  if (data === undefined) return { rows, cols, data: new Float32Array(rows * cols) };
  if (!(data instanceof Float32Array) && !Array.isArray(data) && !ArrayBuffer.isView(data)) {
    fail('a Float32Array or an array of numbers', 'data', data, TypeError);
  }
  const arr = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  if (arr.length !== rows * cols) fail(`data of length rows * cols = ${rows * cols}`, 'data', data);
  return { rows, cols, data: arr };
}

/** A matrix from an array of equal-length rows. */
export function fromRows(rows: readonly (readonly number[])[]): Matrix {
  if (!Array.isArray(rows)) fail('an array of rows', 'rows', rows, TypeError);
  const cols = rows.length ? rows[0].length : 0;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== cols) fail(`a row of length ${cols}`, `rows[${i}]`, r);
    data.set(r, i * cols);
  });
  return { rows: rows.length, cols, data };
}

/** Rows i0 .. i1 - 1, sharing memory (0 <= i0 <= i1 <= rows). */
export function rowSlice(m: Matrix, i0: number, i1: number): Matrix {
  if (typeof m !== 'object' || m === null || !(m.data instanceof Float32Array)) fail('a Matrix { rows, cols, data: Float32Array }', 'm', m, TypeError);
  int('i1', i1, int('i0', i0, 0, m.rows), m.rows);
  return { rows: i1 - i0, cols: m.cols, data: m.data.subarray(i0 * m.cols, i1 * m.cols) };
}

/** Checks that `value` is a Matrix (optionally with a given number of columns / at least minRows) of finite values. */
export function checkMatrix(name: string, value: unknown, opts: { cols?: number; minRows?: number } = {}): Matrix {
  const m = value as Matrix;
  if (typeof value !== 'object' || value === null || !(m.data instanceof Float32Array)
    || !Number.isInteger(m.rows) || !Number.isInteger(m.cols)) {
    fail('a Matrix { rows, cols, data: Float32Array }', name, value, TypeError);
  }
  if (m.data.length !== m.rows * m.cols) {
    fail(`data of length rows * cols = ${m.rows * m.cols}`, `${name}.data`, m.data);
  }
  if (opts.cols !== undefined && m.cols !== opts.cols) {
    throw new RangeError(`Expected a matrix with ${opts.cols} columns for ${name} but received ${m.rows} x ${m.cols}`);
  }
  if (opts.minRows !== undefined && m.rows < opts.minRows) {
    throw new RangeError(`Expected at least ${opts.minRows} rows for ${name} but received ${m.rows} x ${m.cols}`);
  }
  allFinite(`${name}.data`, m.data);
  return m;
}

/** One point: a Float32Array or an array of `n` finite numbers, as a Float32Array (a copy). */
export function checkPoint(name: string, value: unknown, n: number): Float32Array {
  if (!(value instanceof Float32Array) && !Array.isArray(value)) fail(`a Float32Array or an array of n = ${n} numbers`, name, value, TypeError);
  if (value.length !== n) fail(`a point of length n = ${n}`, name, value);
  return checkMatrix(name, { rows: 1, cols: n, data: Float32Array.from(value as ArrayLike<number>) }).data;
}

/** Stack K bases (n x d_k each) side by side into U [n, D]. */
export function stack(bases: readonly Matrix[]): Float32Array {
  const n = bases[0].rows, D = bases.reduce((a, b) => a + b.cols, 0);
  const U = new Float32Array(n * D);
  let off = 0;
  for (const b of bases) {
    for (let i = 0; i < n; i++) U.set(b.data.subarray(i * b.cols, (i + 1) * b.cols), i * D + off);
    off += b.cols;
  }
  return U;
}

/** Split U [n, D] into blocks of the given widths. */
export function unstack(U: Float32Array, n: number, dims: ArrayLike<number>): Matrix[] {
  let D = 0;
  for (let k = 0; k < dims.length; k++) D += dims[k];
  const out: Matrix[] = [];
  let off = 0;
  for (let k = 0; k < dims.length; k++) {
    const d = dims[k], m = new Float32Array(n * d);
    for (let i = 0; i < n; i++) m.set(U.subarray(i * D + off, i * D + off + d), i * d);
    out.push({ rows: n, cols: d, data: m });
    off += d;
  }
  return out;
}
