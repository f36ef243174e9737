/**
 * K-subspaces (SPEC section 5): `max sum_k sum_{i in C_k} ||U_k^T x_i||^2` over orthonormal U_k and
 * partitions C, the small-noise limit of the diffusion loss of the low-rank DAE (SPEC section 4).
 * Alternates assignment (`argmax_k ||U_k^T x||^2`, ties to the lowest k; one `project`) and refit
 * (top-d_k principal subspace of each cluster; `subspace.ts`) until the assignment stops changing.
 *
 * The recipe (issue 3): the objective is non-convex and random starts fall into local maxima often,
 * so the default initialisation is spectral (TSC, `spectral.ts`), and further restarts use
 * k-means++-style seeding on residuals; the restart with the best objective wins.
 */
import { rawKernels } from '../backend/index.js';
import { fail, finite, int } from '../backend/validate.js';
import { type Matrix, stack, unstack } from '../matrix.js';
import { hungarian } from '../metrics/subspace.js';
import { checkBases } from '../model/molrg.js';
import { checkSeed, deriveSeed, gaussian, STREAM, uniform } from '../random.js';
import { checkData, checkDims, intOption } from './check.js';
import { checkSignal, throwIfAborted } from '../abort.js';
import { checkCallback, runAsync, runSync, type Work } from './run.js';
import { DEFAULT_NEIGHBORS, spectralLabels } from './spectral.js';
import { gatherRows, GRAM_MAX_N, type Group, topSubspaces, unitScale, warmStart } from './subspace.js';

/** How K-subspaces starts: TSC spectral clustering, random orthonormal bases, residual seeding, or given bases. */
export type KSubspacesInit = 'spectral' | 'random' | 'residual' | readonly Matrix[];

/** Progress of `kSubspaces`, reported after every iteration. */
export interface KSubspacesProgress {
  /** Restart index, 0-based. */
  readonly restart: number;
  /** Number of restarts. */
  readonly restarts: number;
  /** Iteration within the restart, 1-based. */
  readonly iteration: number;
  /** Captured energy `sum_i max_k ||U_k^T x_i||^2` at this iteration. */
  readonly objective: number;
  /** Samples whose cluster changed at this iteration. */
  readonly changed: number;
}

/** Options of `kSubspaces`. */
export interface KSubspacesOptions {
  /** Number of subspaces. */
  K: number;
  /** Subspace dimension: one for all, or one per component (each in [1, n]). */
  d: number | readonly number[];
  /**
   * Initialisation of restart 0 (default `spectral`). Later restarts use `residual` seeding when this
   * is `spectral` or given bases, and the same method otherwise.
   */
  init?: KSubspacesInit;
  /** Number of restarts, the best objective kept (default 4). */
  restarts?: number;
  /** Maximum iterations per restart (default 100). */
  maxIter?: number;
  /**
   * Also stop when the captured energy improves by less than `tol` (relative) in one iteration
   * (default 1e-4; 0 runs until the assignment is stable, SPEC section 5). On large data sets the
   * alternation crawls for many iterations moving a handful of samples each (MNIST, 5000 digits:
   * 12 iterations to within 0.6 % of the energy and accuracy 0.679 with 1e-4, 86 iterations and
   * 0.684 with 0).
   */
  tol?: number;
  /** Seed (default 0): restart r uses `deriveSeed(seed, r)`. */
  seed?: number;
  /** Neighbours kept per sample in the spectral (TSC) affinity (default 3). */
  neighbors?: number;
  /** Called after every iteration. */
  onProgress?: (progress: KSubspacesProgress) => void;
  /** Cancels the computation: it throws an Error named `AbortError`. */
  signal?: AbortSignal;
}

/** Result of `kSubspaces`. */
export interface KSubspacesResult {
  /** The K orthonormal bases, n x d_k each. */
  readonly bases: Matrix[];
  /** Cluster of each sample, `[N]`. */
  readonly labels: Int32Array;
  /** Captured energy `sum_i ||U_{label_i}^T x_i||^2` (maximised). */
  readonly objective: number;
  /** Residual energy `sum_i ||x_i||^2 - objective` (minimised). */
  readonly residual: number;
  /** Iterations of the winning restart. */
  readonly iterations: number;
  /** Index of the winning restart. */
  readonly restart: number;
  /** Objective of every restart. */
  readonly objectives: number[];
}

