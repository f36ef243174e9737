/**
 * EDM samplers over any denoiser (SPEC section 6): time steps
 * `sigma_i = (smax^(1/rho) + i/(S-1) (smin^(1/rho) - smax^(1/rho)))^rho`, `sigma_S = 0`; Euler and
 * Heun on the probability-flow ODE `dx/dsigma = (x - D(x, sigma)) / sigma`, and Euler-Maruyama of the
 * reverse SDE. Start `x = smax * N(0, I)`. VE convention (s = 1).
 */
import { checkSignal, throwIfAborted } from '../abort.js';
import { fail, finite, int, size as checkSize } from '../backend/validate.js';
import type { Matrix } from '../matrix.js';
import type { Denoiser } from '../model/denoiser.js';
import { levels } from '../model/levels.js';
import { trustedDenoise } from '../model/lowrank.js';
import { checkSeed, gaussian, STREAM } from '../random.js';

/** Which sampler. */
export type SamplerName = 'euler' | 'heun' | 'stochastic';

/** Options of `sample`; defaults are EDM's (Karras et al. 2022). */
export interface SampleOptions {
  /** Number of samples, >= 1. */
  count: number;
  /** Number of noise levels S (the last step goes to sigma = 0), >= 1; default 18. */
  steps?: number;
  /** `euler`, `heun` (default) or `stochastic` (Euler-Maruyama of the reverse SDE). */
  sampler?: SamplerName;
  /** Smallest non-zero noise level; default 0.002. */
  sigmaMin?: number;
  /** Largest noise level, the start; default 80. */
  sigmaMax?: number;
  /** Time-step exponent; default 7. */
  rho?: number;
  /** Seed of the start (stream samplerStart) and of the SDE noise (stream samplerNoise). */
  seed: number;
  /** Called after each step with (step, steps), step = 1..steps. */
  onProgress?: (step: number, steps: number) => void;
  /** Cancels sampling: it throws an Error named `AbortError` at the next step. */
  signal?: AbortSignal;
}

/** Most sampler steps accepted (the schedule is allocated up front; EDM uses tens to hundreds). */
export const MAX_STEPS = 2 ** 20;

/**
 * The EDM noise levels (SPEC section 6): S levels from sigmaMax down to sigmaMin, then 0 (length S + 1).
 */
export function edmSigmas(steps = 18, sigmaMin = 0.002, sigmaMax = 80, rho = 7): Float64Array {
  int('steps', steps, 1, MAX_STEPS);
  finite('sigmaMin', sigmaMin, 0, Infinity, true);
  finite('sigmaMax', sigmaMax, 0, Infinity, true);
  if (sigmaMax < sigmaMin) fail(`a number >= sigmaMin = ${sigmaMin}`, 'sigmaMax', sigmaMax);
  finite('rho', rho, 0, Infinity, true);
  const a = sigmaMax ** (1 / rho), b = sigmaMin ** (1 / rho);
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) out[i] = (a + (steps === 1 ? 0 : i / (steps - 1)) * (b - a)) ** rho;
  return out;
}

/**
 * Draws `count` samples by running the reverse process with a denoiser (SPEC section 6).
 * - `euler`: `x += (sigma' - sigma) d`, `d = (x - D(x, sigma)) / sigma`.
 * - `heun`: Euler, then the trapezoidal correction with `d'` at sigma' (except on the last step to 0).
 * - `stochastic`: Euler-Maruyama of the reverse SDE `dx = -d(sigma^2) score + sqrt(d(sigma^2)) dW`:
 *   `x += (sigma^2 - sigma'^2) (D - x) / sigma^2 + sqrt(sigma^2 - sigma'^2) z`, z from the samplerNoise
 *   stream; the final step to sigma = 0 is the deterministic `x = D(x, sigma)`.
 * The same seed gives the same samples on every backend (within float tolerance).
 * @returns the samples `[count, n]`
 */
export function sample(denoiser: Denoiser, options: SampleOptions): Matrix {
  if (typeof denoiser !== 'object' || denoiser === null || typeof denoiser.denoise !== 'function') {
    fail('a Denoiser (exactDenoiser, lowRankDAE or empiricalDenoiser)', 'denoiser', denoiser, TypeError);
  }
  if (typeof options !== 'object' || options === null) fail('an options object', 'options', options, TypeError);
  const count = int('count', options.count, 1);
  const sampler = options.sampler ?? 'heun';
  if (sampler !== 'euler' && sampler !== 'heun' && sampler !== 'stochastic') fail("'euler', 'heun' or 'stochastic'", 'sampler', sampler);
  const seed = checkSeed('seed', options.seed);
  const steps = options.steps ?? 18;
  const sigmas = edmSigmas(steps, options.sigmaMin ?? 0.002, options.sigmaMax ?? 80, options.rho ?? 7);
  const signal = checkSignal('signal', options.signal);
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') fail('a function', 'onProgress', onProgress, TypeError);
  const n = denoiser.n, size = checkSize('count', count, n);
  const D = denoiseRows(denoiser, count, n);

  // x is owned here (the start, or a denoiser output); `spare` takes the next Euler point.
  let x: Float32Array = gaussian(size, seed, STREAM.samplerStart), spare: Float32Array = new Float32Array(size);
  for (let i = 0; i < size; i++) x[i] *= sigmas[0];
  for (let i = 0; i < steps; i++) {
    throwIfAborted(signal, `sampling at step ${i + 1} of ${steps}`);
    const sigma = sigmas[i], next = sigmas[i + 1];
    const den = D(x, sigma);
    if (sampler === 'stochastic') {
      if (next === 0) {
        x = den;
      } else {
        const v = sigma * sigma - next * next;
        const z = gaussian(size, seed, STREAM.samplerNoise, i * size);
        const c = v / (sigma * sigma), r = Math.sqrt(v);
        for (let j = 0; j < size; j++) spare[j] = x[j] + c * (den[j] - x[j]) + r * z[j];
        [x, spare] = [spare, x];
      }
    } else {
      // Euler: x' = x + (next - sigma) (x - D) / sigma = x + (1 - next / sigma) (D - x).
      const euler = spare, c = 1 - next / sigma;
      for (let j = 0; j < size; j++) euler[j] = x[j] + c * (den[j] - x[j]);
      if (sampler === 'heun' && next > 0) {
        const den2 = D(euler, next);
        const h = next - sigma;
        for (let j = 0; j < size; j++) {
          const d1 = (x[j] - den[j]) / sigma, d2 = (euler[j] - den2[j]) / next;
          x[j] = x[j] + h * 0.5 * (d1 + d2);
        }
      } else {
        [x, spare] = [spare, x];
      }
    }
    onProgress?.(i + 1, steps);
  }
  return { rows: count, cols: n, data: x };
}

/**
 * `D(x, sigma)` over the sampler's rows `x [count, n]`. A low-rank denoiser runs its kernel unchecked
 * (the rows are the sampler's own) into two output buffers used in turn, so that an output stays
 * valid until the next-but-one call; any other denoiser goes through its checked `denoise`.
 */
function denoiseRows(denoiser: Denoiser, count: number, n: number): (x: Float32Array, sigma: number) => Float32Array {
  const kernel = trustedDenoise(denoiser);
  if (!kernel) return (x, sigma) => denoiser.denoise({ rows: count, cols: n, data: x }, sigma).data;
  const s = levels('s', undefined, count, 1), outs = [new Float32Array(count * n), new Float32Array(count * n)];
  let turn = 0;
  return (x, sigma) => {
    const out = outs[turn];
    turn ^= 1;
    kernel(x, count, s, levels('sigma', sigma, count), out);
    return out;
  };
}
