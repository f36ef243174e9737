/**
 * Test helpers: seeded data, and float64 oracles written straight from SPEC.md, independent of the
 * backends' code (full-covariance Gaussian conditioning instead of the low-rank formulas).
 */
import { normals } from '../src/backend/js/philox.js';
import type { Prior } from '../src/backend/types.js';

/** Seeded standard normals (the js Philox stream 99 of `seed`). */
export function randn(length: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  normals(out, seed, 99, 0);
  if (scale !== 1) for (let i = 0; i < length; i++) out[i] *= scale;
  return out;
}

/** A view of `data` at a non-zero offset inside a larger buffer (exercises byteOffset handling). */
export function offsetView<T extends Float32Array | Int32Array | Uint32Array>(data: T, pad = 3): T {
  const Ctor = data.constructor as new (n: number) => T;
  const big = new Ctor(data.length + 2 * pad);
  big.set(data, pad);
  return big.subarray(pad, pad + data.length) as T;
}

/** Random orthonormal stacked bases [n, D] (float64 Gram-Schmidt of Gaussian columns, per block). */
export function randomBases(n: number, dims: number[], seed: number): Float32Array {
  const D = dims.reduce((a, b) => a + b, 0);
  const g = randn(n * D, seed);
  const U = new Float32Array(n * D);
  let off = 0;
  for (const d of dims) {
    const cols: Float64Array[] = [];
    for (let j = 0; j < d; j++) {
      const c = new Float64Array(n);
      for (let i = 0; i < n; i++) c[i] = g[i * D + off + j];
      for (let pass = 0; pass < 2; pass++) {
        for (const q of cols) {
          let t = 0;
          for (let i = 0; i < n; i++) t += q[i] * c[i];
          for (let i = 0; i < n; i++) c[i] -= t * q[i];
        }
      }
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm += c[i] * c[i];
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < n; i++) c[i] /= nrm;
      cols.push(c);
      for (let i = 0; i < n; i++) U[i * D + off + j] = c[i];
    }
    off += d;
  }
  return U;
}

export function prior(K: number, opts: { pi?: number[]; lambda?: number[]; delta?: number } = {}): Prior {
  const pi = opts.pi ?? Array(K).fill(1 / K);
  return {
    logPi: Float64Array.from(pi, Math.log),
    lambda: Float64Array.from(opts.lambda ?? Array(K).fill(1)),
    delta: opts.delta ?? 0,
  };
}

/** Cholesky factor L (lower, row-major) of an SPD matrix; returns log det too. */
function cholesky(A: Float64Array, n: number): { L: Float64Array; logdet: number } {
  const L = new Float64Array(n * n);
  let logdet = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) { L[i * n + i] = Math.sqrt(s); logdet += 2 * Math.log(L[i * n + i]); }
      else L[i * n + j] = s / L[j * n + j];
    }
  }
  return { L, logdet };
}

function choleskySolve(L: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = b[i]; for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k]; y[i] = s / L[i * n + i]; }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) { let s = y[i]; for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k]; x[i] = s / L[i * n + i]; }
  return x;
}

/**
 * E[x0 | x_t] for the MoLRG of SPEC section 1 by direct Gaussian conditioning in float64:
 * x0 | k ~ N(0, Sigma_k = lambda_k U_k U_k^T + delta^2 I), x_t = s x0 + gamma eps.
 * U is [n, D] float64 (any matrix, orthonormal or not), dims the block widths.
 */
export function posteriorMeanOracle(
  xt: Float64Array, U: Float64Array, dims: number[], p: Prior, s: number, sigma: number,
): { mean: Float64Array; w: Float64Array } {
  const n = xt.length, D = dims.reduce((a, b) => a + b, 0), K = dims.length;
  const gamma = s * sigma;
  const logw = new Float64Array(K);
  const means: Float64Array[] = [];
  let off = 0;
  for (let k = 0; k < K; k++) {
    const Sigma = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let uu = 0;
        for (let c = off; c < off + dims[k]; c++) uu += U[i * D + c] * U[j * D + c];
        Sigma[i * n + j] = p.lambda[k] * uu + (i === j ? p.delta * p.delta : 0);
      }
    }
    const C = Sigma.map((v, idx) => s * s * v + (idx % (n + 1) === 0 ? gamma * gamma : 0));
    const { L, logdet } = cholesky(C, n);
    const sol = choleskySolve(L, n, xt);
    let quad = 0;
    for (let i = 0; i < n; i++) quad += xt[i] * sol[i];
    logw[k] = p.logPi[k] - 0.5 * logdet - 0.5 * quad;
    const m = new Float64Array(n);
    for (let i = 0; i < n; i++) { let t = 0; for (let j = 0; j < n; j++) t += Sigma[i * n + j] * sol[j]; m[i] = s * t; }
    means.push(m);
    off += dims[k];
  }
  const max = Math.max(...logw);
  const w = logw.map((v) => Math.exp(v - max));
  const sum = w.reduce((a, b) => a + b, 0);
  for (let k = 0; k < K; k++) w[k] /= sum;
  const mean = new Float64Array(n);
  for (let k = 0; k < K; k++) for (let i = 0; i < n; i++) mean[i] += w[k] * means[k][i];
  return { mean, w };
}

