/**
 * The `native` backend: the C++ addon of native/ (SIMD chosen at load from CPUID/XGETBV, a thread
 * pool, AsyncWorker-based Promise forms) behind the `Kernels` contract.
 *
 * The bases live in JavaScript-owned typed arrays (`ArrayBases`, shared with the js backend): the
 * binding reads and writes `U`, the gradient and the optimiser moments in place, and the Adam step
 * counter is kept here. The adapter does no validation of its own (the facade does); the binding
 * re-checks every length and shape and throws a TypeError/RangeError rather than touch memory out of
 * bounds. Promise forms: the typed arrays must not be modified or transferred until they settle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ArrayBases } from './js/bases.js';
import type {
  AsyncKernels, Bases, KernelInfo, Kernels, Prior, StiefelOptions,
} from './types.js';

/** The functions exported by native/binding.cc. */
interface Binding {
  isa(): string;
  isas(): string[];
  setIsa(isa: string): void;
  threads(): number;
  setThreads(n: number): void;
  philox(counters: Uint32Array, key: Uint32Array, out: Uint32Array): void;
  randomU32(out: Uint32Array, seed: number, stream: number, offset: number): void;
  normals(out: Float32Array, seed: number, stream: number, offset: number): void;
  uniforms(out: Float32Array, seed: number, stream: number, offset: number): void;
  gemm(...args: Parameters<Kernels['gemm']>): void;
  gemmAsync(...args: Parameters<Kernels['gemm']>): Promise<void>;
  svd(...args: Parameters<Kernels['svd']>): void;
  svdAsync(...args: Parameters<Kernels['svd']>): Promise<void>;
  eigh(...args: Parameters<Kernels['eigh']>): void;
  eighAsync(...args: Parameters<Kernels['eigh']>): Promise<void>;
  nearest(...args: Parameters<Kernels['nearest']>): void;
  nearestAsync(...args: Parameters<Kernels['nearest']>): Promise<void>;
  project(x: Float32Array, B: number, n: number, dims: Int32Array, U: Float32Array, P: Float32Array): void;
  gate(P: Float32Array, B: number, dims: Int32Array, bias: Float64Array, phi: Float64Array, w: Float32Array): void;
  denoise(...args: DenoiseArgs): void;
  denoiseAsync(...args: DenoiseArgs): Promise<void>;
  lossGrad(...args: LossGradArgs): number;
  lossGradAsync(...args: LossGradArgs): Promise<number>;
  stiefelStep(n: number, dims: Int32Array, U: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array,
    t: number, method: string, lr: number, momentum: number, beta1: number, beta2: number, eps: number,
    retraction: string): void;
  trainSteps(data: Float32Array, N: number, index: Int32Array, seed: number, stream: number, offset: number, B: number,
    T: number, s: Float32Array, sigma: Float32Array, weight: Float32Array, n: number, dims: Int32Array, U: Float32Array, logPi: Float64Array, lambda: Float64Array,
    delta: number, grad: Float32Array, m: Float32Array, v: Float32Array, t: number, method: string,
    momentum: number, beta1: number, beta2: number, adamEps: number, retraction: string, lr: Float64Array,
    losses: Float64Array): number;
  retract(n: number, dims: Int32Array, U: Float32Array, method: string): void;
}

type DenoiseArgs = [x: Float32Array, B: number, n: number, dims: Int32Array, U: Float32Array,
  logPi: Float64Array, lambda: Float64Array, delta: number, s: Float32Array, sigma: Float32Array,
  out: Float32Array, w: Float32Array | undefined];
type LossGradArgs = [x0: Float32Array, eps: Float32Array, B: number, s: Float32Array, sigma: Float32Array,
  weight: Float32Array, n: number, dims: Int32Array, U: Float32Array, logPi: Float64Array,
  lambda: Float64Array, delta: number, grad: Float32Array];

const REQUIRED: readonly (keyof Binding)[] = [
  'isa', 'isas', 'setIsa', 'threads', 'setThreads', 'philox', 'randomU32', 'normals', 'uniforms', 'gemm',
  'gemmAsync', 'svd', 'svdAsync', 'eigh', 'eighAsync', 'nearest', 'nearestAsync', 'project', 'gate', 'denoise',
  'denoiseAsync', 'lossGrad', 'lossGradAsync', 'stiefelStep', 'trainSteps', 'retract',
];

/** The directory of this package: the nearest ancestor with a package.json (from src/ or dist/). */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'molrg') return dir;
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    if (dirname(dir) === dir) return join(__dirname, '..', '..');
  }
}

/** The platform key of a prebuilt binary: os, arch, libc. */
function platformKey(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const libc = process.platform !== 'linux' ? '' : report?.header?.glibcVersionRuntime ? '-glibc' : '-musl';
  return `${process.platform}-${process.arch}${libc}`;
}

let binding: Binding | undefined;

function load(): Binding {
  if (binding) return binding;
  const root = packageRoot();
  // MOLRG_NATIVE_PATH: load this molrg.node instead (e.g. the sanitizer build of test/sanitizers.test.ts).
  const explicit = process.env.MOLRG_NATIVE_PATH;
  let b: Binding;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    b = (explicit ? require(resolve(explicit)) : nodeGypBuild(root)) as Binding;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (explicit) throw new Error(`molrg: the native addon MOLRG_NATIVE_PATH=${explicit} could not be loaded: ${why}`, { cause: e });
    throw new Error(
      `molrg: the native addon could not be loaded on ${platformKey()} (node ${process.version}, ` +
      `N-API ${process.versions.napi}, ABI ${process.versions.modules}). Tried ${join(root, 'build', 'Release', 'molrg.node')}, ` +
      `${join(root, 'build', 'Debug', 'molrg.node')} and ${join(root, 'prebuilds', `${process.platform}-${process.arch}`)}/: ${why}. ` +
      'Remedy: build it with `npm run build:native` (node-gyp: python3, make and a C++17 compiler) or ' +
      '`npm run build:cmake` (cmake-js), or use MOLRG_BACKEND=wasm.',
      { cause: e });
  }
  const missing = REQUIRED.filter((name) => typeof b[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`molrg: the native addon loaded from ${root} is stale (missing ${missing.join(', ')}); ` +
      'rebuild it with `npm run build:native`.');
  }
  binding = b;
  return b;
}

