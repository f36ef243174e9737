/**
 * Quality of generated samples (SPEC section 7): distance to the true support, distance to the
 * training set (memorization), and the generalization score that combines them.
 */
import { rawKernels } from '../backend/index.js';
import { fail, finite } from '../backend/validate.js';
import { checkMatrix, type Matrix } from '../matrix.js';
import { checkBases } from '../model/molrg.js';

/** ||r_b|| / ||x_b|| per row, with 0/0 = 0. */
function relative(num: number, den: number): number {
  return num === 0 ? 0 : num / Math.sqrt(den);
}

/** ||x_b||^2 per row, float64. */
function rowNorms2(x: Matrix): Float64Array {
  const { rows, cols, data } = x;
  const out = new Float64Array(rows);
  for (let b = 0; b < rows; b++) {
    let t = 0;
    for (let j = b * cols; j < (b + 1) * cols; j++) t += data[j] * data[j];
    out[b] = t;
  }
  return out;
}

/**
 * Support error per sample (SPEC section 7): `min_k ||x - U_k U_k^T x|| / ||x||` (0 for x = 0).
 * The residual is formed explicitly (two GEMMs per component), not as `||x||^2 - ||U^T x||^2`, so
 * that errors far below float32's sqrt(epsilon) are resolved.
 * @param x - samples `[B, n]`
 * @param truthBases - the true orthonormal bases `[n, d_k]`
 */
export function supportError(x: Matrix, truthBases: readonly Matrix[]): Float64Array {
  const U = checkBases('truthBases', truthBases);
  const X = checkMatrix('x', x, { cols: U[0].rows });
  const { rows: B, cols: n } = X;
  const k = rawKernels();
  const norms = rowNorms2(X);
  const best = new Float64Array(B).fill(Infinity);
  for (const Uk of U) {
    const d = Uk.cols;
    const P = new Float32Array(B * d), R = X.data.slice();
    if (B > 0) {
      k.gemm(false, false, B, d, n, 1, X.data, Uk.data, 0, P);
      k.gemm(false, true, B, n, d, -1, P, Uk.data, 1, R);
    }
    const r2 = rowNorms2({ rows: B, cols: n, data: R });
    for (let b = 0; b < B; b++) best[b] = Math.min(best[b], r2[b]);
  }
  return best.map((r2, b) => relative(Math.sqrt(r2), norms[b]));
}

/**
 * Memorization distance per sample (SPEC section 7): `min_i ||x - x^(i)|| / ||x||` over the
 * training set, through the `nearest` kernel (0 when x = 0 is itself a training sample, Infinity
 * when x = 0 is not).
 * @param x - samples `[B, n]`
 * @param train - training samples `[N, n]`, N >= 1
 */
export function memorizationDistance(x: Matrix, train: Matrix): Float64Array {
  const T = checkMatrix('train', train, { minRows: 1 });
  const X = checkMatrix('x', x, { cols: T.cols });
  const B = X.rows;
  const index = new Int32Array(B), dist = new Float32Array(B);
  if (B > 0) rawKernels().nearest(X.data, B, T.data, T.rows, T.cols, index, dist);
  const norms = rowNorms2(X);
  return Float64Array.from(dist, (dv, b) => (dv === 0 ? 0 : dv / Math.sqrt(norms[b])));
}

/** Thresholds of `generalizationScore` (SPEC section 7). */
export interface GeneralizationOptions {
  /** A sample is on the support when its support error is below tauS; default 0.05. */
  tauS?: number;
  /** A sample is not a copy when its memorization distance is above tauM; default 0.1. */
  tauM?: number;
}

/** The result of `generalizationScore`. */
export interface GeneralizationResult {
  /** Fraction of samples on the true support and not copies of training samples, in [0, 1]. */
  score: number;
  /** Support error per sample. */
  support: Float64Array;
  /** Memorization distance per sample. */
  memorization: Float64Array;
}

/**
 * Generalization score (SPEC section 7): the fraction of generated samples that lie on the true
 * support (support error < tauS) and are not copies (memorization distance > tauM), with both
 * distributions.
 * @param samples - generated samples `[B, n]`, B >= 1
 * @param train - the training set `[N, n]`
 * @param truthBases - the true bases
 */
export function generalizationScore(
  samples: Matrix, train: Matrix, truthBases: readonly Matrix[], options: GeneralizationOptions = {},
): GeneralizationResult {
  // Shapes checked here so that errors name this function's arguments (supportError's are x, truthBases).
  const U = checkBases('truthBases', truthBases);
  const S = checkMatrix('samples', samples, { minRows: 1, cols: U[0].rows });
  checkMatrix('train', train, { minRows: 1, cols: S.cols });
  if (typeof options !== 'object' || options === null) fail('an options object { tauS, tauM }', 'options', options, TypeError);
  const tauS = finite('tauS', options.tauS ?? 0.05, 0, Infinity, true);
  const tauM = finite('tauM', options.tauM ?? 0.1, 0);
  const support = supportError(samples, truthBases);
  const memorization = memorizationDistance(samples, train);
  let good = 0;
  for (let b = 0; b < samples.rows; b++) if (support[b] < tauS && memorization[b] > tauM) good++;
  return { score: good / samples.rows, support, memorization };
}
