/**
 * Argument checks for the kernel contract, done once in TypeScript before anything crosses into
 * native or wasm code. One message form everywhere (sharp's lib/is): `Expected <what> for <argument>
 * but received <value>`. Shapes and types throw TypeError/RangeError; NaN/Inf names the first bad index.
 */
import type { AsyncKernels, Bases, Kernels, NoiseWindow, Prior, StiefelOptions } from './types.js';

/** Short human description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) {
    const len = (value as unknown as { length?: number }).length;
    return `${value.constructor.name} of length ${len ?? value.byteLength}`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}

/** Throws `Expected <what> for <name> but received <value>` with the given class. */
export function fail(what: string, name: string, value: unknown, Kind: ErrorConstructor = RangeError): never {
  throw new Kind(`Expected ${what} for ${name} but received ${describe(value)}`);
}

/** An integer in [min, max]. */
export function int(name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') fail(`an integer in [${min}, ${max}]`, name, value, TypeError);
  if (!Number.isInteger(value) || value < min || value > max) fail(`an integer in [${min}, ${max}]`, name, value);
  return value;
}

/** A size or count handed to the kernels: an integer in [min, 2^31 - 1] (int32 in native and wasm). */
export function dim(name: string, value: unknown, min = 0): number {
  return int(name, value, min, 2 ** 31 - 1);
}

/** A finite number, optionally bounded (exclusive lower bound when `open`). */
export function finite(name: string, value: unknown, min = -Infinity, max = Infinity, open = false): number {
  if (typeof value !== 'number') fail('a finite number', name, value, TypeError);
  if (!Number.isFinite(value) || (open ? value <= min : value < min) || value > max) {
    // The message is built on failure only: callers check numbers in per-step loops.
    fail(min === -Infinity && max === Infinity ? 'a finite number' : `a finite number in ${open ? '(' : '['}${min}, ${max}]`, name, value);
  }
  return value;
}

type ArrayKind = typeof Float32Array | typeof Float64Array | typeof Int32Array | typeof Uint32Array;

/** A typed array of the given class and exact length. */
export function array<T extends ArrayKind>(name: string, value: unknown, Kind: T, length: number, shape: string): InstanceType<T> {
  if (!(value instanceof Kind)) fail(`a ${Kind.name} ${shape}`, name, value, TypeError);
  if (value.length !== length) fail(`a ${Kind.name} ${shape} of length ${length}`, name, value);
  return value as InstanceType<T>;
}

/** An array (or Float32Array / Float64Array) of finite numbers, of the given length when given. */
export function finiteList(name: string, value: unknown, length?: number): ArrayLike<number> {
  if (!Array.isArray(value) && !(value instanceof Float32Array) && !(value instanceof Float64Array)) {
    fail('an array of numbers', name, value, TypeError);
  }
  const a = value as ArrayLike<number>;
  if (length !== undefined && a.length !== length) fail(`an array of ${length} numbers`, name, value);
  for (let i = 0; i < a.length; i++) finite(`${name}[${i}]`, a[i]);
  return a;
}

/** Every element finite; the message names the first bad index. */
export function allFinite(name: string, a: Float32Array | Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new RangeError(`Expected finite values for ${name} but received ${a[i]} at index ${i}`);
    }
  }
}

/**
 * A loss within the float64 range: losses are sums of float32 products, and an overflow there is an
 * error that says so, never a silent Infinity / NaN (docs/kernels.md, "Extreme scales").
 */
export function finiteLoss(name: string, loss: number): number {
  if (!Number.isFinite(loss)) {
    throw new RangeError(`Expected data whose diffusion loss is finite for ${name} but received a loss of ${loss} (the loss overflowed float32; rescale the data, see docs/kernels.md "Extreme scales")`);
  }
  return loss;
}

/**
 * Sum in float64: it cannot overflow for float32 values, and any NaN / Infinity makes it non-finite
 * (four partial sums: independent adds, not one dependency chain).
 */
function sumOf(G: Float32Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
  for (; i + 3 < G.length; i += 4) { s0 += G[i]; s1 += G[i + 1]; s2 += G[i + 2]; s3 += G[i + 3]; }
  for (; i < G.length; i++) s0 += G[i];
  return s0 + s1 + s2 + s3;
}

