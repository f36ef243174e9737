/** Seeded trial problems shared by the K-subspaces and training tests. */
import type { Matrix } from '../src/matrix.js';
import { MoLRG } from '../src/model/molrg.js';

/**
 * Trial t of the K = 2, n = 48 problem of issue 3: random (not orthogonal) d-dimensional subspaces,
 * N = 2 N_k samples with labels drawn from pi = (1/2, 1/2), so a component gets N_k on average.
 */
export function twoSubspaces(d: number, Nk: number, t: number): { model: MoLRG; x: Matrix; labels: Int32Array } {
  const model = new MoLRG({ n: 48, K: 2, d, seed: 1000 + t });
  const { x, labels } = model.sample(2 * Nk, 5000 + t);
  return { model, x, labels };
}
