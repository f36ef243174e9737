/**
 * The empirical (memorising) denoiser (SPEC section 6): the optimal denoiser for the training set
 * itself, `D(x, sigma) = sum_i softmax_i(-||x - x^(i)||^2 / (2 sigma^2)) x^(i)`.
 */
import { rawKernels } from '../backend/index.js';
import { checkMatrix, checkPoint, type Matrix } from '../matrix.js';
import type { Denoiser, Levels } from './denoiser.js';
import { levels, tweedie } from './levels.js';

/** The empirical denoiser; it keeps (a copy of) its training set. */
export interface EmpiricalDenoiser extends Denoiser {
  readonly kind: 'empirical';
  /** The training samples `[N, n]`. */
  readonly train: Matrix;
  /**
   * The softmax weights over training samples (float64, `[N]`) of one point `x [n]` at noise level
   * sigma in the VE convention (for s != 1 pass x / s).
   */
  weights(x: ArrayLike<number>, sigma: number): Float64Array;
}

/** Entries of one distance block kept in memory at once (rows x N). */
const BLOCK = 1 << 22;
/** Weights below exp(-MARGIN) of the largest are dropped when distances are refined. */
const MARGIN = 50;

/**
 * The empirical denoiser of a training set (SPEC section 6). Distances come GEMM-shaped
 * (`||x||^2 + ||x_i||^2 - 2 x . x_i`, the `gemm` kernel on row blocks to bound memory) and the
 * softmax in float64 with the max subtracted. Where sigma is so small that float32 cancellation in
 * that form could move the weights, the candidates near the minimum are re-measured directly in
 * float64, so that at tiny sigma it returns the nearest training sample exactly.
 * @param train - the training samples `[N, n]`, N >= 1 (copied)
 */
export function empiricalDenoiser(train: Matrix): EmpiricalDenoiser {
  const T = checkMatrix('train', train, { minRows: 1 });
  const N = T.rows, n = T.cols;
  const X = T.data.slice();
  const rr = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let t = 0;
    for (let j = 0; j < n; j++) t += X[i * n + j] * X[i * n + j];
    rr[i] = t;
  }
  const own: Matrix = { rows: N, cols: n, data: X };
  // Relative error of a float32 dot product of length n, rounded: a bound on |G - x.x_i| / (||x||^2 + ||x_i||^2).
  const u = (n + 2) * 2 ** -24;

  /** Softmax weights into `w [N]` (float64) for query q (float64) given its GEMM products g [N]. */
  function softmax(q: Float64Array, g: ArrayLike<number>, sigma: number, w: Float64Array): void {
    let qq = 0;
    for (let j = 0; j < n; j++) qq += q[j] * q[j];
    const scale = 1 / (2 * sigma * sigma);
    let min = Infinity, maxErr = 0;
    for (let i = 0; i < N; i++) {
      const d2 = Math.max(0, qq + rr[i] - 2 * g[i]);
      w[i] = d2;
      const e = u * (qq + rr[i]);
      if (d2 + e < min) min = d2 + e;
      if (e > maxErr) maxErr = e;
    }
    if (maxErr * scale > 1e-3) {
      // Cancellation could matter: measure the candidates directly, drop the rest (< e^-MARGIN).
      const cut = min + MARGIN / scale;
      for (let i = 0; i < N; i++) {
        if (w[i] - u * (qq + rr[i]) > cut) { w[i] = Infinity; continue; }
        let t = 0;
        for (let j = 0; j < n; j++) { const v = q[j] - X[i * n + j]; t += v * v; }
        w[i] = t;
      }
    }
    let best = Infinity;
    for (let i = 0; i < N; i++) if (w[i] < best) best = w[i];
    let sum = 0;
    for (let i = 0; i < N; i++) { w[i] = Math.exp(-(w[i] - best) * scale); sum += w[i]; }
    for (let i = 0; i < N; i++) w[i] /= sum;
  }

  function run(x: Matrix, sigma: Levels, s?: Levels) {
    const m = checkMatrix('x', x, { cols: n });
    const B = m.rows;
    const sig = levels('sigma', sigma, B), sc = levels('s', s, B, 1);
    const out = new Float32Array(B * n);
    const k = rawKernels();
    const R = Math.max(1, Math.min(B, Math.floor(BLOCK / N)));
    const Q = new Float32Array(R * n), G = new Float32Array(R * N), W = new Float32Array(R * N);
    const q = new Float64Array(n), w = new Float64Array(N);
    for (let b0 = 0; b0 < B; b0 += R) {
      const r = Math.min(R, B - b0);
      // x_t / s = x0 + sigma eps: the VE query.
      for (let b = 0; b < r; b++) {
        const inv = 1 / sc[b0 + b];
        for (let j = 0; j < n; j++) Q[b * n + j] = m.data[(b0 + b) * n + j] * inv;
      }
      k.gemm(false, true, r, N, n, 1, Q.subarray(0, r * n), X, 0, G.subarray(0, r * N));
      for (let b = 0; b < r; b++) {
        for (let j = 0; j < n; j++) q[j] = Q[b * n + j];
        softmax(q, G.subarray(b * N, (b + 1) * N), sig[b0 + b], w);
        W.set(w, b * N);
      }
      k.gemm(false, false, r, n, N, 1, W.subarray(0, r * N), X, 0, out.subarray(b0 * n, (b0 + r) * n));
    }
    return { x: m, sig, sc, out };
  }

  return {
    kind: 'empirical',
    n,
    train: own,
    denoise(x, sigma, s) {
      const r = run(x, sigma, s);
      return { rows: r.x.rows, cols: n, data: r.out };
    },
    score(x, sigma, s) {
      const r = run(x, sigma, s);
      return { rows: r.x.rows, cols: n, data: tweedie(r.x.data, r.out, n, r.sc, r.sig) };
    },
    weights(x, sigma) {
      const point = checkPoint('x', x, n);
      const sig = levels('sigma', sigma, 1)[0];
      const g = new Float32Array(N);
      rawKernels().gemm(false, true, 1, N, n, 1, point, X, 0, g);
      const w = new Float64Array(N);
      softmax(Float64Array.from(point), g, sig, w);
      return w;
    },
  };
}
