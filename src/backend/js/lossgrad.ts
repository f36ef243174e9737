import type { Prior } from '../types.js';
import type { ArrayBases } from './bases.js';
import { forward } from './denoise.js';

/**
 * Fused diffusion loss and gradient (SPEC section 4, docs/kernels.md), float64:
 * L = sum_b weight_b ||E[x0 | x_t] - x0_b||^2 with x_t = s (x0 + sigma eps); dL/dU goes to bases.grad.
 */
export function lossGrad(
  x0: Float32Array, eps: Float32Array, B: number, s: Float32Array, sigma: Float32Array,
  weight: Float32Array, bases: ArrayBases, prior: Prior,
): number {
  const { n, D, K, U, off } = bases;
  const G = new Float64Array(n * D);
  const xt = new Float64Array(n), g = new Float64Array(n);
  const q = new Float64Array(D), A = new Float64Array(D), C = new Float64Array(D), a = new Float64Array(K);
  let loss = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) xt[i] = s[b] * (x0[b * n + i] + sigma[b] * eps[b * n + i]);
    const f = forward(xt, bases, prior, s[b], sigma[b]);
    for (let i = 0; i < n; i++) {
      const r = f.out[i] - x0[b * n + i];
      loss += weight[b] * r * r;
      g[i] = 2 * weight[b] * r;
    }
    q.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) q[j] += g[i] * U[i * D + j];
    let abar = 0;
    for (let k = 0; k < K; k++) {
      let qp = 0;
      for (let j = off[k]; j < off[k + 1]; j++) qp += q[j] * f.p[j];
      a[k] = f.c[k].h * qp;
      abar += f.w[k] * a[k];
    }
    for (let k = 0; k < K; k++) {
      const wh = f.w[k] * f.c[k].h;
      const tilt = 2 * f.c[k].phi * f.w[k] * (a[k] - abar);
      for (let j = off[k]; j < off[k + 1]; j++) {
        A[j] = wh * f.p[j];
        C[j] = wh * q[j] + tilt * f.p[j];
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) G[i * D + j] += g[i] * A[j] + xt[i] * C[j];
  }
  bases.grad.set(G);
  return loss;
}
