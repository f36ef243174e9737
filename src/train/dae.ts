/**
 * Training the low-rank DAE with the diffusion loss (SPEC section 4): minibatch Monte-Carlo estimates
 * of `L(theta) = (1/N) sum_i E_sigma E_eps weight(sigma) ||x_theta(s (x_i + sigma eps), sigma) - x_i||^2`,
 * Riemannian Adam or SGD-momentum on the Stiefel manifold, learning-rate warm-up then cosine decay.
 * The model stays in backend memory (`createBases`); the steps run in `trainSteps` calls (a
 * `lossGrad` and a `stiefelStep` each). Every random draw comes from a named Philox stream, so one
 * seed gives the same training run on every backend.
 *
 * The recipe (issue 3): the loss is non-convex, so by default training starts from the global
 * structure found by subspace clustering (`init: 'auto'`: the principal subspace for K = 1, where
 * training is PCA; K-subspaces with spectral initialisation for K > 1, the small-noise limit of this
 * very loss) and the diffusion loss refines it. Restarts are compared by the loss on one fixed
 * evaluation set of draws.
 */
import { throwIfAborted, checkSignal } from '../abort.js';
import { rawKernels } from '../backend/index.js';
import type { Bases, NoiseWindow, Prior, StiefelOptions } from '../backend/types.js';
import { fail, finite, finiteGradient, finiteLoss, int, size } from '../backend/validate.js';
import { type Matrix, stack, unstack } from '../matrix.js';
import { checkBases, checkPrior } from '../model/molrg.js';
import { dataSigma, type LossWeighting, lossWeight, schedule, type ScheduleName, trainingLevels } from '../model/schedules.js';
import { checkSeed, deriveSeed, gaussian, STREAM } from '../random.js';
import { checkData, checkDims, intOption } from './check.js';
import { checkKSubspaces, type KSubspacesOptions, kSubspacesWork } from './kss.js';
import { checkCallback, runAsync, runSync, type Work } from './run.js';
import { gatherRows, topSubspaces, unitScale, warmStart } from './subspace.js';

/**
 * Initial bases: `auto` (default: `pca` for K = 1, `kss` for K > 1), `kss` (K-subspaces with its
 * default recipe), `pca` (the top sum(d_k) principal directions of the data, dealt out in blocks),
 * `random` (Haar-random orthonormal bases), or given bases.
 */
export type TrainInit = 'auto' | 'kss' | 'pca' | 'random' | readonly Matrix[];

/** Progress of `trainDAE`, reported every `logEvery` steps. */
export interface TrainProgress {
  /** Restart index, 0-based. */
  readonly restart: number;
  /** Number of restarts. */
  readonly restarts: number;
  /** Steps done in this restart. */
  readonly step: number;
  /** Steps per restart. */
  readonly steps: number;
  /** Mean minibatch loss over the last `logEvery` steps. */
  readonly loss: number;
  /** Learning rate of the last step. */
  readonly lr: number;
  /** The current bases (a copy, n x d_k each), e.g. to watch the distance to the truth live. */
  bases(): Matrix[];
}

/** Options of `trainDAE`. */
export interface TrainDAEOptions {
  /** Number of components. */
  K: number;
  /** Subspace dimension: one for all, or one per component (each in [1, n]). */
  d: number | readonly number[];
  /** Optimiser steps per restart (default 500). */
  steps?: number;
  /** Minibatch size: samples drawn with replacement, each with its own sigma and eps (default 64). */
  batch?: number;
  /** Peak learning rate (default for adam 0.01 from `random`, 0.001 from the other inits; sgd 100x smaller). */
  lr?: number;
  /** `adam` (default) or `sgd` (heavy-ball momentum). */
  optimizer?: 'adam' | 'sgd';
  /** Heavy-ball momentum of `sgd` (default 0.9). */
  momentum?: number;
  /** Stiefel retraction: `qr` (default) or `polar`. */
  retraction?: 'qr' | 'polar';
  /** Linear learning-rate warm-up steps (default 5 % of steps); cosine decay to 0 afterwards. */
  warmup?: number;
  /** Initial bases (default `auto`). */
  init?: TrainInit;
  /** Options passed to K-subspaces when `init` is `kss` (its K, d and seed come from here). */
  kss?: Pick<KSubspacesOptions, 'init' | 'restarts' | 'maxIter' | 'neighbors'>;
  /** Independent restarts (default 1); the lowest evaluation loss wins. */
  restarts?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Noise schedule (default `ve`). */
  schedule?: ScheduleName;
  /** Loss weighting (default `edm`, with sigma_data the data's per-coordinate std). */
  weighting?: LossWeighting;
  /** Mixing weights of the DAE (fixed; default uniform). */
  pi?: readonly number[];
  /** Latent variances of the DAE (fixed; default 1). */
  lambda?: number | readonly number[];
  /** Off-subspace noise floor of the DAE (fixed; default 0). */
  delta?: number;
  /** Draws in the fixed evaluation set (default max(N, 512)). */
  evalSize?: number;
  /** Steps between history entries and progress reports (default max(1, round(steps / 100))). */
  logEvery?: number;
  /** Called every `logEvery` steps. */
  onProgress?: (progress: TrainProgress) => void;
  /** Cancels training: it throws an Error named `AbortError`. */
  signal?: AbortSignal;
}