interface Checked {
  x: Matrix;
  K: number;
  dims: number[];
  init: 'spectral' | 'random' | 'residual' | Matrix[];
  restarts: number;
  maxIter: number;
  tol: number;
  seed: number;
  neighbors: number;
  onProgress?: (p: KSubspacesProgress) => void;
  signal?: AbortSignal;
}

/** Validates the arguments of `kSubspaces` (also used by `trainDAE` for its KSS initialisation). */
export function checkKSubspaces(x: unknown, options: unknown): Checked {
  if (typeof options !== 'object' || options === null) fail('an options object { K, d, ... }', 'options', options, TypeError);
  const o = options as KSubspacesOptions;
  const K = int('K', o.K, 1);
  const data = checkData('x', x, K);
  const dims = checkDims('d', o.d, K, data.cols);
  let init: Checked['init'];
  if (o.init === undefined) init = 'spectral';
  else if (o.init === 'spectral' || o.init === 'random' || o.init === 'residual') init = o.init;
  else if (Array.isArray(o.init)) {
    init = checkBases('init', o.init);
    if (init.length !== K) fail(`K = ${K} bases`, 'init', o.init);
    init.forEach((b, k) => {
      if (b.rows !== data.cols || b.cols !== dims[k]) {
        throw new RangeError(`Expected a ${data.cols} x ${dims[k]} basis for init[${k}] but received ${b.rows} x ${b.cols}`);
      }
    });
  } else fail("'spectral', 'random', 'residual' or an array of K bases", 'init', o.init);
  return {
    x: data, K, dims, init,
    restarts: intOption('restarts', o.restarts, 4, 1),
    maxIter: intOption('maxIter', o.maxIter, 100, 1),
    tol: o.tol === undefined ? 1e-4 : finite('tol', o.tol, 0, 1),
    seed: o.seed === undefined ? 0 : checkSeed('seed', o.seed),
    neighbors: intOption('neighbors', o.neighbors, DEFAULT_NEIGHBORS, 1),
    onProgress: checkCallback('onProgress', o.onProgress),
    signal: checkSignal('signal', o.signal),
  };
}

/** ||x_i||^2 of every row, float64. */
function rowEnergies(x: Matrix): Float64Array {
  const { rows: N, cols: n, data } = x, out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += data[i * n + j] * data[i * n + j];
    out[i] = s;
  }
  return out;
}

/** Per-component fit state: the basis and, for the large-n route, the subspace-iteration warm start. */
interface Fit { U: Float32Array[]; warm: (Float32Array | null)[] }

/** Refits the components selected by `which` (default all) to their members; empty clusters keep their basis. */
function refit(x: Matrix, members: number[][], dims: number[], fit: Fit, maxIter: number, which?: boolean[]): void {
  const active = members.flatMap((idx, k) => (idx.length && (!which || which[k]) ? [k] : []));
  if (!active.length) return;
  const groups: Group[] = active.map((k) => ({ X: gatherRows(x, members[k]), m: members[k].length, d: dims[k], warm: fit.warm[k] }));
  const U = topSubspaces(groups, x.cols, maxIter);
  active.forEach((k, g) => {
    fit.U[k] = U[g];
    fit.warm[k] = groups[g].warm ?? null;
  });
}

/** Warm starts of the large-n route for the given bases (none needed for the Gram route). */
function warmStarts(U: Float32Array[], n: number, dims: number[], seed: number): (Float32Array | null)[] {
  return U.map((u, k) => (n > GRAM_MAX_N ? warmStart(u, n, dims[k], deriveSeed(seed, k)) : null));
}

