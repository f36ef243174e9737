/** The learnable low-rank denoising autoencoder (SPEC section 4). */
import { fail } from '../backend/validate.js';
import { checkBases, checkPrior } from './molrg.js';
import { type LowRankDenoiser, lowRankDenoiser } from './lowrank.js';
import type { Matrix } from '../matrix.js';

/** Hyper-parameters of the low-rank DAE (SPEC section 4); defaults are the paper's case. */
export interface DAEOptions {
  /** Mixing weights, sum 1; default uniform. */
  pi?: readonly number[];
  /** Latent variances: one number for all or one per component; default 1. */
  lambda?: number | readonly number[];
  /** Off-subspace noise floor; default 0. */
  delta?: number;
}

/**
 * The low-rank DAE with given (e.g. learned) bases as its parameters: the formula of SPEC section 3
 * with `theta = {U_k}`. The bases must be orthonormal (checked, float32 tolerance 1e-4).
 * @param bases - K bases `[n, d_k]`
 */
export function lowRankDAE(bases: readonly Matrix[], options: DAEOptions = {}): LowRankDenoiser {
  const U = checkBases('bases', bases);
  if (typeof options !== 'object' || options === null) fail('an options object { pi, lambda, delta }', 'options', options, TypeError);
  const p = checkPrior(U.length, options.pi, options.lambda, options.delta);
  return lowRankDenoiser('dae', U, p.pi, p.lambda, p.delta);
}
