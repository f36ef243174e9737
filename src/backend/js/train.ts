import type { Prior, StiefelOptions } from '../types.js';
import type { ArrayBases } from './bases.js';
import { lossGrad } from './lossgrad.js';
import { stiefelStep } from './stiefel.js';

/**
 * `T` training steps (the `trainSteps` kernel, SPEC section 4): `lossGrad` on minibatch t, then a
 * `stiefelStep` at `lr[t]` where `lr[t] > 0`; stops at the first non-finite loss or gradient.
 */
export function trainSteps(x0: Float32Array, eps: Float32Array, B: number, T: number, s: Float32Array,
  sigma: Float32Array, weight: Float32Array, bases: ArrayBases, prior: Prior, options: Omit<StiefelOptions, 'lr'>,
  lr: Float64Array, losses: Float64Array): number {
  const n = bases.n;
  for (let t = 0; t < T; t++) {
    const a = t * B, rows = (v: Float32Array, w: number) => v.subarray(a * w, (a + B) * w);
    losses[t] = lossGrad(rows(x0, n), rows(eps, n), B, rows(s, 1), rows(sigma, 1), rows(weight, 1), bases, prior);
    if (!Number.isFinite(losses[t]) || !bases.grad.every(Number.isFinite)) return t;
    if (lr[t] > 0) stiefelStep(bases, { ...options, lr: lr[t] });
  }
  return T;
}
