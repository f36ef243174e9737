/**
 * EDM samplers over any denoiser (SPEC section 6): time steps
 * `sigma_i = (smax^(1/rho) + i/(S-1) (smin^(1/rho) - smax^(1/rho)))^rho`, `sigma_S = 0`; Euler and
 * Heun on the probability-flow ODE `dx/dsigma = (x - D(x, sigma)) / sigma`, and Euler-Maruyama of the
 * reverse SDE. Start `x = smax * N(0, I)`. VE convention (s = 1).
 *
 * Low-rank denoisers (exact or DAE) run Euler and Heun in the span of their bases (SPEC section 3:
 * `D(x) = Q D_r(Q^T x) + a0 (I - Q Q^T) x`, see `SpanReduction`): the in-span coordinates follow the
 * same sampler with the r-dimensional denoiser `D_r`, and the off-span part is only ever multiplied
 * by a scalar per step, the same for every sample, so it is carried as one number. Same mathematics,
 * r instead of n columns in every denoiser call and elementwise pass (MNIST-sized models: 160 vs 784).
 */
import { checkSignal, throwIfAborted } from '../abort.js';
import { rawKernels } from '../backend/index.js';
import { identityCoefficient } from '../backend/js/constants.js';
import { fail, finite, int, size as checkSize } from '../backend/validate.js';
import type { Matrix } from '../matrix.js';
import type { Denoiser } from '../model/denoiser.js';
import { levels } from '../model/levels.js';
import { isLowRank, type SpanReduction, spanReduction, trustedDenoise } from '../model/lowrank.js';
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
  /**
   * Run `euler` and `heun` in the span of a low-rank denoiser's bases (default true): the same
   * samples within float32 rounding (SPEC section 3: off the span the denoiser is a scalar times x),
   * for about n / sum(d_k) times less work. Taken when the denoiser is an `exactDenoiser` or
   * `lowRankDAE`, sum(d_k) <= n / 2 and count x (denoiser calls) >= 80 sum(d_k) (so that the one-off
   * basis of the span, an SVD kept with the denoiser, pays for itself in the first run); the empirical
   * denoiser, other denoisers and the `stochastic` sampler always run in n dimensions. `false` forces
   * the n-dimensional path, e.g. to compare the two.
   */
  subspace?: boolean;
  /** Called after each step with (step, steps), step = 1..steps. */
  onProgress?: (step: number, steps: number) => void;
  /** Cancels sampling: it throws an Error named `AbortError` at the next step. */
  signal?: AbortSignal;
}

/** Most sampler steps accepted (the schedule is allocated up front; EDM uses tens to hundreds). */
export const MAX_STEPS = 2 ** 20;

/**
 * When `sample` runs in the span of the bases (docs/performance.md, W3). With D = sum(d_k) the span
 * saves about a fraction 1 - D / n of every denoiser call and elementwise pass (measured at n = 784,
 * count = 1000, cached basis: 3x at D / n = 0.3, 1.7x at 0.5, 1.35x at 0.7, none at 0.9), and costs
 * two count x n x D GEMMs per run plus, once per denoiser, a thin SVD of the stacked `U [n, D]`,
 * which takes about as long as a whole full-path run of 10-40 D / (denoiser calls) samples. So the span
 * is used when D <= SUBSPACE_MAX_FRACTION n and count x (denoiser calls) >= SUBSPACE_MIN_WORK x D:
 * then even a first run, SVD included, is faster. The choice depends only on the arguments (never on
 * whether the basis is cached), so a call always takes the same path.
 */
export const SUBSPACE_MAX_FRACTION = 0.5;

/** See SUBSPACE_MAX_FRACTION: the least count x (denoiser calls) / sum(d_k) for the span path. */
export const SUBSPACE_MIN_WORK = 80;

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
 * The same seed gives the same samples on every backend, and with `subspace` on or off (within float
 * tolerance).
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
  const subspace = options.subspace ?? true;
  if (typeof subspace !== 'boolean') fail('a boolean', 'subspace', subspace, TypeError);
  const signal = checkSignal('signal', options.signal);
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') fail('a function', 'onProgress', onProgress, TypeError);
  const n = denoiser.n, size = checkSize('count', count, n);

  const run: Run = { sampler, sigmas, seed, signal, onProgress };
  // The stochastic sampler stays in n dimensions: its fresh noise has an in-span part that would
  // have to be projected onto Q every step (a count x n x r GEMM, as large as one of the denoiser's
  // two) and is drawn n-wide anyway, so the span would save well under half of its work.
  const calls = sampler === 'heun' ? 2 * steps - 1 : steps;
  const span = subspace && sampler !== 'stochastic' ? spanOf(denoiser, count * calls) : undefined;
  // z = N(0, I) [count, n]: the start is sigma_0 z, and z's buffer becomes the samples.
  const z = gaussian(size, seed, STREAM.samplerStart);
  withScratch((take) => {
    if (span) {
      walkInSpan(run, span, z, count, n, take);
    } else {
      for (let i = 0; i < size; i++) z[i] *= sigmas[0];
      walk(run, z, denoiser, count, n, take);
    }
  });
  return { rows: count, cols: n, data: z };
}

