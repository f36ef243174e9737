/**
 * Noise schedules, the training distribution of noise levels and the loss weights (SPEC section 2).
 * EDM convention: `x_t = s(t) (x0 + sigma(t) eps)`, `gamma = s sigma`. Scalars in float64.
 */
import { array, fail, finite } from '../backend/validate.js';
import { checkMatrix, type Matrix } from '../matrix.js';

/** Name of a schedule. */
export type ScheduleName = 've' | 'vp';

/** A noise schedule (SPEC section 2) and its training distribution of noise levels. */
export interface Schedule {
  /** `ve` (variance exploding, the default) or `vp` (variance preserving). */
  readonly name: ScheduleName;
  /** The scale s(t). */
  s(t: number): number;
  /** The noise level sigma(t). */
  sigma(t: number): number;
  /** The inverse of sigma(t): the time t at which the noise level is sigma. */
  t(sigma: number): number;
  /** The scale as a function of the noise level, s(t(sigma)). */
  sOfSigma(sigma: number): number;
  /** Which standard draws the training distribution consumes: normals (ve) or uniforms in (0, 1) (vp). */
  readonly draws: 'normal' | 'uniform';
  /** The training time t from one standard draw of kind `draws`. */
  trainingTime(draw: number): number;
}

/** EDM log-normal training distribution of sigma (ve): ln sigma ~ N(P_MEAN, P_STD^2). */
export const P_MEAN = -1.2;
/** See `P_MEAN`. */
export const P_STD = 1.2;
/** VP schedule constants (SPEC section 2). */
export const VP_BETA_D = 19.9;
/** See `VP_BETA_D`. */
export const VP_BETA_MIN = 0.1;
/** Smallest training time of the vp schedule: t ~ U(VP_EPS_T, 1). */
export const VP_EPS_T = 1e-5;

/** Variance exploding (SPEC section 2, the default): s = 1, sigma = t, ln sigma ~ N(-1.2, 1.2^2). */
export const ve: Schedule = Object.freeze({
  name: 've' as const,
  s: () => 1,
  sigma: (t: number) => t,
  t: (sigma: number) => sigma,
  sOfSigma: () => 1,
  draws: 'normal' as const,
  trainingTime: (z: number) => Math.exp(P_MEAN + P_STD * z),
});

/**
 * Variance preserving (SPEC section 2): `sigma(t) = sqrt(exp(beta_d t^2 / 2 + beta_min t) - 1)`,
 * `s = 1 / sqrt(1 + sigma^2)`, t ~ U(1e-5, 1).
 */
export const vp: Schedule = Object.freeze({
  name: 'vp' as const,
  s: (t: number) => 1 / Math.sqrt(1 + vp.sigma(t) ** 2),
  sigma: (t: number) => Math.sqrt(Math.expm1(0.5 * VP_BETA_D * t * t + VP_BETA_MIN * t)),
  // Positive root of beta_d t^2 / 2 + beta_min t = log(1 + sigma^2).
  t: (sigma: number) => {
    const c = Math.log1p(sigma * sigma);
    return (2 * c) / (VP_BETA_MIN + Math.sqrt(VP_BETA_MIN * VP_BETA_MIN + 2 * VP_BETA_D * c));
  },
  sOfSigma: (sigma: number) => 1 / Math.sqrt(1 + sigma * sigma),
  draws: 'uniform' as const,
  trainingTime: (u: number) => VP_EPS_T + (1 - VP_EPS_T) * u,
});

/** The schedule of a name (or the schedule itself); throws naming `name` for anything else. */
export function schedule(value: ScheduleName | Schedule = 've', name = 'schedule'): Schedule {
  if (value === 've' || value === ve) return ve;
  if (value === 'vp' || value === vp) return vp;
  return fail("'ve' or 'vp'", name, value);
}

/**
 * Training noise levels of a minibatch (SPEC section 2) from standard draws, so that the caller
 * controls the random stream: standard normals for `ve` (ln sigma ~ N(-1.2, 1.2^2)), uniforms in
 * (0, 1) for `vp` (t ~ U(1e-5, 1)). Returns per-sample `s [B]` and `sigma [B]` in kernel form, in
 * `out` when given (a trainer's reused buffers).
 */
export function trainingLevels(which: ScheduleName | Schedule, draws: Float32Array | readonly number[],
  out?: { s: Float32Array; sigma: Float32Array }): { s: Float32Array; sigma: Float32Array } {
  const sch = schedule(which);
  if (!(draws instanceof Float32Array) && !Array.isArray(draws)) fail('a Float32Array or an array of numbers', 'draws', draws, TypeError);
  const B = draws.length;
  if (out !== undefined) {
    if (typeof out !== 'object' || out === null) fail('an object { s, sigma } of Float32Arrays', 'out', out, TypeError);
    array('out.s', out.s, Float32Array, B, '[B]');
    array('out.sigma', out.sigma, Float32Array, B, '[B]');
  }
  const { s, sigma } = out ?? { s: new Float32Array(B), sigma: new Float32Array(B) };
  for (let b = 0; b < B; b++) {
    const z = draws[b];
    if (!Number.isFinite(z) || (sch.draws === 'uniform' && !(z > 0 && z < 1))) {
      fail(sch.draws === 'uniform' ? 'uniform draws in (0, 1)' : 'finite normal draws', `draws[${b}]`, z);
    }
    const t = sch.trainingTime(z);
    sigma[b] = sch.sigma(t);
    s[b] = sch.s(t);
  }
  return { s, sigma };
}

/** Name of a loss weighting (SPEC section 2). */
export type LossWeighting = 'edm' | 'uniform' | 'snr';

/**
 * The loss weight at noise level sigma (SPEC section 2): `edm` = (sigma^2 + sigma_data^2) /
 * (sigma sigma_data)^2 (the default), `uniform` = 1, `snr` = 1 / sigma^2.
 * @param sigmaData - per-coordinate std of the training data (`dataSigma`), used by `edm`
 */
export function lossWeight(kind: LossWeighting, sigma: number, sigmaData = 0.5): number {
  finite('sigma', sigma, 0, Infinity, true);
  switch (kind) {
    case 'edm':
      finite('sigmaData', sigmaData, 0, Infinity, true);
      return (sigma * sigma + sigmaData * sigmaData) / (sigma * sigmaData) ** 2;
    case 'uniform':
      return 1;
    case 'snr':
      return 1 / (sigma * sigma);
    default:
      return fail("'edm', 'uniform' or 'snr'", 'weighting', kind);
  }
}

/**
 * sigma_data of a training set: the per-coordinate standard deviation, as the root mean over
 * coordinates of each coordinate's variance (float64). `x [N, n]`, N >= 1.
 */
export function dataSigma(x: Matrix): number {
  const m = checkMatrix('x', x, { minRows: 1 });
  const { rows: N, cols: n, data } = m;
  const mean = new Float64Array(n), sq = new Float64Array(n);
  for (let i = 0; i < N; i++) for (let j = 0; j < n; j++) mean[j] += data[i * n + j];
  for (let j = 0; j < n; j++) mean[j] /= N;
  for (let i = 0; i < N; i++) for (let j = 0; j < n; j++) sq[j] += (data[i * n + j] - mean[j]) ** 2;
  let total = 0;
  for (let j = 0; j < n; j++) total += sq[j] / N;
  return Math.sqrt(total / Math.max(1, n));
}
