/**
 * Experiments 1 and 2 (SPEC section 7): the phase transition of subspace recovery over (N per
 * component, d). Success of a trial = the max matched subspace distance to the truth is below tau.
 * With two methods the same data feed both, and the agreement map (their subspaces within tau of each
 * other) shows the equivalence of DAE training and K-subspaces.
 */
import { fail, finite, int } from '../backend/validate.js';
import { checkSeed } from '../random.js';
import { type DAESettings, type Method, METHODS, type PhaseCellParams } from './cells.js';
import { crossing, fitLine, type LineFit } from './fit.js';
import { runSweep, type SweepOptions } from './sweep.js';

/** Default success threshold on the max matched subspace distance (SPEC section 7). */
export const DEFAULT_TAU = 0.1;

/** Options of `phaseTransition`. */
export interface PhaseOptions extends SweepOptions {
  /** Number of components. */
  K: number;
  /** Ambient dimension. */
  n: number;
  /** Subspace dimensions to sweep (each in [1, n]). */
  d: readonly number[];
  /** Samples per component to sweep (each >= 1). */
  N: readonly number[];
  /** Trials per (d, N). */
  trials: number;
  /** One method, or both (then the agreement map is computed on the same data). */
  method: Method | readonly Method[];
  /** Success threshold on the max matched distance; default 0.1. */
  tau?: number;
  /** Settings of the DAE fits (trainDAE's defaults where absent). */
  dae?: DAESettings;
}

/** Statistics of one (d, N) cell over its finished trials. */
export interface PhaseCell {
  d: number;
  /** Samples per component. */
  N: number;
  /** Finished trials (fewer than requested only when the sweep was aborted). */
  trials: number;
  /** Trials with max matched distance < tau. */
  successes: number;
  /** successes / trials (0 when no trial finished). */
  rate: number;
  /** Mean over trials of the max matched distance. */
  meanDistance: number;
}

/** The fitted phase boundary: per d, the smallest N with success >= 50 % (see `crossing`), and a line through them. */
export interface PhaseBoundary {
  points: { d: number; N: number }[];
  /** Least squares N = slope d + intercept; null with fewer than two points. */
  fit: LineFit | null;
}

/** One method's success-rate grid and boundary. */
export interface PhaseMethodResult {
  method: Method;
  cells: PhaseCell[];
  boundary: PhaseBoundary;
}

/** Result of `phaseTransition` (JSON-serialisable). */
export interface PhaseResult {
  experiment: 'phase';
  K: number;
  n: number;
  d: number[];
  N: number[];
  trials: number;
  tau: number;
  seed: number;
  /** The DAE settings used (empty: trainDAE's defaults). */
  dae: DAESettings;
  methods: PhaseMethodResult[];
  /** With two methods: per cell, the fraction of trials whose two fits lie within tau of each other. */
  agreement: PhaseCell[] | null;
  /** False when the sweep was aborted before every trial finished. */
  complete: boolean;
  /** Wall-clock seconds. */
  seconds: number;
}

function checkMethods(method: unknown): Method[] {
  const list = Array.isArray(method) ? method : [method];
  if (list.length < 1 || list.length > 2 || list.some((m) => !METHODS.includes(m as Method)) || new Set(list).size !== list.length) {
    fail("'dae', 'kss' or both", 'method', method);
  }
  return list as Method[];
}

function cellStats(d: number, N: number, values: number[], tau: number): PhaseCell {
  const successes = values.filter((v) => v < tau).length;
  return {
    d, N, trials: values.length, successes,
    rate: values.length ? successes / values.length : 0,
    meanDistance: values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0,
  };
}

/** The boundary of a grid: crossings per d, then least squares of N against d. */
export function phaseBoundary(cells: readonly PhaseCell[]): PhaseBoundary {
  if (!Array.isArray(cells)) fail('an array of cells { d, N, trials, rate }', 'cells', cells, TypeError);
  cells.forEach((c, i) => {
    if (typeof c !== 'object' || c === null) fail('a cell { d, N, trials, rate }', `cells[${i}]`, c, TypeError);
    for (const key of ['d', 'N', 'trials', 'rate'] as const) finite(`cells[${i}].${key}`, c[key]);
  });
  const ds = [...new Set(cells.map((c) => c.d))].sort((a, b) => a - b);
  const points: { d: number; N: number }[] = [];
  for (const d of ds) {
    const row = cells.filter((c) => c.d === d && c.trials > 0).sort((a, b) => a.N - b.N);
    const N = crossing(row.map((c) => c.N), row.map((c) => c.rate));
    if (N !== null) points.push({ d, N });
  }
  return { points, fit: fitLine(points.map((p) => p.d), points.map((p) => p.N)) };
}

/**
 * The phase transition of subspace recovery (SPEC section 7, experiments 1 and 2): for every d, N and
 * trial, sample exactly N points from each of K random d-dimensional subspaces of R^n, fit K subspaces
 * by each method, and count a success when the max matched distance is below tau. Cells run on
 * worker threads; cell i is seeded by `deriveSeed(seed, i)` (cells ordered by d, then N, then trial).
 */
export async function phaseTransition(options: PhaseOptions): Promise<PhaseResult> {
  const start = Date.now();
  if (typeof options !== 'object' || options === null) fail('an options object { K, n, d, N, trials, method, seed, ... }', 'options', options, TypeError);
  const K = int('K', options.K, 1), n = int('n', options.n, 1), trials = int('trials', options.trials, 1);
  const ds = [...options.d].map((d, i) => int(`d[${i}]`, d, 1, n));
  const Ns = [...options.N].map((N, i) => int(`N[${i}]`, N, 1));
  if (!ds.length) fail('a non-empty list', 'd', options.d);
  if (!Ns.length) fail('a non-empty list', 'N', options.N);
  const methods = checkMethods(options.method);
  const tau = finite('tau', options.tau ?? DEFAULT_TAU, 0, 1, true);
  const seed = checkSeed('seed', options.seed);
  const dae: DAESettings = { ...options.dae };
  const cells: PhaseCellParams[] = [];
  for (const d of ds) for (const N of Ns) for (let t = 0; t < trials; t++) cells.push({ K, n, d, N, methods, dae });
  const out = await runSweep('phase', cells, { ...options, seed });
  const grid = (pick: (i: number) => number | null): PhaseCell[] => {
    const res: PhaseCell[] = [];
    ds.forEach((d, di) => Ns.forEach((N, ni) => {
      const values: number[] = [];
      for (let t = 0; t < trials; t++) {
        const v = pick((di * Ns.length + ni) * trials + t);
        if (v !== null) values.push(v);
      }
      res.push(cellStats(d, N, values, tau));
    }));
    return res;
  };
  const results = out.results;
  return {
    experiment: 'phase', K, n, d: ds, N: Ns, trials, tau, seed, dae,
    methods: methods.map((method, m) => {
      const c = grid((i) => results[i]?.distances[m] ?? null);
      return { method, cells: c, boundary: phaseBoundary(c) };
    }),
    agreement: methods.length === 2 ? grid((i) => results[i]?.agreement ?? null) : null,
    complete: !out.aborted,
    seconds: (Date.now() - start) / 1000,
  };
}