/** What a sampler run needs besides its rows and denoiser. */
interface Run {
  readonly sampler: SamplerName;
  /** The noise levels, sigma_0 .. sigma_S = 0. */
  readonly sigmas: Float64Array;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (step: number, steps: number) => void;
}

/** Hands out scratch arrays of a given length (contents undefined) for the duration of a run. */
type Take = (length: number) => Float32Array;

/**
 * Runs the sampler on the rows `x [count, m]` in place, from sigma_0 to 0, with a denoiser of ambient
 * dimension m.
 */
function walk(run: Run, x: Float32Array, denoiser: Denoiser, count: number, m: number, take: Take): void {
  const { sampler, sigmas, signal, onProgress } = run, steps = sigmas.length - 1;
  const step = sampler === 'euler' ? eulerStep : sampler === 'heun' ? heunStep : stochasticStep;
  const w: Walk = {
    x,
    e: sampler === 'heun' ? take(x.length) : EMPTY,
    z: sampler === 'stochastic' ? take(x.length) : EMPTY,
    D: denoiseRows(denoiser, count, m, take),
    seed: run.seed,
  };
  for (let i = 0; i < steps; i++) {
    throwIfAborted(signal, `sampling at step ${i + 1} of ${steps}`);
    step(w, sigmas[i], sigmas[i + 1], i);
    onProgress?.(i + 1, steps);
  }
}

/**
 * Euler or Heun in the span of a low-rank denoiser's bases (SPEC section 3, `SpanReduction`), from
 * the start `x = sigma_0 z`, `z [count, n]`: the coordinates `c = x Q` follow the same sampler with
 * `D_r`, the off-span part `x - c Q^T` is multiplied by `f` (`offSpanFactor`), and the samples
 * `c Q^T + f (x - c_0 Q^T)` overwrite z. The same samples as `walk` within float32 rounding.
 */
function walkInSpan(run: Run, span: SpanReduction, z: Float32Array, count: number, n: number, take: Take): void {
  const { r, Qt, reduced } = span, k = rawKernels(), sigma0 = run.sigmas[0];
  const prior = reduced.prior();
  const f = offSpanFactor(run.sampler === 'heun', run.sigmas, (sigma) => identityCoefficient(1, Math.fround(sigma), prior));
  const c = take(count * r);
  k.gemm(false, true, count, r, n, sigma0, z, Qt, 0, c);
  // f (x - c_0 Q^T) = f sigma_0 z - (f c_0) Q^T: f c_0 is set aside unless f = 0 (delta = 0).
  const fc0 = f === 0 ? EMPTY : take(c.length);
  for (let j = 0; j < fc0.length; j++) fc0[j] = f * c[j];
  walk(run, c, reduced, count, r, take);
  for (let j = 0; j < fc0.length; j++) c[j] -= fc0[j];
  k.gemm(false, false, count, n, r, 1, c, Qt, f * sigma0, z); // f = 0: beta = 0 ignores z
}

/**
 * The span reduction of a low-rank denoiser built by this library when it pays for `work` = count x
 * (denoiser calls) (SUBSPACE_MAX_FRACTION), else undefined.
 */
function spanOf(denoiser: Denoiser, work: number): SpanReduction | undefined {
  if (!isLowRank(denoiser)) return undefined;
  const D = denoiser.bases.reduce((a, b) => a + b.cols, 0);
  return D <= SUBSPACE_MAX_FRACTION * denoiser.n && work >= SUBSPACE_MIN_WORK * D ? spanReduction(denoiser) : undefined;
}

/**
 * `D(x, sigma)` over the sampler's rows `x [count, m]`; the result stays valid until the next-but-one
 * call.
 */
type RowDenoiser = (x: Float32Array, sigma: number) => Float32Array;

const EMPTY = new Float32Array(0);

/** A sampler run in progress: the rows, its scratch rows, the denoiser. */
interface Walk {
  /** The current rows, updated in place by every step. */
  readonly x: Float32Array;
  /** The Euler point of a Heun step (heun; empty otherwise). */
  readonly e: Float32Array;
  /** The noise of a step (stochastic; empty otherwise). */
  readonly z: Float32Array;
  readonly D: RowDenoiser;
  /** Seed of the samplerNoise stream (stochastic). */
  readonly seed: number;
}

/** Euler: `x' = x + (sigma' - sigma) (x - D) / sigma = x + (1 - sigma' / sigma) (D - x)` (SPEC section 6). */
function eulerStep(w: Walk, sigma: number, next: number): void {
  euler(w.x, w.D(w.x, sigma), 1 - next / sigma, w.x);
}

