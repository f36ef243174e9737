import type { Prior } from '../types.js';
import type { ArrayBases } from './bases.js';
import { componentConstants, identityCoefficient, type ComponentConstants } from './constants.js';
import { softmaxInto } from './gate.js';

/** Everything the forward pass of one sample produces, float64. */
export interface Forward {
  /** p = U^T x_t, [D]. */
  p: Float64Array;
  /** Gating weights, [K]. */
  w: Float64Array;
  /** Per-component constants. */
  c: ComponentConstants[];
  /** E[x0 | x_t], [n]. */
  out: Float64Array;
}

/**
 * The MoLRG posterior mean of one sample x_t [n] (SPEC section 3, docs/kernels.md):
 * out = a0 x_t + sum_k w_k h_k U_k p_k with w = softmax(bias_k + phi_k ||p_k||^2).
 */
export function forward(xt: Float64Array, bases: ArrayBases, prior: Prior, s: number, sigma: number): Forward {
  const { n, D, K, U, dims, off } = bases;
  const p = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    if (xt[i] === 0) continue;
    for (let j = 0; j < D; j++) p[j] += xt[i] * U[i * D + j];
  }
  const c: ComponentConstants[] = [];
  const z = new Float64Array(K), w = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    c.push(componentConstants(s, sigma, k, dims[k], prior));
    let e = 0;
    for (let j = off[k]; j < off[k + 1]; j++) e += p[j] * p[j];
    z[k] = c[k].bias + c[k].phi * e;
  }
  softmaxInto(z, w);
  const coef = new Float64Array(D);
  for (let k = 0; k < K; k++) for (let j = off[k]; j < off[k + 1]; j++) coef[j] = w[k] * c[k].h * p[j];
  const a0 = identityCoefficient(s, sigma, prior);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = a0 * xt[i];
    for (let j = 0; j < D; j++) acc += U[i * D + j] * coef[j];
    out[i] = acc;
  }
  return { p, w, c, out };
}

/** Batched posterior mean: x [B, n] at s [B], sigma [B] -> out [B, n], optionally w [B, K]. */
export function denoise(
  x: Float32Array, B: number, bases: ArrayBases, prior: Prior, s: Float32Array, sigma: Float32Array,
  out: Float32Array, w?: Float32Array,
): void {
  const { n, K } = bases;
  for (let b = 0; b < B; b++) {
    const f = forward(Float64Array.from(x.subarray(b * n, (b + 1) * n)), bases, prior, s[b], sigma[b]);
    out.set(f.out, b * n);
    if (w) w.set(f.w, b * K);
  }
}