/** The buffer `finiteGradient` reads gradients into (reused: a per-step check allocates nothing). */
let gradScratch = new Float32Array(0);

/**
 * The loss and the gradient `lossGrad` left in `bases` both finite. A non-finite gradient would make
 * `stiefelStep` retract its block to the deterministic completion e_1..e_d, silently: the validated
 * `lossGrad` and `stiefelStep` check it here first; `trainSteps` checks inside the kernel and, where
 * it stopped, the validated form and the trainer report it here.
 * Cost: one copy and one summing pass over the n x D gradient, against the B n D multiply-adds of
 * the lossGrad that wrote it (measured 2-7 % of a lossGrad at B = 64, see docs/kernels.md).
 */
export function finiteGradient(name: string, bases: Bases, loss: number): number {
  finiteLoss(name, loss);
  if (gradScratch.length !== bases.n * bases.D) gradScratch = new Float32Array(bases.n * bases.D);
  const G = bases.readGrad(gradScratch);
  if (Number.isFinite(sumOf(G))) return loss;
  const bad = G.findIndex((g) => !Number.isFinite(g));
  throw new RangeError(`Expected data whose loss gradient is finite for ${name} but received ${G[bad]} at gradient index ${bad} (the gradient overflowed float32; rescale the data, see docs/kernels.md "Extreme scales")`);
}

/** Every element finite and > 0 (or >= 0 when `orZero`). */
function allPositive(name: string, a: Float32Array | Float64Array, orZero = false): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v) || (orZero ? v < 0 : v <= 0)) {
      throw new RangeError(`Expected finite values ${orZero ? '>= 0' : '> 0'} for ${name} but received ${v} at index ${i}`);
    }
  }
}

/** Product of sizes that must stay addressable (2^31 - 1 elements, the typed-array and wasm limit). */
export function size(name: string, ...dims: number[]): number {
  const total = dims.reduce((a, b) => a * b, 1);
  if (total > 2 ** 31 - 1) fail('a total size below 2^31 elements', name, total);
  return total;
}

/** dims [K]: K >= 1, each 1 <= d_k <= n. Returns D. */
export function dimsOf(name: string, dims: unknown, n: number): number {
  if (!(dims instanceof Int32Array)) fail('an Int32Array [K] of column counts', name, dims, TypeError);
  if (dims.length < 1) fail('at least one component (K >= 1)', name, dims);
  let D = 0;
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] < 1 || dims[k] > n) {
      throw new RangeError(`Expected 1 <= d_k <= n = ${n} for ${name} but received d_${k} = ${dims[k]}`);
    }
    D += dims[k];
  }
  return D;
}

function basesOf(name: string, bases: unknown): Bases {
  if (typeof bases !== 'object' || bases === null || typeof (bases as Bases).read !== 'function') {
    fail('a Bases object from createBases', name, bases, TypeError);
  }
  return bases as Bases;
}

function priorOf(name: string, prior: unknown, K: number): Prior {
  if (typeof prior !== 'object' || prior === null) fail('a prior { logPi, lambda, delta }', name, prior, TypeError);
  const p = prior as Prior;
  array(`${name}.logPi`, p.logPi, Float64Array, K, '[K]');
  for (let k = 0; k < K; k++) {
    if (!(p.logPi[k] <= 0) || Number.isNaN(p.logPi[k])) {
      throw new RangeError(`Expected log-probabilities (<= 0, -Infinity allowed) for ${name}.logPi but received ${p.logPi[k]} at index ${k}`);
    }
  }
  array(`${name}.lambda`, p.lambda, Float64Array, K, '[K]');
  allPositive(`${name}.lambda`, p.lambda);
  finite(`${name}.delta`, p.delta, 0);
  return p;
}

/** s [B] > 0 and sigma [B] > 0, finite (`shape`: how the caller names B). */
function noiseLevels(B: number, s: unknown, sigma: unknown, shape = '[B]'): void {
  allPositive('s', array('s', s, Float32Array, B, shape));
  allPositive('sigma', array('sigma', sigma, Float32Array, B, shape));
}