/**
 * Bases of the samples' clusters (labels) by one refit from random warm starts. With unequal d_k the
 * clusters (numbered arbitrarily by the clustering) are first matched to the components by the
 * Hungarian algorithm on the residual energy of each cluster outside its top-d_k subspace.
 */
function fitLabels(x: Matrix, labels: Int32Array, K: number, dims: number[], seed: number): Fit {
  const n = x.cols;
  const members: number[][] = Array.from({ length: K }, () => []);
  labels.forEach((l, i) => members[l].push(i));
  if (dims.some((d) => d !== dims[0])) {
    const dmax = Math.max(...dims);
    const probe: Fit = { U: randomBases(n, Array(K).fill(dmax), seed), warm: [] };
    probe.warm = warmStarts(probe.U, n, Array(K).fill(dmax), seed);
    refit(x, members, Array(K).fill(dmax), probe, 50);
    const cost = members.map((idx, c) => {
      const X = gatherRows(x, idx), P = new Float32Array(idx.length * dmax);
      if (idx.length) rawKernels().gemm(false, false, idx.length, dmax, n, 1, X, probe.U[c], 0, P);
      const captured = new Float64Array(dmax + 1);
      for (let j = 0; j < dmax; j++) {
        let e = 0;
        for (let i = 0; i < idx.length; i++) e += P[i * dmax + j] ** 2;
        captured[j + 1] = captured[j] + e;
      }
      return dims.map((d) => captured[dmax] - captured[d]);
    });
    const component = hungarian(cost);
    const relabeled: number[][] = Array.from({ length: K }, () => []);
    members.forEach((idx, c) => { relabeled[component[c]] = idx; });
    members.splice(0, K, ...relabeled);
  }
  const fit: Fit = { U: randomBases(n, dims, seed), warm: [] };
  fit.warm = warmStarts(fit.U, n, dims, seed);
  refit(x, members, dims, fit, 50);
  return fit;
}

/** Random orthonormal bases: Q of Gaussian matrices of (seed, init stream). */
function randomBases(n: number, dims: number[], seed: number): Float32Array[] {
  const kern = rawKernels(), D = dims.reduce((a, b) => a + b, 0);
  const b = kern.createBases(n, Int32Array.from(dims), gaussian(n * D, seed, STREAM.init));
  try {
    kern.retract(b, 'qr');
    return unstack(b.read(), n, dims).map((m) => m.data);
  } finally {
    b.dispose();
  }
}

/**
 * k-means++-style seeding on residuals: component k is seeded at a sample drawn with probability
 * proportional to its residual energy against components 0..k-1, and spans that sample and the d_k - 1
 * samples most coherent with it (|cos| times the fraction of their energy still unexplained).
 */
function residualSeeding(x: Matrix, dims: number[], seed: number, energies: Float64Array): Float32Array[] {
  const { rows: N, cols: n } = x, K = dims.length, kern = rawKernels();
  const residual = Float64Array.from(energies), u = uniform(K, seed, STREAM.cluster);
  const U: Float32Array[] = [], dot = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    let total = 0;
    for (let i = 0; i < N; i++) total += residual[i];
    let s = 0, target = u[k] * total;
    if (total > 0) {
      s = N - 1;
      for (let i = 0; i < N; i++) { target -= residual[i]; if (target < 0) { s = i; break; } }
    }
    kern.gemm(false, false, N, 1, n, 1, x.data, x.data.subarray(s * n, (s + 1) * n), 0, dot);
    const score = (i: number): number => (energies[i] > 0 && energies[s] > 0
      ? (Math.abs(dot[i]) / Math.sqrt(energies[i] * energies[s])) * Math.sqrt(residual[i] / energies[i]) : 0);
    const order = Array.from({ length: N }, (_, i) => i).filter((i) => i !== s)
      .sort((a, b) => score(b) - score(a) || a - b);
    const idx = [s, ...order.slice(0, dims[k] - 1)];
    const fit: Fit = { U: randomBases(n, [dims[k]], deriveSeed(seed, k + 1)), warm: [] };
    fit.warm = warmStarts(fit.U, n, [dims[k]], seed);
    refit(x, [idx], [dims[k]], fit, 50);
    U.push(fit.U[0]);
    // Residuals against components 0..k.
    const P = new Float32Array(N * dims[k]);
    kern.gemm(false, false, N, dims[k], n, 1, x.data, fit.U[0], 0, P);
    for (let i = 0; i < N; i++) {
      let e = 0;
      for (let j = 0; j < dims[k]; j++) e += P[i * dims[k] + j] ** 2;
      residual[i] = Math.max(0, Math.min(residual[i], energies[i] - e));
    }
  }
  return U;
}