/**
 * Heun: the Euler point `e`, then `x' = x + (sigma' - sigma) (d + d') / 2` with `d = (x - D(x, sigma))
 * / sigma`, `d' = (e - D(e, sigma')) / sigma'`; the last step (to sigma' = 0) is Euler's.
 */
function heunStep(w: Walk, sigma: number, next: number): void {
  if (next === 0) return eulerStep(w, sigma, next);
  const { x, e } = w, den = w.D(x, sigma);
  euler(x, den, 1 - next / sigma, e);
  const den2 = w.D(e, next);
  const a = (next - sigma) / (2 * sigma), b = (next - sigma) / (2 * next);
  for (let j = 0; j < x.length; j++) x[j] += a * (x[j] - den[j]) + b * (e[j] - den2[j]);
}

/**
 * Euler-Maruyama: `x' = x + (sigma^2 - sigma'^2) (D - x) / sigma^2 + sqrt(sigma^2 - sigma'^2) z`, z of
 * step i from the samplerNoise stream; the last step (to 0) is `x' = D(x, sigma)`.
 */
function stochasticStep(w: Walk, sigma: number, next: number, i: number): void {
  const { x, z } = w, den = w.D(x, sigma);
  if (next === 0) {
    x.set(den);
    return;
  }
  rawKernels().normals(z, w.seed, STREAM.samplerNoise, i * z.length);
  const v = sigma * sigma - next * next, c = v / (sigma * sigma), r = Math.sqrt(v);
  for (let j = 0; j < x.length; j++) x[j] += c * (den[j] - x[j]) + r * z[j];
}

/** `out = x + c (den - x)` (out may be x): the Euler point with `c = 1 - sigma' / sigma`. */
function euler(x: Float32Array, den: Float32Array, c: number, out: Float32Array): void {
  for (let j = 0; j < x.length; j++) out[j] = x[j] + c * (den[j] - x[j]);
}

/**
 * The factor by which `euler` or `heun` multiplies the off-span part of x over the whole schedule:
 * there a low-rank denoiser is `a0(sigma) x` (SPEC section 3), so each step above maps it to a
 * multiple of itself, the same for every sample (the same formulas with x = 1, D = a0). For
 * delta = 0, a0 = 0 and every step multiplies by sigma' / sigma: the product ends at 0.
 */
function offSpanFactor(heun: boolean, sigmas: Float64Array, a0: (sigma: number) => number): number {
  let f = 1;
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const sigma = sigmas[i], next = sigmas[i + 1];
    const e = 1 + (1 - next / sigma) * (a0(sigma) - 1); // euler(x = 1, D = a0)
    if (!heun || next === 0) {
      f *= e;
      continue;
    }
    const a = (next - sigma) / (2 * sigma), b = (next - sigma) / (2 * next);
    f *= 1 + a * (1 - a0(sigma)) + b * (e - a0(next) * e); // heunStep's correction, x = 1, D = a0
  }
  return f;
}

/**
 * `D(x, sigma)` over the sampler's rows `x [count, m]`. A low-rank denoiser runs its kernel unchecked
 * (the rows are the sampler's own) into two scratch outputs used in turn, so that an output stays
 * valid until the next-but-one call; any other denoiser goes through its checked `denoise`.
 */
function denoiseRows(denoiser: Denoiser, count: number, m: number, take: Take): RowDenoiser {
  const kernel = trustedDenoise(denoiser);
  if (!kernel) return (x, sigma) => denoiser.denoise({ rows: count, cols: m, data: x }, sigma).data;
  const s = levels('s', undefined, count, 1), outs = [take(count * m), take(count * m)];
  let turn = 0;
  return (x, sigma) => {
    const out = outs[turn];
    turn ^= 1;
    kernel(x, count, s, levels('sigma', sigma, count), out);
    return out;
  };
}

/**
 * Scratch kept between calls, up to this many floats (16 MB): on the 2-core VM of
 * docs/performance.md first-touching fresh memory costs about 3.5 ms per MB, 19 ms of a 150 ms W3
 * run in the span (5 MB of scratch). The W3 scratch of the n-dimensional path (19 MB) is not kept.
 */
const SCRATCH_MAX = 2 ** 22;

let kept = new Float32Array(0), keptInUse = false;

/**
 * Runs `fn` with a `take` that hands out consecutive pieces of the kept scratch (fresh arrays once it
 * is exhausted; it then grows for the next call, up to SCRATCH_MAX). Nothing handed out outlives `fn`.
 * A run started inside another (from onProgress) gets fresh arrays.
 */
function withScratch(fn: (take: Take) => void): void {
  if (keptInUse) return fn((length) => new Float32Array(length));
  keptInUse = true;
  let used = 0;
  try {
    fn((length) => {
      used += length;
      return used <= kept.length ? kept.subarray(used - length, used) : new Float32Array(length);
    });
  } finally {
    keptInUse = false;
    if (used > kept.length && used <= SCRATCH_MAX) kept = new Float32Array(used);
  }
}