/** s, sigma > 0 and weight >= 0 `[rows]` (`shape`: how the caller names rows), and the prior. */
function levels(b: Bases, rows: number, shape: string, s: unknown, sigma: unknown, weight: unknown, prior: unknown): void {
  noiseLevels(rows, s, sigma, `[${shape}]`);
  allPositive('weight', array('weight', weight, Float32Array, rows, `[${shape}]`), true);
  priorOf('prior', prior, b.K);
}

/**
 * The draws of trainSteps: `data [N, n]` (finite where `index` points), `index [rows]` in [0, N), a
 * noise window of rows n normals.
 */
function trainDraws(b: Bases, rows: number, data: unknown, N: unknown, index: unknown, noise: unknown): void {
  const nN = dim('N', N, 1), n = b.n;
  const X = array('data', data, Float32Array, size('data', nN, n), '[N, n]');
  const idx = array('index', index, Int32Array, rows, '[T B]');
  for (let j = 0; j < rows; j++) {
    const i = idx[j];
    if (i < 0 || i >= nN) throw new RangeError(`Expected sample indices in [0, ${nN}) for index but received ${i} at index ${j}`);
    for (let c = i * n; c < (i + 1) * n; c++) {
      if (!Number.isFinite(X[c])) throw new RangeError(`Expected finite values for data but received ${X[c]} at index ${c} (row ${i})`);
    }
  }
  if (typeof noise !== 'object' || noise === null) fail('a noise window { seed, stream, offset }', 'noise', noise, TypeError);
  const w = noise as NoiseWindow;
  randomArgs(w.seed, w.stream, w.offset, rows * n, 'noise.');
}

/** Stiefel options; `options.lr` is checked when `withLr` (trainSteps takes one per step instead). */
function stiefelOptions(o: unknown, withLr = true): StiefelOptions {
  if (typeof o !== 'object' || o === null) fail('an options object', 'options', o, TypeError);
  const opt = o as StiefelOptions;
  if (opt.method !== 'sgd' && opt.method !== 'adam') fail("'sgd' or 'adam'", 'options.method', opt.method);
  if (opt.retraction !== 'qr' && opt.retraction !== 'polar') fail("'qr' or 'polar'", 'options.retraction', opt.retraction);
  if (withLr) finite('options.lr', opt.lr, 0, Infinity, true);
  finite('options.momentum', opt.momentum, 0, 1);
  if (opt.momentum >= 1) fail('a number in [0, 1)', 'options.momentum', opt.momentum);
  finite('options.beta1', opt.beta1, 0, 1);
  if (opt.beta1 >= 1) fail('a number in [0, 1)', 'options.beta1', opt.beta1);
  finite('options.beta2', opt.beta2, 0, 1);
  if (opt.beta2 >= 1) fail('a number in [0, 1)', 'options.beta2', opt.beta2);
  finite('options.eps', opt.eps, 0, Infinity, true);
  return opt;
}

function randomArgs(seed: unknown, stream: unknown, offset: unknown, count: number, prefix = ''): void {
  int(`${prefix}seed`, seed, 0, 2 ** 53 - 1);
  int(`${prefix}stream`, stream, 0, 2 ** 32 - 1);
  int(`${prefix}offset`, offset, 0, 2 ** 53 - 1 - count);
}

