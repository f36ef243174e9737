/**
 * Jacobian of a denoiser and its spectrum (SPEC section 7): `J = d x_hat / d x_t` at one point,
 * analytic for the exact, DAE and empirical denoisers, and its numerical rank.
 */
import { componentConstants, identityCoefficient } from '../backend/js/constants.js';
import { rawKernels } from '../backend/index.js';
import { fail, finite } from '../backend/validate.js';
import { checkMatrix, checkPoint, type Matrix } from '../matrix.js';
import type { Denoiser } from '../model/denoiser.js';
import type { EmpiricalDenoiser } from '../model/empirical.js';
import { isLowRank, type LowRankDenoiser } from '../model/lowrank.js';

/**
 * Low-rank denoisers, `x_hat = a0 x + sum_k w_k h_k U_k p_k`, `p_k = U_k^T x`:
 * `J = a0 I + sum_k w_k h_k U_k U_k^T + sum_k h_k (U_k p_k) (grad w_k)^T`,
 * `grad w_k = w_k (g_k - sum_l w_l g_l)`, `g_k = 2 phi_k U_k p_k` (SPEC section 7 with the
 * per-component constants of docs/kernels.md).
 */
function lowRankJacobian(den: LowRankDenoiser, x: Float32Array, sigma: number): Float64Array {
  const n = den.n, prior = den.prior();
  const w = den.denoiseWithWeights({ rows: 1, cols: n, data: x }, sigma).w.data;
  const J = new Float64Array(n * n);
  const a0 = identityCoefficient(1, sigma, prior);
  for (let i = 0; i < n; i++) J[i * n + i] = a0;
  const gbar = new Float64Array(n);
  const terms = den.bases.map((U, k) => {
    const d = U.cols;
    const c = componentConstants(1, sigma, k, d, prior);
    const p = new Float64Array(d), u = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) p[j] += U.data[i * d + j] * x[i];
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) u[i] += U.data[i * d + j] * p[j];
    for (let i = 0; i < n; i++) gbar[i] += w[k] * 2 * c.phi * u[i];
    // w_k h_k U_k U_k^T
    const wh = w[k] * c.h;
    if (wh !== 0) {
      for (let i = 0; i < n; i++) {
        for (let l = 0; l < n; l++) {
          let t = 0;
          for (let j = 0; j < d; j++) t += U.data[i * d + j] * U.data[l * d + j];
          J[i * n + l] += wh * t;
        }
      }
    }
    return { c, u };
  });
  terms.forEach(({ c, u }, k) => {
    if (w[k] === 0) return;
    for (let i = 0; i < n; i++) {
      const a = c.h * u[i] * w[k];
      if (a === 0) continue;
      for (let l = 0; l < n; l++) J[i * n + l] += a * (2 * c.phi * u[l] - gbar[l]);
    }
  });
  return J;
}

/** Empirical denoiser: `J = (1/sigma^2) sum_i w_i (x_i - m)(x_i - m)^T`, m = sum_i w_i x_i. */
function empiricalJacobian(den: EmpiricalDenoiser, x: Float32Array, sigma: number): Float64Array {
  const n = den.n, { rows: N, data: X } = den.train;
  const w = den.weights(x, sigma);
  const m = new Float64Array(n);
  for (let i = 0; i < N; i++) if (w[i] > 0) for (let j = 0; j < n; j++) m[j] += w[i] * X[i * n + j];
  const J = new Float64Array(n * n), v = new Float64Array(n);
  for (let i = 0; i < N; i++) {
    if (!(w[i] > 1e-300)) continue;
    for (let j = 0; j < n; j++) v[j] = X[i * n + j] - m[j];
    const c = w[i] / (sigma * sigma);
    for (let a = 0; a < n; a++) {
      const ca = c * v[a];
      for (let b = 0; b < n; b++) J[a * n + b] += ca * v[b];
    }
  }
  return J;
}

/**
 * The Jacobian `d D(x, sigma) / d x` (n x n) of a denoiser at one point, in the VE convention
 * (s = 1): analytic for exact and DAE denoisers (SPEC section 7, general constants) and for the
 * empirical denoiser, `(1/sigma^2) (sum_i w_i x_i x_i^T - m m^T)`. Computed in float64.
 * @param x - the point, length n
 * @param sigma - the noise level, > 0
 */
export function jacobian(denoiser: Denoiser, x: Float32Array | readonly number[], sigma: number): Matrix {
  if (typeof denoiser !== 'object' || denoiser === null || typeof denoiser.denoise !== 'function') {
    fail('a Denoiser', 'denoiser', denoiser, TypeError);
  }
  const n = denoiser.n;
  const point = checkPoint('x', x, n);
  finite('sigma', sigma, 0, Infinity, true);
  let J: Float64Array;
  if (isLowRank(denoiser)) J = lowRankJacobian(denoiser, point, sigma);
  else if (denoiser.kind === 'empirical' && typeof (denoiser as EmpiricalDenoiser).weights === 'function') {
    J = empiricalJacobian(denoiser as EmpiricalDenoiser, point, sigma);
  } else {
    return fail('a denoiser built by exactDenoiser, lowRankDAE or empiricalDenoiser', 'denoiser', denoiser, TypeError);
  }
  return { rows: n, cols: n, data: Float32Array.from(J) };
}

/** Singular values of a square matrix (e.g. a Jacobian), descending, through the `svd` kernel. */
export function jacobianSpectrum(J: Matrix): Float64Array {
  const m = checkMatrix('J', J, { minRows: 1 });
  if (m.rows !== m.cols) fail('a square matrix', 'J', `a ${m.rows} x ${m.cols} matrix`);
  const n = m.rows;
  const S = new Float32Array(n);
  rawKernels().svd(m.data, 1, n, n, n, new Float32Array(n * n), S, new Float32Array(n * n));
  return Float64Array.from(S);
}

/**
 * Numerical rank (SPEC section 7): the number of singular values above `relTol` times the largest
 * (0 for the zero matrix).
 * @param J - a square matrix, or its singular values
 * @param relTol - relative threshold in (0, 1); default 1e-3
 */
export function numericalRank(J: Matrix | Float64Array | readonly number[], relTol = 1e-3): number {
  finite('relTol', relTol, 0, 1, true);
  const sv = J instanceof Float64Array || Array.isArray(J) ? J : jacobianSpectrum(J as Matrix);
  let max = 0;
  for (const s of sv) {
    if (!Number.isFinite(s) || s < 0) fail('non-negative finite singular values', 'J', s);
    max = Math.max(max, s);
  }
  let rank = 0;
  for (const s of sv) if (max > 0 && s > relTol * max) rank++;
  return rank;
}