/** Result of `trainDAE`. */
export interface TrainDAEResult {
  /** The trained bases of the winning restart, n x d_k each, orthonormal. */
  readonly bases: Matrix[];
  /** The DAE's (fixed) hyper-parameters, for `lowRankDAE(bases, { pi, lambda, delta })`. */
  readonly pi: number[];
  readonly lambda: number[];
  readonly delta: number;
  /** Mean minibatch loss every `logEvery` steps of the winning restart. */
  readonly history: { step: number; loss: number }[];
  /** Loss of the winning restart on the fixed evaluation set (weighted, mean per draw). */
  readonly loss: number;
  /** Loss of the initial bases of the winning restart on the same evaluation set. */
  readonly initialLoss: number;
  /** Index of the winning restart. */
  readonly restart: number;
  /** Evaluation loss of every restart. */
  readonly losses: number[];
  /** The initialisation used (`auto` resolved). */
  readonly init: 'kss' | 'pca' | 'random' | 'given';
}

interface Checked {
  x: Matrix;
  K: number;
  dims: number[];
  steps: number;
  batch: number;
  optimizer: StiefelOptions;
  warmup: number;
  init: 'kss' | 'pca' | 'random' | Matrix[];
  kss: Pick<KSubspacesOptions, 'init' | 'restarts' | 'maxIter' | 'neighbors'>;
  restarts: number;
  seed: number;
  schedule: ScheduleName;
  weighting: LossWeighting;
  sigmaData: number;
  /** The kernels see x / scale, sigma / scale, lambda / scale^2, delta / scale (a power of two). */
  scale: number;
  /**
   * The kernels' weights are weight(sigma) scale^2 / lossScale (a power of two, 1 unless the scale is
   * extreme): the optimiser steps on the loss divided by lossScale; reported losses are multiplied back.
   */
  lossScale: number;
  prior: { pi: number[]; lambda: number[]; delta: number };
  evalSize: number;
  logEvery: number;
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) fail(allowed.map((a) => `'${a}'`).join(' or '), name, value);
  return value as T;
}