/** Checks of each kernel's arguments, shared by the sync and async forms. */
const check = {
  gemm(tA: unknown, tB: unknown, m: unknown, n: unknown, k: unknown, alpha: unknown, A: unknown, B: unknown, beta: unknown, C: unknown): void {
    if (typeof tA !== 'boolean') fail('a boolean', 'transA', tA, TypeError);
    if (typeof tB !== 'boolean') fail('a boolean', 'transB', tB, TypeError);
    const M = dim('m', m), N = dim('n', n), Kd = dim('k', k);
    finite('alpha', alpha);
    finite('beta', beta);
    allFinite('A', array('A', A, Float32Array, size('A', M, Kd), tA ? '[k, m]' : '[m, k]'));
    allFinite('B', array('B', B, Float32Array, size('B', Kd, N), tB ? '[n, k]' : '[k, n]'));
    const c = array('C', C, Float32Array, size('C', M, N), '[m, n]');
    if (beta !== 0) allFinite('C', c);
  },
  svd(A: unknown, batch: unknown, m: unknown, n: unknown, r: unknown, U: unknown, S: unknown, V: unknown): void {
    const b = dim('batch', batch), M = dim('m', m, 1), N = dim('n', n, 1);
    const R = int('r', r, 1, Math.min(M, N));
    allFinite('A', array('A', A, Float32Array, size('A', b, M, N), '[batch, m, n]'));
    array('U', U, Float32Array, size('U', b, M, R), '[batch, m, r]');
    array('S', S, Float32Array, size('S', b, R), '[batch, r]');
    array('V', V, Float32Array, size('V', b, N, R), '[batch, n, r]');
  },
  eigh(A: unknown, batch: unknown, n: unknown, values: unknown, vectors: unknown): void {
    const b = dim('batch', batch), N = dim('n', n, 1);
    allFinite('A', array('A', A, Float32Array, size('A', b, N, N), '[batch, n, n]'));
    array('values', values, Float32Array, size('values', b, N), '[batch, n]');
    array('vectors', vectors, Float32Array, size('vectors', b, N, N), '[batch, n, n]');
  },
  nearest(queries: unknown, M: unknown, refs: unknown, N: unknown, n: unknown, index: unknown, dist: unknown): void {
    const m = dim('M', M), R = dim('N', N, 1), c = dim('n', n, 1);
    allFinite('queries', array('queries', queries, Float32Array, size('queries', m, c), '[M, n]'));
    allFinite('refs', array('refs', refs, Float32Array, size('refs', R, c), '[N, n]'));
    array('index', index, Int32Array, m, '[M]');
    array('dist', dist, Float32Array, m, '[M]');
  },
  denoise(x: unknown, B: unknown, bases: unknown, prior: unknown, s: unknown, sigma: unknown, out: unknown, w: unknown): void {
    const b = basesOf('bases', bases), nb = dim('B', B);
    allFinite('x', array('x', x, Float32Array, size('x', nb, b.n), '[B, n]'));
    priorOf('prior', prior, b.K);
    noiseLevels(nb, s, sigma);
    array('out', out, Float32Array, nb * b.n, '[B, n]');
    if (w !== undefined) array('w', w, Float32Array, nb * b.K, '[B, K]');
  },
  lossGrad(x0: unknown, eps: unknown, B: unknown, s: unknown, sigma: unknown, weight: unknown, bases: unknown, prior: unknown): void {
    const b = basesOf('bases', bases), nb = dim('B', B);
    allFinite('x0', array('x0', x0, Float32Array, size('x0', nb, b.n), '[B, n]'));
    allFinite('eps', array('eps', eps, Float32Array, nb * b.n, '[B, n]'));
    levels(b, nb, 'B', s, sigma, weight, prior);
  },
  trainSteps(data: unknown, N: unknown, index: unknown, noise: unknown, B: unknown, T: unknown, s: unknown, sigma: unknown,
    weight: unknown, bases: unknown, prior: unknown, options: unknown, lr: unknown, losses: unknown): void {
    const b = basesOf('bases', bases), nt = dim('T', T), rows = size('index', dim('B', B), nt, b.n) / b.n;
    trainDraws(b, rows, data, N, index, noise);
    levels(b, rows, 'T B', s, sigma, weight, prior);
    stiefelOptions(options, false);
    allPositive('lr', array('lr', lr, Float64Array, nt, '[T]'), true);
    array('losses', losses, Float64Array, nt, '[T]');
  },
};

/**
 * Wraps a backend so that every call validates its arguments first. The raw backend stays
 * reachable for internal callers that validated at their own API boundary.
 */