/** Inner subspace iterations per refit during the alternation (warm-started), and when polishing. */
const REFIT_ITER = 3;
const POLISH_ITER = 200;

interface Single { U: Float32Array[]; labels: Int32Array; objective: number; iterations: number }

/**
 * The K-subspaces alternation from the bases in `fit`. Only clusters whose members changed are
 * refitted. With the large-n route the refits are inexact (REFIT_ITER warm-started iterations);
 * once the assignment is stable the inexact ones are polished to convergence and the assignment
 * re-checked.
 */
function* alternate(c: Checked, fit: Fit, energies: Float64Array, restart: number): Work<Single> {
  const { x, K, dims, maxIter } = c, { rows: N, cols: n } = x, kern = rawKernels();
  const exact = n <= GRAM_MAX_N;
  const bases = kern.createBases(n, Int32Array.from(dims), stack(fit.U.map((u, k) => ({ rows: n, cols: dims[k], data: u }))));
  const D = bases.D, P = new Float32Array(N * D), labels = new Int32Array(N).fill(-1), previous = new Int32Array(N);
  const best = new Float64Array(N);
  // converged[k]: U_k is the converged fit of cluster k's current members (always so on the exact route).
  const converged: boolean[] = Array(K).fill(true);
  let objective = 0, iterations = 0, previousObjective = -Infinity;
  try {
    for (let it = 1; it <= maxIter; it++) {
      throwIfAborted(c.signal, 'kSubspaces');
      iterations = it;
      previous.set(labels);
      bases.write(stack(fit.U.map((u, k) => ({ rows: n, cols: dims[k], data: u }))));
      kern.project(x.data, N, bases, P);
      let changed = 0;
      objective = 0;
      for (let i = 0; i < N; i++) {
        let bk = 0, be = -1, off = 0;
        for (let k = 0; k < K; k++) {
          let e = 0;
          for (let j = off; j < off + dims[k]; j++) e += P[i * D + j] * P[i * D + j];
          if (e > be) { be = e; bk = k; }
          off += dims[k];
        }
        if (labels[i] !== bk) { labels[i] = bk; changed++; }
        best[i] = be;
        objective += be;
      }
      // Empty clusters: re-seed each with up to d_k of the worst-residual samples, never taking the
      // last member of a cluster (so that re-seeding cannot empty another cluster and oscillate).
      const members: number[][] = Array.from({ length: K }, () => []);
      labels.forEach((l, i) => members[l].push(i));
      if (members.some((m) => m.length === 0)) {
        const size = members.map((m) => m.length);
        const worst = Array.from({ length: N }, (_, i) => i)
          .sort((a, b) => (energies[b] - best[b]) - (energies[a] - best[a]) || a - b);
        let next = 0;
        for (let k = 0; k < K; k++) {
          if (size[k]) continue;
          for (let t = 0; t < dims[k] && next < N; next++) {
            const i = worst[next];
            if (size[labels[i]] <= 1) continue;
            size[labels[i]]--;
            labels[i] = k;
            size[k]++;
            t++;
          }
        }
        members.forEach((m) => { m.length = 0; });
        labels.forEach((l, i) => members[l].push(i));
      }
      c.onProgress?.({ restart, restarts: c.restarts, iteration: it, objective, changed });
      yield;
      const dirty: boolean[] = Array(K).fill(it === 1);
      for (let i = 0; i < N; i++) {
        if (labels[i] !== previous[i]) {
          dirty[labels[i]] = true;
          if (previous[i] >= 0) dirty[previous[i]] = true;
        }
      }
      const stalled = objective - previousObjective < c.tol * objective;
      previousObjective = objective;
      if (!dirty.some(Boolean) || stalled) {
        if (converged.every(Boolean)) break;
        refit(x, members, dims, fit, POLISH_ITER, converged.map((v) => !v));
        converged.fill(true);
        continue;
      }
      refit(x, members, dims, fit, REFIT_ITER, dirty);
      dirty.forEach((v, k) => { if (v) converged[k] = exact; });
    }
  } finally {
    bases.dispose();
  }
  return { U: fit.U, labels, objective, iterations };
}