/** Validates the arguments of `trainDAE`. */
function checkTrain(x: unknown, options: unknown): Checked {
  if (typeof options !== 'object' || options === null) fail('an options object { K, d, ... }', 'options', options, TypeError);
  const o = options as TrainDAEOptions;
  const data = checkData('x', x);
  const { rows: N, cols: n } = data;
  const K = int('K', o.K, 1);
  const dims = checkDims('d', o.d, K, n);
  const steps = intOption('steps', o.steps, 500);
  const method = oneOf('optimizer', o.optimizer, ['adam', 'sgd'] as const, 'adam');
  const momentum = o.momentum === undefined ? 0.9 : finite('momentum', o.momentum, 0, 1);
  if (momentum >= 1) fail('a number in [0, 1)', 'momentum', momentum);
  let init: Checked['init'];
  const rawInit = o.init ?? 'auto';
  if (rawInit === 'auto') init = K === 1 ? 'pca' : 'kss';
  else if (rawInit === 'kss' || rawInit === 'pca' || rawInit === 'random') init = rawInit;
  else if (Array.isArray(rawInit)) {
    init = checkBases('init', rawInit);
    if (init.length !== K) fail(`K = ${K} bases`, 'init', rawInit);
    init.forEach((b, k) => {
      if (b.rows !== n || b.cols !== dims[k]) throw new RangeError(`Expected a ${n} x ${dims[k]} basis for init[${k}] but received ${b.rows} x ${b.cols}`);
    });
  } else fail("'auto', 'kss', 'pca', 'random' or an array of K bases", 'init', rawInit);
  // Peak learning rate: from a random start the bases must travel far; from the clustering or PCA
  // solution training only refines, and a 10x smaller step keeps the minibatch noise (which Adam
  // normalises to full step size near an optimum) from shaking the bases out of the optimum.
  const lr = o.lr === undefined ? (method === 'adam' ? 0.01 : 1e-4) * (init === 'random' ? 1 : 0.1) : finite('lr', o.lr, 0, Infinity, true);
  const D = dims.reduce((a, b) => a + b, 0);
  if (init === 'pca' && D > n) fail(`sum of d_k <= n = ${n} for init 'pca'`, 'd', `[${dims.join(', ')}]`);
  if (init === 'kss') checkKSubspaces(data, { K, d: dims, ...(o.kss ?? {}) });
  const sch = schedule(o.schedule ?? 've');
  const weighting = oneOf('weighting', o.weighting, ['edm', 'uniform', 'snr'] as const, 'edm');
  // sigma_data: the per-coordinate std; for a single sample (no variance about its mean) the
  // root-mean-square about zero, the mean of the MoLRG model.
  const sigmaData = dataSigma(data) || Math.sqrt(data.data.reduce((a, v) => a + v * v, 0) / data.data.length);
  if (weighting === 'edm' && !(sigmaData > 0)) fail('data that is not all zeros (edm weighting)', 'x', 'all zeros');
  const batch = intOption('batch', o.batch, 64, 1);
  size('batch', batch, n);
  // Extreme scales (docs/kernels.md): the same loss in units where the noisy data x0 + sigma eps is
  // O(1) at the median training noise level, with the weight of that level brought back to O(1) when
  // it would leave [2^-40, 2^40].
  const median = sch.sigma(sch.trainingTime(sch.draws === 'normal' ? 0 : 0.5));
  const { x: unit, scale } = unitScale(data, median);
  const typical = scale * scale * lossWeight(weighting, median, sigmaData || 1);
  const lossScale = typical >= 2 ** -40 && typical <= 2 ** 40 ? 1 : 2 ** Math.round(Math.log2(typical));
  return {
    x: unit, K, dims, steps,
    batch,
    optimizer: { method, lr, momentum, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: oneOf('retraction', o.retraction, ['qr', 'polar'] as const, 'qr') },
    warmup: intOption('warmup', o.warmup, Math.round(steps / 20)),
    init,
    kss: o.kss ?? {},
    restarts: intOption('restarts', o.restarts, 1, 1),
    seed: o.seed === undefined ? 0 : checkSeed('seed', o.seed),
    schedule: sch.name,
    weighting,
    sigmaData,
    scale,
    lossScale,
    prior: checkPrior(K, o.pi, o.lambda, o.delta),
    evalSize: intOption('evalSize', o.evalSize, Math.max(N, 512), 1),
    logEvery: intOption('logEvery', o.logEvery, Math.max(1, Math.round(steps / 100)), 1),
    onProgress: checkCallback('onProgress', o.onProgress),
    signal: checkSignal('signal', o.signal),
  };
}

/** Learning rate at step t (0-based): linear warm-up over `warmup` steps, then cosine decay towards 0. */
export function learningRate(lr: number, t: number, steps: number, warmup: number): number {
  finite('lr', lr, 0, Infinity, true);
  int('t', t);
  int('steps', steps, 1);
  int('warmup', warmup);
  if (t < warmup) return (lr * (t + 1)) / warmup;
  const span = Math.max(1, steps - warmup);
  return 0.5 * lr * (1 + Math.cos((Math.PI * (t - warmup)) / span));
}

/**
 * The draws of the `trainSteps` kernel (SPEC section 4) for draws `first .. first + B - 1` of the
 * streams of `seed`: sample indices `index`, noise levels `s`, `sigma` and weights `weight` `[B]`;
 * the kernel draws the noise of draw j itself, from the window `noise(j)`. Draw j of a stream always
 * gives the same (i, sigma, eps), whatever the batch boundaries, so training fills the draws of many
 * steps at once.
 */
class Draws {
  readonly index: Int32Array;
  readonly weight: Float32Array;
  readonly s: Float32Array;
  readonly sigma: Float32Array;
  private readonly u: Float32Array;
  private readonly z: Float32Array;
  private seed = 0;
  private first = 0;

  constructor(private readonly c: Checked, readonly B: number) {
    this.index = new Int32Array(B);
    this.weight = new Float32Array(B);
    this.s = new Float32Array(B);
    this.sigma = new Float32Array(B);
    this.u = new Float32Array(B);
    this.z = new Float32Array(B);
  }

  /** The noise window of draws `at ..` of this fill. */
  noise(at: number): NoiseWindow {
    return { seed: this.seed, stream: STREAM.trainNoise, offset: (this.first + at) * this.c.x.cols };
  }

