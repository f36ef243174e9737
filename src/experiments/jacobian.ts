/**
 * Experiment 4 (SPEC section 7): the Jacobian of a denoiser is low-rank. Numerical rank of
 * `J = d x_hat / d x_t` across noise levels for the trained DAE, the exact MoLRG denoiser and the
 * empirical (memorising) denoiser, averaged over noisy points `x_t = x0 + sigma eps`.
 */
import { checkSignal, throwIfAborted, yieldToEventLoop } from '../abort.js';
import { fail, finite, finiteList, int, size } from '../backend/validate.js';
import { jacobian, numericalRank } from '../metrics/jacobian.js';
import { lowRankDAE } from '../model/dae.js';
import type { Denoiser } from '../model/denoiser.js';
import { empiricalDenoiser } from '../model/empirical.js';
import { exactDenoiser } from '../model/exact.js';
import { MoLRG } from '../model/molrg.js';
import { checkSeed, deriveSeed, gaussian, STREAM } from '../random.js';
import { checkCallback } from '../train/run.js';
import { type DAESettings, fitBases } from './cells.js';

/** Options of `jacobianRank`. */
export interface JacobianOptions {
  K: number;
  n: number;
  d: number;
  /** Training samples (all components) for the DAE and the empirical denoiser. */
  N: number;
  /** Noise levels. */
  sigma: readonly number[];
  /** Noisy points per noise level (default 8). */
  points?: number;
  /** Relative threshold of the numerical rank (default 1e-3). */
  relTol?: number;
  dae?: DAESettings;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
}

/** Which denoiser a rank belongs to. */
export type JacobianDenoiser = 'dae' | 'exact' | 'empirical';

/** Ranks of one denoiser at one noise level. */
export interface JacobianRow {
  sigma: number;
  denoiser: JacobianDenoiser;
  /** Mean numerical rank over the points. */
  meanRank: number;
  ranks: number[];
}

/** Result of `jacobianRank` (JSON-serialisable). */
export interface JacobianResult {
  experiment: 'jacobian';
  K: number;
  n: number;
  d: number;
  N: number;
  sigma: number[];
  points: number;
  relTol: number;
  seed: number;
  dae: DAESettings;
  rows: JacobianRow[];
  complete: boolean;
  seconds: number;
}

/** Mean numerical rank of each denoiser's Jacobian at noisy points, for every sigma. */
export function jacobianRanks(
  denoisers: Record<JacobianDenoiser, Denoiser | null>, x0: () => Float32Array, n: number, sigmas: readonly number[],
  points: number, relTol: number, seed: number, signal?: AbortSignal, onProgress?: JacobianOptions['onProgress'],
): { rows: JacobianRow[]; complete: boolean } {
  const rows: JacobianRow[] = [];
  const clean = x0();
  for (let si = 0; si < sigmas.length; si++) {
    if (signal?.aborted) return { rows, complete: false };
    const sigma = sigmas[si], eps = gaussian(points * n, deriveSeed(seed, si), STREAM.trainNoise);
    for (const name of ['dae', 'exact', 'empirical'] as const) {
      const D = denoisers[name];
      if (!D) continue;
      const ranks: number[] = [];
      for (let p = 0; p < points; p++) {
        const xt = new Float32Array(n);
        for (let j = 0; j < n; j++) xt[j] = clean[p * n + j] + sigma * eps[p * n + j];
        ranks.push(numericalRank(jacobian(D, xt, sigma), relTol));
      }
      rows.push({ sigma, denoiser: name, meanRank: ranks.reduce((a, b) => a + b, 0) / points, ranks });
    }
    onProgress?.({ done: si + 1, total: sigmas.length });
  }
  return { rows, complete: true };
}

/** Numerical rank of the denoiser Jacobian vs sigma (trained DAE, exact, empirical) on synthetic MoLRG data. */
export async function jacobianRank(options: JacobianOptions): Promise<JacobianResult> {
  const start = Date.now();
  if (typeof options !== 'object' || options === null) fail('an options object { K, n, d, N, sigma, seed, ... }', 'options', options, TypeError);
  const K = int('K', options.K, 1), n = int('n', options.n, 2), d = int('d', options.d, 1, n);
  const N = int('N', options.N, K);
  size('N', N, n);
  const sigmas = Array.from(finiteList('sigma', options.sigma), (s, i) => finite(`sigma[${i}]`, s, 0, Infinity, true));
  if (!sigmas.length) fail('a non-empty list of noise levels', 'sigma', options.sigma);
  const points = int('points', options.points ?? 8, 1), relTol = finite('relTol', options.relTol ?? 1e-3, 0, 1, true);
  size('points', points, n);
  const seed = checkSeed('seed', options.seed);
  checkSignal('signal', options.signal);
  checkCallback('onProgress', options.onProgress);
  const dae: DAESettings = { ...options.dae };
  throwIfAborted(options.signal, 'jacobianRank');
  const truth = new MoLRG({ n, K, d, seed: deriveSeed(seed, 0) });
  const train = truth.sample(N, deriveSeed(seed, 1)).x;
  const model = lowRankDAE(fitBases('dae', train, K, d, deriveSeed(seed, 2), dae));
  const exact = exactDenoiser(truth);
  await yieldToEventLoop();
  const { rows, complete } = jacobianRanks(
    { dae: model, exact, empirical: empiricalDenoiser(train) },
    () => truth.sample(points, deriveSeed(seed, 3)).x.data, n, sigmas, points, relTol, deriveSeed(seed, 4),
    options.signal, options.onProgress,
  );
  model.dispose();
  exact.dispose();
  return {
    experiment: 'jacobian', K, n, d, N, sigma: sigmas, points, relTol, seed, dae, rows, complete,
    seconds: (Date.now() - start) / 1000,
  };
}