/** The initial bases of restart r. */
function* initialFit(c: Checked, r: number, seed: number, energies: Float64Array): Work<Fit> {
  const { x, K, dims } = c, n = x.cols;
  const method = r === 0 ? c.init : (c.init === 'spectral' || Array.isArray(c.init) ? 'residual' : c.init);
  if (method === 'spectral') return fitLabels(x, yield* spectralLabels(x, K, c.neighbors, seed), K, dims, seed);
  let U: Float32Array[];
  if (method === 'random') U = randomBases(n, dims, seed);
  else if (method === 'residual') U = residualSeeding(x, dims, seed, energies);
  else U = (method as Matrix[]).map((b) => b.data.slice());
  return { U, warm: warmStarts(U, n, dims, seed) };
}

/**
 * The K-subspaces computation over all restarts, as resumable work. It runs on the data divided by
 * a power of two (`unitScale`), so it works at any finite data scale; energies are reported in the
 * caller's units.
 */
export function* kSubspacesWork(checked: Checked): Work<KSubspacesResult> {
  const { x, scale } = unitScale(checked.x), s2 = scale * scale, report = checked.onProgress;
  const c: Checked = { ...checked, x, onProgress: report && ((p) => report({ ...p, objective: p.objective * s2 })) };
  const energies = rowEnergies(c.x);
  let total = 0;
  for (let i = 0; i < energies.length; i++) total += energies[i];
  let winner: Single | null = null, restart = 0;
  const objectives: number[] = [];
  for (let r = 0; r < c.restarts; r++) {
    throwIfAborted(c.signal, 'kSubspaces');
    const seed = deriveSeed(c.seed, r);
    const fit = yield* initialFit(c, r, seed, energies);
    const single = yield* alternate(c, fit, energies, r);
    objectives.push(single.objective);
    if (!winner || single.objective > winner.objective) { winner = single; restart = r; }
  }
  const w = winner as Single, n = c.x.cols;
  return {
    bases: w.U.map((u, k) => ({ rows: n, cols: c.dims[k], data: u })),
    labels: w.labels,
    objective: w.objective * s2,
    residual: Math.max(0, total - w.objective) * s2,
    iterations: w.iterations,
    restart,
    objectives: objectives.map((o) => o * s2),
  };
}

/**
 * Fits K subspaces to the rows of `x [N, n]` by K-subspaces (SPEC section 5), spectral (TSC)
 * initialisation and residual-seeded restarts by default, and returns the best restart's bases,
 * labels and objective. Resolves asynchronously, giving the event loop a turn every few
 * milliseconds so that `signal` can cancel it; `kSubspacesSync` is the blocking form.
 *
 * Scale: the result does not depend on the data scale, and any finite float32 data works (1e-38 ..
 * 3e38): the computation runs on the data divided by a power of two near its RMS entry, and
 * `objective` / `residual` come back in the caller's units (float64). Non-finite data is a RangeError.
 */
export function kSubspaces(x: Matrix, options: KSubspacesOptions): Promise<KSubspacesResult> {
  try {
    return runAsync(kSubspacesWork(checkKSubspaces(x, options)));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The blocking form of `kSubspaces` (same arguments, same result). */
export function kSubspacesSync(x: Matrix, options: KSubspacesOptions): KSubspacesResult {
  return runSync(kSubspacesWork(checkKSubspaces(x, options)));
}
