/**
 * The denoiser interface shared by the exact MoLRG posterior mean, the learned low-rank DAE and the
 * empirical (memorising) denoiser: samplers and metrics take any of them.
 */
import type { Matrix } from '../matrix.js';

/** Noise level(s): one number for the whole batch, or one per row. */
export type Levels = number | Float32Array | readonly number[];

/** A denoiser D(x_t, sigma) = estimate of E[x0 | x_t] (SPEC sections 3, 6). */
export interface Denoiser {
  /** Which kind: 'exact', 'dae' or 'empirical'. */
  readonly kind: 'exact' | 'dae' | 'empirical';
  /** Ambient dimension. */
  readonly n: number;
  /**
   * E[x0 | x_t] for a batch `x [B, n]` at noise level sigma (a number or one per row) and scale s
   * (default 1, the VE convention; other schedules pass their s(t)).
   */
  denoise(x: Matrix, sigma: Levels, s?: Levels): Matrix;
  /**
   * The score grad log p_t(x_t) = (s D(x_t) - x_t) / gamma^2 by Tweedie's formula, computed in
   * float64; a score beyond the float32 range (e.g. x ~ 1e30 at sigma = 1e-6: 1e41) is a RangeError
   * naming sigma, never a silent Infinity.
   */
  score(x: Matrix, sigma: Levels, s?: Levels): Matrix;
}
