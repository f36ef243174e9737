/**
 * Per-image preprocessing of image data before fitting subspaces (experiment 5, SPEC section 7).
 * Node-free, so the browser demo uses the same code as the CLI.
 */
import { allFinite, fail } from '../backend/validate.js';
import { checkMatrix, type Matrix } from '../matrix.js';

/** Per-image preprocessing before fitting subspaces. */
export type Preprocess = 'none' | 'center' | 'normalize' | 'center+normalize';

/** The preprocessing names, for argument checks. */
export const PREPROCESS: readonly Preprocess[] = ['none', 'center', 'normalize', 'center+normalize'];

/** The mean image of a data set (float64 accumulation). */
export function meanImage(x: Matrix): Float32Array {
  const { rows, cols, data } = checkMatrix('x', x), acc = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) acc[j] += data[i * cols + j];
  return Float32Array.from(acc, (v) => v / Math.max(1, rows));
}

/**
 * Preprocessing allowed by the MoLRG model (zero-mean components through the origin): `center`
 * subtracts a mean image (`mean`, default the data set's own, see `meanImage`), `normalize` scales
 * each image to unit norm (after centering when both are asked for).
 */
export function preprocess(x: Matrix, how: Preprocess, mean?: Float32Array): Matrix {
  const { rows, cols } = checkMatrix('x', x), out = x.data.slice();
  if (!PREPROCESS.includes(how)) fail(PREPROCESS.map((p) => `'${p}'`).join(', '), 'how', how);
  if (mean !== undefined) {
    if (!(mean instanceof Float32Array)) fail(`a Float32Array of ${cols} values`, 'mean', mean, TypeError);
    if (mean.length !== cols) fail(`a Float32Array of ${cols} values`, 'mean', mean);
    allFinite('mean', mean);
  }
  if (how === 'center' || how === 'center+normalize') {
    const m = mean ?? meanImage(x);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] -= m[j];
  }
  if (how === 'normalize' || how === 'center+normalize') {
    for (let i = 0; i < rows; i++) {
      const row = out.subarray(i * cols, (i + 1) * cols);
      let ss = 0;
      for (let j = 0; j < cols; j++) ss += row[j] * row[j];
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let j = 0; j < cols; j++) row[j] *= inv;
    }
  }
  return { rows, cols, data: out };
}