  /** `count` draws from `at` on in one `trainSteps` call of `count / c.batch` steps: returns the steps done. */
  steps(at: number, count: number, bases: Bases, prior: Prior, lr: Float64Array, losses: Float64Array): number {
    const { c } = this, B = c.batch, view = (a: Float32Array) => a.subarray(at, at + count);
    return rawKernels().trainSteps(c.x.data, c.x.rows, this.index.subarray(at, at + count), this.noise(at), B, count / B,
      view(this.s), view(this.sigma), view(this.weight), bases, prior, c.optimizer, lr, losses);
  }

  /**
   * Fills the draws. `cover`: sample indices run through 0..N-1 in order (the evaluation set) instead
   * of being drawn. Weights are divided by `scale` (the batch size: lossGrad returns sums).
   */
  fill(seed: number, first: number, scale: number, cover = false): void {
    const { c, B } = this, N = c.x.rows, kern = rawKernels();
    this.seed = seed;
    this.first = first;
    kern.uniforms(this.u, seed, STREAM.trainIndex, first);
    if (schedule(c.schedule).draws === 'normal') kern.normals(this.z, seed, STREAM.trainSigma, first);
    else kern.uniforms(this.z, seed, STREAM.trainSigma, first);
    for (let b = 0; b < B; b++) this.index[b] = cover ? (first + b) % N : Math.min(N - 1, Math.floor(this.u[b] * N));
    trainingLevels(c.schedule, this.z, this);
    // Weights in float64 from the true sigma, then sigma in the kernels' units (exact: powers of two).
    for (let b = 0; b < B; b++) {
      this.weight[b] = (lossWeight(c.weighting, this.sigma[b], c.sigmaData) / (c.lossScale * scale)) * c.scale * c.scale;
      this.sigma[b] /= c.scale;
    }
  }
}

function kernelPrior(c: Checked): Prior {
  const p = c.prior, s2 = c.scale * c.scale;
  return { logPi: Float64Array.from(p.pi, Math.log), lambda: Float64Array.from(p.lambda, (l) => l / s2), delta: p.delta / c.scale };
}

/**
 * Mean weighted loss of the bases over the fixed evaluation set (draws of the evaluation seed):
 * `trainSteps` at learning rate 0, in batches of up to 256 draws (the last padded with zero weights).
 * Where it stops at a non-finite gradient with a finite loss (the loss is all that is wanted here),
 * it goes on after that batch.
 */
function evaluate(c: Checked, bases: Bases, prior: Prior, evalSeed: number): number {
  const B = Math.min(c.evalSize, 256), T = Math.ceil(c.evalSize / B), draws = new Draws({ ...c, batch: B }, T * B);
  draws.fill(evalSeed, 0, c.evalSize, true);
  draws.weight.fill(0, c.evalSize);
  const lr = new Float64Array(T), losses = new Float64Array(T);
  let total = 0;
  for (let t = 0; t < T;) {
    const done = draws.steps(t * B, (T - t) * B, bases, prior, lr, losses);
    for (let i = 0; i < Math.min(done + 1, T - t); i++) total += losses[i];
    t += done + 1;
  }
  return finiteLoss('x', total * c.lossScale);
}

/** The initial stacked bases `U [n, D]` of one restart. */
function* initialBases(c: Checked, seed: number): Work<Float32Array> {
  const { x, K, dims } = c, { rows: N, cols: n } = x, D = dims.reduce((a, b) => a + b, 0);
  const kern = rawKernels();
  if (Array.isArray(c.init)) return stack(c.init);
  if (c.init === 'kss') {
    const r = yield* kSubspacesWork(checkKSubspaces(x, { ...c.kss, K, d: dims, seed, signal: c.signal }));
    return stack(r.bases);
  }
  const random = (): Float32Array => {
    const b = kern.createBases(n, Int32Array.from(dims), gaussian(n * D, seed, STREAM.init));
    try {
      kern.retract(b, 'qr');
      return b.read();
    } finally {
      b.dispose();
    }
  };
  if (c.init === 'random') return random();
  // pca: the top-D principal directions of the (uncentred) data, block k taking the next d_k.
  const all = Array.from({ length: N }, (_, i) => i);
  const [P] = topSubspaces([{ X: gatherRows(x, all), m: N, d: D, warm: warmStart(random(), n, D, seed) }], n, 500, 1e-10);
  const U = new Float32Array(n * D);
  U.set(P);
  return U;
}

interface Single { U: Float32Array; loss: number; initialLoss: number; history: { step: number; loss: number }[] }