/**
 * The low-rank denoiser of SPEC section 4 evaluated directly in float64 for any U (orthonormal or
 * not): x_hat = a0 x + sum_k w_k h_k U_k U_k^T x, w = softmax(log pi_k - (d_k/2) log(1 + alpha_k/beta)
 * + phi_k ||U_k^T x||^2). For orthonormal U it equals `posteriorMeanOracle` (tested).
 */
export function daeOracle(xt: Float64Array, U: Float64Array, dims: number[], p: Prior, s: number, sigma: number): Float64Array {
  const n = xt.length, D = dims.reduce((a, b) => a + b, 0), K = dims.length;
  const gamma = s * sigma, d2 = p.delta * p.delta, beta = s * s * d2 + gamma * gamma;
  const z: number[] = [], recon: Float64Array[] = [], h: number[] = [];
  let off = 0;
  for (let k = 0; k < K; k++) {
    const alpha = s * s * p.lambda[k];
    const pk = new Float64Array(dims[k]);
    for (let j = 0; j < dims[k]; j++) for (let i = 0; i < n; i++) pk[j] += U[i * D + off + j] * xt[i];
    const energy = pk.reduce((a, v) => a + v * v, 0);
    z.push(p.logPi[k] - (dims[k] / 2) * Math.log(1 + alpha / beta) + (alpha / (2 * beta * (alpha + beta))) * energy);
    h.push((s * (p.lambda[k] + d2)) / (alpha + beta) - (s * d2) / beta);
    const r = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < dims[k]; j++) r[i] += U[i * D + off + j] * pk[j];
    recon.push(r);
    off += dims[k];
  }
  const max = Math.max(...z), e = z.map((v) => Math.exp(v - max)), sum = e.reduce((a, b) => a + b, 0);
  const out = xt.map((v) => ((s * d2) / beta) * v);
  for (let k = 0; k < K; k++) for (let i = 0; i < n; i++) out[i] += (e[k] / sum) * h[k] * recon[k][i];
  return out;
}

/** The diffusion loss sum_b weight_b ||x_hat(x_t) - x0_b||^2 of the low-rank denoiser (float64). */
export function lossOracle(
  x0: Float32Array, eps: Float32Array, B: number, s: Float32Array, sigma: Float32Array, weight: Float32Array,
  U: Float64Array, dims: number[], p: Prior,
): number {
  const n = x0.length / B;
  let L = 0;
  for (let b = 0; b < B; b++) {
    const xt = new Float64Array(n);
    for (let i = 0; i < n; i++) xt[i] = s[b] * (x0[b * n + i] + sigma[b] * eps[b * n + i]);
    const mean = daeOracle(xt, U, dims, p, s[b], sigma[b]);
    for (let i = 0; i < n; i++) L += weight[b] * (mean[i] - x0[b * n + i]) ** 2;
  }
  return L;
}

/** max_ij |(Q^T Q - I)_ij| of the columns of a row-major [rows, cols] block starting at column c0. */
export function orthonormalityError(U: Float32Array, rows: number, stride: number, c0: number, cols: number): number {
  let worst = 0;
  for (let a = 0; a < cols; a++) {
    for (let b = 0; b < cols; b++) {
      let t = 0;
      for (let i = 0; i < rows; i++) t += U[i * stride + c0 + a] * U[i * stride + c0 + b];
      worst = Math.max(worst, Math.abs(t - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** Largest |a_i - b_i| relative to scale: max |a - b| / (atol + rtol |b|) must be <= 1. */
export function worstRatio(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { ratio: number; at: number } {
  let ratio = 0, at = -1;
  for (let i = 0; i < b.length; i++) {
    const r = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(r <= ratio)) { ratio = r; at = i; }
  }
  return { ratio, at };
}
