/** The exact posterior mean of an MoLRG: its optimal denoiser (SPEC section 3). */
import { fail } from '../backend/validate.js';
import { type LowRankDenoiser, lowRankDenoiser } from './lowrank.js';
import { MoLRG } from './molrg.js';

/**
 * The optimal denoiser `E[x0 | x_t]` of an MoLRG (SPEC section 3, with the exact coefficient for
 * delta > 0 of docs/kernels.md), batched through the active backend's `denoise` kernel.
 * @param model - the mixture (its bases, pi, lambda and delta are copied)
 */
export function exactDenoiser(model: MoLRG): LowRankDenoiser {
  if (!(model instanceof MoLRG)) fail('an MoLRG', 'model', model, TypeError);
  return lowRankDenoiser('exact', model.bases, model.pi, model.lambda, model.delta);
}