/** One restart: initialise, train `steps` steps, evaluate. */
function* restartWork(c: Checked, r: number, evalSeed: number): Work<Single> {
  const seed = deriveSeed(c.seed, r + 1), kern = rawKernels(), prior = kernelPrior(c);
  const U0 = yield* initialBases(c, seed);
  const bases = kern.createBases(c.x.cols, Int32Array.from(c.dims), U0);
  try {
    kern.retract(bases, c.optimizer.retraction);
    const initialLoss = evaluate(c, bases, prior, evalSeed);
    // The draws of `chunk` steps at once (about 2^18 noise values), and the steps up to the end of
    // the chunk or the next progress report in one trainSteps call: at small sizes the calls, not the
    // arithmetic, would otherwise take half the time (docs/performance.md).
    const chunk = Math.max(1, Math.min(c.steps, Math.floor(2 ** 18 / (c.batch * c.x.cols))));
    const draws = new Draws(c, chunk * c.batch), history: { step: number; loss: number }[] = [];
    const lrs = new Float64Array(chunk), losses = new Float64Array(chunk);
    let acc = 0, count = 0;
    for (let t = 0; t < c.steps;) {
      if (c.signal?.aborted) throwIfAborted(c.signal, `training at step ${t} of ${c.steps}`);
      const from = t % chunk;
      if (from === 0) draws.fill(seed, t * c.batch, c.batch);
      const end = Math.min(c.steps, t - from + chunk, (Math.floor(t / c.logEvery) + 1) * c.logEvery), T = end - t;
      for (let i = 0; i < T; i++) lrs[i] = learningRate(c.optimizer.lr, t + i, c.steps, c.warmup);
      const lr = lrs.subarray(0, T), loss = losses.subarray(0, T);
      const done = draws.steps(from * c.batch, T * c.batch, bases, prior, lr, loss);
      if (done < T) finiteGradient('x', bases, loss[done]);
      for (let i = 0; i < T; i++) acc += loss[i] * c.lossScale;
      count += T;
      t = end;
      if (t % c.logEvery === 0 || t === c.steps) {
        history.push({ step: t, loss: acc / count });
        c.onProgress?.({
          restart: r, restarts: c.restarts, step: t, steps: c.steps, loss: acc / count, lr: lr[T - 1],
          bases: () => unstack(bases.read(), c.x.cols, c.dims),
        });
        acc = 0;
        count = 0;
      }
      yield;
    }
    return { U: bases.read(), loss: evaluate(c, bases, prior, evalSeed), initialLoss, history };
  } finally {
    bases.dispose();
  }
}

/** All restarts, as resumable work; the lowest evaluation loss wins. */
function* trainWork(c: Checked): Work<TrainDAEResult> {
  const evalSeed = deriveSeed(c.seed, 0);
  let best: Single | null = null, restart = 0;
  const losses: number[] = [];
  for (let r = 0; r < c.restarts; r++) {
    const single = yield* restartWork(c, r, evalSeed);
    losses.push(single.loss);
    if (!best || single.loss < best.loss) { best = single; restart = r; }
  }
  const w = best as Single;
  return {
    bases: unstack(w.U, c.x.cols, c.dims),
    pi: c.prior.pi, lambda: c.prior.lambda, delta: c.prior.delta,
    history: w.history,
    loss: w.loss,
    initialLoss: w.initialLoss,
    restart,
    losses,
    init: Array.isArray(c.init) ? 'given' : (c.init as 'kss' | 'pca' | 'random'),
  };
}

/**
 * Trains the low-rank DAE (SPEC section 4) on the rows of `x [N, n]` with the diffusion loss, from
 * the default recipe's initialisation (see the file comment), and returns the bases of the restart
 * with the lowest evaluation loss. Resolves asynchronously, giving the event loop a turn every few
 * milliseconds so that `signal` can cancel it; `trainDAESync` is the blocking form.
 *
 * Scale: the kernels see the data divided by a power of two near the RMS entry of the noisy data
 * x0 + sigma eps at the median training noise level, with sigma, lambda, delta and the loss weights
 * converted exactly (the same loss), so any finite float32 data trains without float32 overflow or
 * underflow of weights and losses; losses are reported in the caller's units (float64). Where the
 * loss or its gradient still cannot be represented in float32 (noise levels ~1e-20 of the data scale
 * with a misfit model) training stops with a RangeError naming `x`, never a silent Infinity / NaN or
 * a reset basis.
 */
export function trainDAE(x: Matrix, options: TrainDAEOptions): Promise<TrainDAEResult> {
  try {
    return runAsync(trainWork(checkTrain(x, options)));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The blocking form of `trainDAE` (same arguments, same result). */
export function trainDAESync(x: Matrix, options: TrainDAEOptions): TrainDAEResult {
  return runSync(trainWork(checkTrain(x, options)));
}
