/**
 * Experiment 3 (SPEC section 7): memorisation vs generalisation. For each training-set size N, the
 * DAE trained on N samples and the empirical (memorising) denoiser of the same N samples generate new
 * samples; the generalisation score counts those on the true support that are not copies.
 */
import { fail, finite, finiteList, int, size } from '../backend/validate.js';
import { checkSeed } from '../random.js';
import type { DAESettings, MemorizationCellParams, ProjectedPoint, SampleScores } from './cells.js';
import { runSweep, type SweepOptions } from './sweep.js';

/** Options of `memorization`. */
export interface MemorizationOptions extends SweepOptions {
  K: number;
  n: number;
  d: number;
  /** Training-set sizes (all components together). */
  N: readonly number[];
  /** Trials per N (default 1). */
  trials?: number;
  /** Samples generated per denoiser and trial (default 100). */
  count?: number;
  /** Sampler steps (default 18, Heun). */
  steps?: number;
  /** Support-error threshold (default 0.05). */
  tauS?: number;
  /** Copy threshold on the memorisation distance (default 0.1). */
  tauM?: number;
  /** Training-set sizes whose trial 0 also returns projected points for scatter plots (default: the smallest and largest N). */
  scatterN?: readonly number[];
  /** Settings of the DAE fits. */
  dae?: DAESettings;
}

/** Mean scores over the trials of one N. */
export interface MemorizationRow {
  N: number;
  trials: number;
  dae: SampleScores;
  empirical: SampleScores;
}

/** Result of `memorization` (JSON-serialisable). */
export interface MemorizationResult {
  experiment: 'memorization';
  K: number;
  n: number;
  d: number;
  N: number[];
  trials: number;
  count: number;
  steps: number;
  tauS: number;
  tauM: number;
  seed: number;
  dae: DAESettings;
  rows: MemorizationRow[];
  /** Projections of training data and samples on the true subspaces, for some N. */
  scatter: { N: number; points: ProjectedPoint[] }[];
  complete: boolean;
  seconds: number;
}

function meanScores(list: SampleScores[]): SampleScores {
  const m = (f: (s: SampleScores) => number): number => (list.length ? list.reduce((a, s) => a + f(s), 0) / list.length : 0);
  return {
    score: m((s) => s.score), onSupport: m((s) => s.onSupport), copies: m((s) => s.copies),
    meanSupportError: m((s) => s.meanSupportError), meanMemorization: m((s) => s.meanMemorization),
  };
}

/** Generalisation score vs training-set size for the trained DAE and the empirical denoiser. */
export async function memorization(options: MemorizationOptions): Promise<MemorizationResult> {
  const start = Date.now();
  if (typeof options !== 'object' || options === null) fail('an options object { K, n, d, N, seed, ... }', 'options', options, TypeError);
  const K = int('K', options.K, 1), n = int('n', options.n, 2), d = int('d', options.d, 1, n);
  const Ns = Array.from(finiteList('N', options.N), (N, i) => int(`N[${i}]`, N, K));
  if (!Ns.length) fail('a non-empty list', 'N', options.N);
  const trials = int('trials', options.trials ?? 1, 1), count = int('count', options.count ?? 100, 1);
  size('count', count, n);
  const steps = int('steps', options.steps ?? 18, 1);
  const tauS = finite('tauS', options.tauS ?? 0.05, 0, Infinity, true), tauM = finite('tauM', options.tauM ?? 0.1, 0);
  const seed = checkSeed('seed', options.seed);
  const scatterN = new Set(options.scatterN === undefined ? [Math.min(...Ns), Math.max(...Ns)]
    : Array.from(finiteList('scatterN', options.scatterN), (N, i) => int(`scatterN[${i}]`, N, 1)));
  const dae: DAESettings = { ...options.dae };
  const cells: MemorizationCellParams[] = [];
  for (const N of Ns) {
    for (let t = 0; t < trials; t++) cells.push({ K, n, d, N, count, steps, tauS, tauM, dae, projections: t === 0 && scatterN.has(N) });
  }
  const out = await runSweep('memorization', cells, { ...options, seed });
  const rows: MemorizationRow[] = [];
  const scatter: { N: number; points: ProjectedPoint[] }[] = [];
  Ns.forEach((N, ni) => {
    const done = out.results.slice(ni * trials, (ni + 1) * trials).filter((r) => r !== null);
    rows.push({ N, trials: done.length, dae: meanScores(done.map((r) => r.dae)), empirical: meanScores(done.map((r) => r.empirical)) });
    const first = out.results[ni * trials];
    if (first?.projections) scatter.push({ N, points: first.projections });
  });
  return {
    experiment: 'memorization', K, n, d, N: Ns, trials, count, steps, tauS, tauM, seed, dae, rows, scatter,
    complete: !out.aborted, seconds: (Date.now() - start) / 1000,
  };
}
