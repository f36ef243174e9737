/**
 * NumPy `.npy` files for data (format versions 1.0, 2.0 and 3.0): float32 or float64,
 * little-endian, 1-D or 2-D, C order (Fortran order is read and transposed).
 */
import { readFileSync } from 'node:fs';
import { fail } from '../backend/validate.js';
import { checkMatrix, type Matrix } from '../matrix.js';
import { leBytes, readFloats, writeFileAtomic } from './files.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Element type written by `encodeNpy` / `writeNpy`. */
export type NpyDtype = 'float32' | 'float64';

/**
 * Decodes `.npy` bytes into a Matrix. A 1-D array of length L becomes 1 x L (as numpy's
 * `atleast_2d`). Values must be finite and, for float64 data, within float32 range.
 * @param bytes - the whole file (a Buffer or Uint8Array)
 * @param source - a name for error messages (the path)
 */
export function decodeNpy(bytes: Uint8Array, source = 'npy data'): Matrix {
  if (!(bytes instanceof Uint8Array)) fail('a Uint8Array or Buffer', 'bytes', bytes, TypeError);
  const bad: (what: string, received: string) => never = (what, received) => {
    throw new Error(`Invalid .npy file ${source}: expected ${what} but received ${received}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad('the magic string \\x93NUMPY', `${bytes.length < 10 ? `${bytes.length} bytes` : 'other bytes'}`);
  const major = bytes[6];
  if (major < 1 || major > 3) bad('format version 1, 2 or 3', `${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const lenSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenSize) bad('a header length', 'a truncated file');
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenSize + hlen;
  if (start > bytes.length) bad(`a header of ${hlen} bytes within the file`, `a file of ${bytes.length} bytes (truncated?)`);
  const raw = bytes.subarray(8 + lenSize, start);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(raw);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) bad("a header dict with 'descr', 'fortran_order' and 'shape'", JSON.stringify(header.trim()));
  const size = descr === '<f4' ? 4 : descr === '<f8' ? 8 : bad("dtype '<f4' or '<f8' (little-endian float32 or float64)", `'${descr}'`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.length < 1 || shape.length > 2 || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) bad('a 1-D or 2-D shape', `(${shapeText})`);
  const [rows, cols] = shape.length === 1 ? [1, shape[0]] : shape;
  const count = rows * cols;
  if (bytes.length - start !== count * size) bad(`${count * size} data bytes for shape (${shapeText}) and '${descr}'`, `${bytes.length - start} (truncated or extra bytes)`);
  const v = readFloats(bytes, start, count, size);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const r = Math.floor(i / cols), c = i % cols;
    const x = fortran === 'True' ? v[c * rows + r] : v[i];
    if (!Number.isFinite(x) || !Number.isFinite(Math.fround(x))) bad('finite values (within float32 range)', `${x} at row ${r}, column ${c}`);
    data[i] = x;
  }
  return { rows, cols, data };
}

/**
 * Encodes a Matrix as `.npy` bytes (version 1.0, C order, 2-D, little-endian).
 * @param dtype - `float32` (default) or `float64`
 */
export function encodeNpy(m: Matrix, dtype: NpyDtype = 'float32'): Uint8Array {
  const x = checkMatrix('m', m);
  if (dtype !== 'float32' && dtype !== 'float64') fail("'float32' or 'float64'", 'dtype', dtype);
  let dict = `{'descr': '${dtype === 'float32' ? '<f4' : '<f8'}', 'fortran_order': False, 'shape': (${x.rows}, ${x.cols}), }`;
  // Pad with spaces and end with a newline so that the data starts 64-byte aligned.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const body = leBytes(dtype === 'float32' ? x.data : Float64Array.from(x.data));
  const out = new Uint8Array(total + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  out.set(body, total);
  return out;
}

/** Reads a `.npy` file into a Matrix (see `decodeNpy`). */
export function readNpy(path: string): Matrix {
  if (typeof path !== 'string' || path === '') fail('a file path', 'path', path, TypeError);
  return decodeNpy(readFileSync(path), path);
}

/** Writes a Matrix as a `.npy` file (atomically; see `encodeNpy`). */
export function writeNpy(path: string, m: Matrix, dtype: NpyDtype = 'float32'): void {
  if (typeof path !== 'string' || path === '') fail('a file path', 'path', path, TypeError);
  writeFileAtomic(path, [encodeNpy(m, dtype)]);
}