export function validated(k: Kernels): Kernels {
  const async: AsyncKernels = {
    gemm: (...a) => { check.gemm(...a); return k.async.gemm(...a); },
    svd: (...a) => { check.svd(...a); return k.async.svd(...a); },
    eigh: (...a) => { check.eigh(...a); return k.async.eigh(...a); },
    nearest: (...a) => { check.nearest(...a); return k.async.nearest(...a); },
    denoise: (...a) => { check.denoise(...a); return k.async.denoise(...a); },
    lossGrad: (...a) => { check.lossGrad(...a); return k.async.lossGrad(...a).then((L) => finiteGradient('x0', a[6], L)); },
  };
  return {
    info: () => k.info(),
    philox(counters, key, out) {
      if (!(counters instanceof Uint32Array) || counters.length % 4 !== 0) {
        fail('a Uint32Array [M, 4]', 'counters', counters, TypeError);
      }
      array('key', key, Uint32Array, 2, '[2]');
      array('out', out, Uint32Array, counters.length, '[M, 4]');
      k.philox(counters, key, out);
    },
    randomU32(out, seed, stream, offset) {
      if (!(out instanceof Uint32Array)) fail('a Uint32Array', 'out', out, TypeError);
      randomArgs(seed, stream, offset, out.length);
      k.randomU32(out, seed, stream, offset);
    },
    normals(out, seed, stream, offset) {
      if (!(out instanceof Float32Array)) fail('a Float32Array', 'out', out, TypeError);
      randomArgs(seed, stream, offset, out.length);
      k.normals(out, seed, stream, offset);
    },
    uniforms(out, seed, stream, offset) {
      if (!(out instanceof Float32Array)) fail('a Float32Array', 'out', out, TypeError);
      randomArgs(seed, stream, offset, out.length);
      k.uniforms(out, seed, stream, offset);
    },
    gemm(...a) { check.gemm(...a); k.gemm(...a); },
    svd(...a) { check.svd(...a); k.svd(...a); },
    eigh(...a) { check.eigh(...a); k.eigh(...a); },
    nearest(...a) { check.nearest(...a); k.nearest(...a); },
    createBases(n, dims, U) {
      const nn = dim('n', n, 1);
      const D = dimsOf('dims', dims, nn);
      if (U !== undefined) allFinite('U', array('U', U, Float32Array, size('U', nn, D), '[n, D]'));
      return k.createBases(nn, dims, U);
    },
    retract(bases, method) {
      basesOf('bases', bases);
      if (method !== 'qr' && method !== 'polar') fail("'qr' or 'polar'", 'method', method);
      k.retract(bases, method);
    },
    project(x, B, bases, P) {
      const b = basesOf('bases', bases), nb = dim('B', B);
      allFinite('x', array('x', x, Float32Array, size('x', nb, b.n), '[B, n]'));
      array('P', P, Float32Array, nb * b.D, '[B, D]');
      k.project(x, B, bases, P);
    },
    gate(P, B, dims, bias, phi, w) {
      const nb = dim('B', B);
      if (!(dims instanceof Int32Array) || dims.length < 1) fail('an Int32Array [K], K >= 1', 'dims', dims, TypeError);
      let D = 0;
      for (let i = 0; i < dims.length; i++) {
        if (dims[i] < 1) throw new RangeError(`Expected d_k >= 1 for dims but received d_${i} = ${dims[i]}`);
        D += dims[i];
      }
      allFinite('P', array('P', P, Float32Array, size('P', nb, D), '[B, D]'));
      allFinite('bias', array('bias', bias, Float64Array, nb * dims.length, '[B, K]'));
      allPositive('phi', array('phi', phi, Float64Array, nb * dims.length, '[B, K]'), true);
      array('w', w, Float32Array, nb * dims.length, '[B, K]');
      k.gate(P, B, dims, bias, phi, w);
    },
    denoise(...a) { check.denoise(...a); k.denoise(...a); },
    lossGrad(...a) { check.lossGrad(...a); return finiteGradient('x0', a[6], k.lossGrad(...a)); },
    stiefelStep(bases, options) {
      finiteGradient('bases', basesOf('bases', bases), 0);
      k.stiefelStep(bases, stiefelOptions(options));
    },
    trainSteps(...a) {
      check.trainSteps(...a);
      const done = k.trainSteps(...a);
      if (done < a[5]) finiteGradient('data', a[9], a[13][done]);
      return done;
    },
    async,
  };
}