/** The ISAs the native kernels can use on this machine (capped by MOLRG_MAX_ISA), lowest first. */
export function nativeIsas(): string[] {
  return load().isas();
}

/** Selects the native ISA (`scalar`, `avx2`, `avx512`); throws a RangeError if unavailable. */
export function setNativeIsa(isa: string): void {
  load().setIsa(isa);
}

/** Sets the native thread count (1..256; results do not depend on it). */
export function setNativeThreads(n: number): void {
  load().setThreads(n);
}

function own(bases: Bases): ArrayBases {
  if (!(bases instanceof ArrayBases)) {
    throw new TypeError('Expected bases created by createBases of the native or js backend for bases but received another object');
  }
  return bases;
}

function denoiseArgs(x: Float32Array, B: number, bases: Bases, prior: Prior, s: Float32Array, sigma: Float32Array,
  out: Float32Array, w: Float32Array | undefined): DenoiseArgs {
  const b = own(bases);
  return [x, B, b.n, b.dims, b.U, prior.logPi, prior.lambda, prior.delta, s, sigma, out, w];
}

function lossGradArgs(x0: Float32Array, eps: Float32Array, B: number, s: Float32Array, sigma: Float32Array,
  weight: Float32Array, bases: Bases, prior: Prior): LossGradArgs {
  const b = own(bases);
  return [x0, eps, B, s, sigma, weight, b.n, b.dims, b.U, prior.logPi, prior.lambda, prior.delta, b.grad];
}

/** Loads the addon and returns its kernels; throws an Error with a diagnosis if it cannot load. */
export function loadNative(): Kernels {
  const nb = load();
  const async: AsyncKernels = {
    gemm: (...a) => nb.gemmAsync(...a),
    svd: (...a) => nb.svdAsync(...a),
    eigh: (...a) => nb.eighAsync(...a),
    nearest: (...a) => nb.nearestAsync(...a),
    denoise: async (x, B, bases, prior, s, sigma, out, w) =>
      nb.denoiseAsync(...denoiseArgs(x, B, bases, prior, s, sigma, out, w)),
    lossGrad: async (x0, eps, B, s, sigma, weight, bases, prior) =>
      nb.lossGradAsync(...lossGradArgs(x0, eps, B, s, sigma, weight, bases, prior)),
  };
  return {
    info: (): KernelInfo => ({ backend: 'native', isa: nb.isa(), threads: nb.threads() }),
    philox: (counters, key, out) => nb.philox(counters, key, out),
    randomU32: (out, seed, stream, offset) => nb.randomU32(out, seed, stream, offset),
    normals: (out, seed, stream, offset) => nb.normals(out, seed, stream, offset),
    uniforms: (out, seed, stream, offset) => nb.uniforms(out, seed, stream, offset),
    gemm: (...a) => nb.gemm(...a),
    svd: (...a) => nb.svd(...a),
    eigh: (...a) => nb.eigh(...a),
    nearest: (...a) => nb.nearest(...a),
    createBases: (n, dims, U) => new ArrayBases(n, dims, U),
    retract: (bases, method) => {
      const b = own(bases);
      nb.retract(b.n, b.dims, b.U, method);
    },
    project: (x, B, bases, P) => {
      const b = own(bases);
      nb.project(x, B, b.n, b.dims, b.U, P);
    },
    gate: (P, B, dims, bias, phi, w) => nb.gate(P, B, dims, bias, phi, w),
    denoise: (x, B, bases, prior, s, sigma, out, w) => nb.denoise(...denoiseArgs(x, B, bases, prior, s, sigma, out, w)),
    lossGrad: (x0, eps, B, s, sigma, weight, bases, prior) =>
      nb.lossGrad(...lossGradArgs(x0, eps, B, s, sigma, weight, bases, prior)),
    stiefelStep: (bases: Bases, o: StiefelOptions) => {
      const b = own(bases);
      const t = o.method === 'adam' ? b.t + 1 : Math.max(b.t, 1);
      nb.stiefelStep(b.n, b.dims, b.U, b.grad, b.m, b.v, t, o.method, o.lr, o.momentum, o.beta1, o.beta2, o.eps,
        o.retraction);
      if (o.method === 'adam') b.t = t;
    },
    trainSteps: (data, N, index, noise, B, T, s, sigma, weight, bases, prior, o, lr, losses) => {
      const b = own(bases);
      const done = nb.trainSteps(data, N, index, noise.seed, noise.stream, noise.offset, B, T, s, sigma, weight, b.n, b.dims, b.U, prior.logPi, prior.lambda,
        prior.delta, b.grad, b.m, b.v, b.t, o.method, o.momentum, o.beta1, o.beta2, o.eps, o.retraction, lr, losses);
      if (o.method === 'adam') for (let t = 0; t < done; t++) if (lr[t] > 0) b.t++;
      return done;
    },
    async,
  };
}
