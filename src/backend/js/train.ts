import type { NoiseWindow, Prior, StiefelOptions } from '../types.js';
import type { ArrayBases } from './bases.js';
import { lossGrad } from './lossgrad.js';
import { normals } from './philox.js';
import { stiefelStep } from './stiefel.js';

/**
 * `T` training steps (the `trainSteps` kernel, SPEC section 4): the rows `index` of `data` and the
 * noise of the window `noise` make minibatch t, then `lossGrad` on it and a `stiefelStep` at `lr[t]`
 * where `lr[t] > 0`; stops at the first non-finite loss or gradient.
 */
export function trainSteps(data: Float32Array, index: Int32Array, noise: NoiseWindow, B: number, T: number,
  s: Float32Array, sigma: Float32Array, weight: Float32Array, bases: ArrayBases, prior: Prior,
  options: Omit<StiefelOptions, 'lr'>, lr: Float64Array, losses: Float64Array): number {
  const n = bases.n, x0 = new Float32Array(B * n), eps = new Float32Array(B * n);
  for (let t = 0; t < T; t++) {
    const a = t * B, rows = (v: Float32Array) => v.subarray(a, a + B);
    for (let b = 0; b < B; b++) x0.set(data.subarray(index[a + b] * n, (index[a + b] + 1) * n), b * n);
    normals(eps, noise.seed, noise.stream, noise.offset + a * n);
    losses[t] = lossGrad(x0, eps, B, rows(s), rows(sigma), rows(weight), bases, prior);
    if (!Number.isFinite(losses[t]) || !bases.grad.every(Number.isFinite)) return t;
    if (lr[t] > 0) stiefelStep(bases, { ...options, lr: lr[t] });
  }
  return T;
}
