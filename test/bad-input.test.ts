/**
 * The bad-input matrix (issue 7): every public function of src/index.ts against every class of bad
 * input that applies to each of its arguments. Each (function, argument, class) case must throw (or
 * reject with) the documented error class (TypeError for a wrong type, RangeError for a wrong value,
 * length, shape or size) with a message in the library's dialect that names the argument
 * (`Expected <what> for <argument> but received <value>`), and leave the caller's arrays and objects
 * unchanged. The cases are generated from a table (function x argument kind x bad-input class), and
 * the number of (function, input) pairs tried is printed at the end (it goes in the README).
 *
 * Message details of the kernel facade (shapes, first bad index, ranges) are in test/validate.test.ts;
 * damaged files (truncated, bit-flipped, huge claims) in test/io.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as molrg from '../src/index.js';
import { type Matrix, matrix, MoLRG } from '../src/index.js';
import { prior, randomBases } from './util.js';

type ErrorClass = ErrorConstructor | readonly ErrorConstructor[];

/** One class of bad input: its name, the bad value (from the valid one), the error class expected. */
interface Bad {
  readonly cls: string;
  readonly make: (valid: unknown) => unknown;
  readonly error: ErrorClass;
}

const type = (cls: string, value: unknown): Bad => ({ cls, make: () => value, error: TypeError });
const range = (cls: string, value: unknown): Bad => ({ cls, make: () => value, error: RangeError });
const derived = (cls: string, make: (valid: never) => unknown, error: ErrorClass = RangeError): Bad => ({ cls, make: make as (v: unknown) => unknown, error });

// ---- argument kinds and the bad-input classes that apply to each ------------------------------------

/** An integer count or size; `alloc`: it sizes an allocation, so 2^31 must be rejected up front. */
function count(min = 0, alloc = false): Bad[] {
  return [
    type('wrong type', '3'), range('NaN', NaN), range('Infinity', Infinity), range('negative', -1),
    range('fractional', 1.5), range('huge (1e300)', 1e300),
    ...(min >= 1 ? [range('zero', 0)] : []),
    ...(alloc ? [range('huge (2^31)', 2 ** 31)] : []),
  ];
}

/** A finite number with out-of-range examples. */
function num(outside: number[]): Bad[] {
  return [type('wrong type', '1'), range('NaN', NaN), range('Infinity', Infinity), ...outside.map((v) => range(`out of range (${v})`, v))];
}
const positive = (): Bad[] => num([0, -1]);
const seed = (): Bad[] => [type('wrong type', '1'), range('NaN', NaN), range('negative', -1), range('fractional', 1.5), range('huge (2^53)', 2 ** 53)];
/** A name from a fixed set: anything else is a value outside the set (RangeError; a TypeError is accepted for a non-string). */
const oneOf = (): Bad[] => [range('unknown name', 'bogus'), derived('wrong type', () => 42, [TypeError, RangeError])];
const fn = (): Bad[] => [type('wrong type', 42)];
const signal = (): Bad[] => [type('wrong type', 'abort')];
const options = (): Bad[] => [type('wrong type', 'abc'), type('null', null)];
const path = (): Bad[] => [type('wrong type', 42), type('empty path', '')];
const bytes = (): Bad[] => [type('wrong type', 'abc'), type('plain array', [1, 2, 3])];

function scaledData(m: Matrix, set: (d: Float32Array) => void): Matrix {
  const data = m.data.slice();
  set(data);
  return { rows: m.rows, cols: m.cols, data };
}

/**
 * A data matrix. `shaped`: its columns must match another argument; `minRows`: the least number of
 * rows (empty data is bad when >= 1); `few`: a matrix with too few rows for K (K larger than the data).
 */
function mat(o: { shaped?: boolean; minRows?: number; few?: Matrix } = {}): Bad[] {
  return [
    type('wrong type', 'abc'), type('null', null),
    derived('plain-array data', (m: Matrix) => ({ rows: m.rows, cols: m.cols, data: Array.from(m.data) }), TypeError),
    derived('wrong length', (m: Matrix) => ({ rows: m.rows, cols: m.cols, data: m.data.slice(1) })),
    derived('NaN entry', (m: Matrix) => scaledData(m, (d) => { d[d.length - 1] = NaN; })),
    derived('Infinity entry', (m: Matrix) => scaledData(m, (d) => { d[0] = -Infinity; })),
    ...(o.shaped ? [derived('mismatched shape', (m: Matrix) => matrix(m.rows, m.cols + 1))] : []),
    ...((o.minRows ?? 0) >= 1 ? [derived('empty data', (m: Matrix) => matrix(0, m.cols))] : []),
    ...(o.few ? [range('K larger than the data', o.few)] : []),
  ];
}

/** A list of K orthonormal bases. `shaped`: their ambient dimension must match another argument. */
function basesList(o: { shaped?: boolean } = {}): Bad[] {
  return [
    type('wrong type', 'abc'), type('empty list', []),
    derived('non-orthonormal', (b: Matrix[]) => b.map((m) => scaledData(m, (d) => d.forEach((v, i) => { d[i] = 2 * v; })))),
    derived('NaN entry', (b: Matrix[]) => b.map((m) => scaledData(m, (d) => { d[0] = NaN; }))),
    derived('wrong length', (b: Matrix[]) => b.map((m) => ({ rows: m.rows, cols: m.cols, data: m.data.slice(1) }))),
    derived('d_k > n', (b: Matrix[]) => [matrix(b[0].rows, b[0].rows + 1), ...b.slice(1)]),
    ...(o.shaped ? [derived('mismatched shape', (b: Matrix[]) => b.map((m) => firstColumns(m.rows + 1, m.cols)))] : []),
  ];
}

/** One orthonormal basis `[n, d]`. */
function basis(o: { shaped?: boolean } = {}): Bad[] {
  return [
    type('wrong type', 'abc'),
    derived('non-orthonormal', (m: Matrix) => scaledData(m, (d) => d.forEach((v, i) => { d[i] = 2 * v; }))),
    derived('NaN entry', (m: Matrix) => scaledData(m, (d) => { d[0] = NaN; })),
    derived('wrong length', (m: Matrix) => ({ rows: m.rows, cols: m.cols, data: m.data.slice(1) })),
    ...(o.shaped ? [derived('mismatched shape', (m: Matrix) => firstColumns(m.rows + 1, m.cols))] : []),
  ];
}

/** An array of numbers (or a Float32Array) with a required length. */
function numbers(o: { length?: boolean; entries?: 'finite' | 'integer' | 'positive' } = {}): Bad[] {
  const out: Bad[] = [type('wrong type', 'abc')];
  if (o.length) out.push(derived('wrong length', (a: number[]) => [...a, ...a]));
  if (o.entries) out.push(derived('NaN entry', (a: number[]) => [NaN, ...Array.from(a).slice(1)]));
  if (o.entries === 'integer') out.push(derived('fractional entry', (a: number[]) => [0.5, ...Array.from(a).slice(1)]));
  if (o.entries === 'positive') out.push(derived('zero entry', (a: number[]) => [0, ...Array.from(a).slice(1)]));
  return out;
}

/** Per-row noise levels (`Levels`): a number or one per row, each > 0 and within float32. */
const levels = (): Bad[] => [
  ...positive(), range('beyond float32 (1e39)', 1e39), range('wrong length', [1]),
  range('zero entry', Array(12).fill(1).fill(0, 3, 4)), // one per row of the fixture x (12 rows)
];

/** A denoiser argument. */
const denoiserArg = (): Bad[] => [type('wrong type', 'abc'), type('not a denoiser', { denoise: 1 })];

/** The first d columns of the n x n identity: an orthonormal basis. */
function firstColumns(n: number, d: number): Matrix {
  const m = matrix(n, d);
  for (let j = 0; j < d; j++) m.data[j * d + j] = 1;
  return m;
}

// ---- fixtures -----------------------------------------------------------------------------------------

const n = 6, K = 2, d = 2;
const truth = new MoLRG({ n, K, d, seed: 1 });
const x = (): Matrix => truth.sample(12, 2).x;
const bases = (): Matrix[] => truth.bases.map((b) => ({ rows: b.rows, cols: b.cols, data: b.data.slice() }));
const aborted = (): AbortSignal => AbortSignal.abort();
const dir = join(tmpdir(), `molrg-bad-input-${process.pid}`);
const npyPath = join(dir, 'x.npy'), csvPath = join(dir, 'x.csv'), modelPath = join(dir, 'm.safetensors');

/** One argument slot: where it is in the argument list, the name errors must use, its bad classes. */
interface Slot {
  /** Path into the argument list: `[0]` (first argument) or `[1, 'K']` (field K of the second). */
  readonly at: readonly (number | string)[];
  /** Names accepted in the message (the argument, or what it feeds). */
  readonly names: readonly string[];
  readonly bads: readonly Bad[];
}

interface Entry {
  /** The function, e.g. `kSubspaces` or `exactDenoiser().denoise`. */
  readonly name: string;
  /** Valid arguments (fresh each call). */
  readonly args: () => unknown[];
  readonly call: (...args: never[]) => unknown;
  readonly slots: readonly Slot[];
}

const slot = (at: (number | string)[], names: string | string[], bads: Bad[]): Slot => ({ at, names: typeof names === 'string' ? [names] : names, bads });

const trainSlots = (): Slot[] => [
  slot([0], 'x', mat({ minRows: 1 })), slot([1], 'options', options()),
  slot([1, 'K'], 'K', count(1, true)), slot([1, 'd'], 'd', [...count(1), range('d > n', n + 1), derived('wrong length', () => [1, 1, 1])]),
  slot([1, 'steps'], 'steps', count()), slot([1, 'batch'], 'batch', count(1, true)), slot([1, 'lr'], 'lr', positive()),
  slot([1, 'optimizer'], 'optimizer', oneOf()), slot([1, 'momentum'], 'momentum', num([-0.1, 1])),
  slot([1, 'retraction'], 'retraction', oneOf()), slot([1, 'warmup'], 'warmup', count()),
  slot([1, 'init'], 'init', [...oneOf(), ...basesList({ shaped: true }).filter((b) => b.cls !== 'wrong type')]),
  slot([1, 'restarts'], 'restarts', count(1)), slot([1, 'seed'], 'seed', seed()),
  slot([1, 'schedule'], 'schedule', oneOf()), slot([1, 'weighting'], 'weighting', oneOf()),
  slot([1, 'pi'], ['pi', 'pi[0]'], [...numbers({ length: true, entries: 'finite' }), range('not summing to 1', [0.2, 0.2])]),
  slot([1, 'lambda'], ['lambda', 'lambda[0]'], [...positive(), derived('wrong length', () => [1, 1, 1])]),
  slot([1, 'delta'], 'delta', num([-1])), slot([1, 'evalSize'], 'evalSize', count(1).filter((b) => b.cls !== 'huge (1e300)')),
  slot([1, 'logEvery'], 'logEvery', count(1)), slot([1, 'onProgress'], 'onProgress', fn()), slot([1, 'signal'], 'signal', signal()),
];

const kssSlots = (): Slot[] => [
  slot([0], 'x', mat({ minRows: 1, few: matrix(1, n, new Float32Array(n).fill(1)) })), slot([1], 'options', options()),
  slot([1, 'K'], ['K', 'x'], count(1)), slot([1, 'd'], 'd', [...count(1), range('d > n', n + 1), derived('wrong length', () => [1, 1, 1])]),
  slot([1, 'init'], 'init', [...oneOf(), ...basesList({ shaped: true }).filter((b) => b.cls !== 'wrong type')]),
  slot([1, 'restarts'], 'restarts', count(1)), slot([1, 'maxIter'], 'maxIter', count(1)), slot([1, 'tol'], 'tol', num([-1, 2])),
  slot([1, 'seed'], 'seed', seed()), slot([1, 'neighbors'], 'neighbors', count(1)),
  slot([1, 'onProgress'], 'onProgress', fn()), slot([1, 'signal'], 'signal', signal()),
];

/** Denoiser methods: x `[B, n]`, sigma and s as `Levels`. */
function denoiserSlots(): Slot[] {
  return [slot([0], 'x', mat({ shaped: true })), slot([1], 'sigma', levels()), slot([2], 's', levels())];
}

const sweepSlots = (): Slot[] => [
  slot([0, 'seed'], 'seed', seed()), slot([0, 'workers'], 'workers', count(1)),
  slot([0, 'signal'], 'signal', signal()), slot([0, 'onProgress'], 'onProgress', fn()),
];

const exact = molrg.exactDenoiser(truth), dae = molrg.lowRankDAE(truth.bases), empirical = molrg.empiricalDenoiser(x());
const k = molrg.kernels();
const kb = k.createBases(4, Int32Array.of(2), randomBases(4, [2], 1));
const f32 = (len: number, v = 0): Float32Array => new Float32Array(len).fill(v);
const stiefel = { method: 'adam', lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' } as const;

/** Facade kernels: typed arrays must be of the right class and exact length, and finite where read. */
const typed = (o: { finite?: boolean } = {}): Bad[] => [
  type('wrong type', 'abc'), type('plain array', [0, 0, 0, 0]),
  derived('wrong length', (a: Float32Array) => a.slice(1)),
  ...(o.finite ? [derived('NaN entry', (a: Float32Array) => { const b = a.slice(); b[0] = NaN; return b; })] : []),
];

const TABLE: Entry[] = [
  // ---- backend ----
  { name: 'setBackend', args: () => ['js'], call: molrg.setBackend, slots: [slot([0], 'backend', oneOf())] },
  { name: 'backendKernels', args: () => ['js'], call: molrg.backendKernels, slots: [slot([0], 'name', oneOf())] },
  // ---- matrices ----
  {
    name: 'matrix', args: () => [2, 3, [1, 2, 3, 4, 5, 6]], call: molrg.matrix,
    slots: [slot([0], 'rows', count(0, true)), slot([1], 'cols', count(0, true)), slot([2], 'data', [type('wrong type', 'abc'), derived('wrong length', () => [1, 2])])],
  },
  { name: 'fromRows', args: () => [[[1, 2], [3, 4]]], call: molrg.fromRows, slots: [slot([0], ['rows', 'rows[1]'], [type('wrong type', 'abc'), derived('ragged rows', () => [[1, 2], [3]]), derived('non-array row', () => [[1, 2], 'ab'], [TypeError, RangeError])])] },
  {
    name: 'rowSlice', args: () => [x(), 0, 2], call: molrg.rowSlice,
    slots: [slot([0], 'm', [type('wrong type', 'abc')]), slot([1], 'i0', [...count(), range('past the end', 13)]), slot([2], 'i1', [...count(), range('past the end', 13)])],
  },
  // ---- models ----
  {
    name: 'new MoLRG (random bases)', args: () => [{ n, K, d, seed: 1, pi: [0.5, 0.5] }], call: (o: never) => new MoLRG(o),
    slots: [
      slot([0], 'options', options()), slot([0, 'n'], 'n', count(1, true)), slot([0, 'K'], 'K', count(1, true)),
      slot([0, 'd'], ['d', 'd[0]'], [...count(1), range('d > n', n + 1)]), slot([0, 'seed'], 'seed', seed()),
      slot([0, 'pi'], ['pi', 'pi[0]'], [...numbers({ length: true, entries: 'finite' }), range('not summing to 1', [0.2, 0.2])]),
      slot([0, 'lambda'], ['lambda', 'lambda[0]'], positive()), slot([0, 'delta'], 'delta', num([-1])),
      slot([0, 'orthogonal'], 'orthogonal', [type('wrong type', 'yes')]),
    ],
  },
  { name: 'new MoLRG (given bases)', args: () => [{ bases: bases() }], call: (o: never) => new MoLRG(o), slots: [slot([0, 'bases'], ['bases', 'bases[0]', 'bases[1]'], basesList())] },
  { name: 'MoLRG.sample', args: () => [4, 1], call: (N: never, s: never) => truth.sample(N, s), slots: [slot([0], 'N', count(0, true)), slot([1], 'seed', seed())] },
  {
    name: 'lowRankDAE', args: () => [bases(), { pi: [0.5, 0.5] }], call: molrg.lowRankDAE,
    slots: [slot([0], ['bases', 'bases[0]', 'bases[1]'], basesList()), slot([1], 'options', options()), slot([1, 'lambda'], ['lambda', 'lambda[0]'], positive()), slot([1, 'delta'], 'delta', num([-1])), slot([1, 'pi'], ['pi', 'pi[0]'], numbers({ length: true, entries: 'finite' }))],
  },
  { name: 'exactDenoiser', args: () => [truth], call: molrg.exactDenoiser, slots: [slot([0], 'model', [type('wrong type', 'abc'), type('plain object', { bases: truth.bases })])] },
  { name: 'empiricalDenoiser', args: () => [x()], call: molrg.empiricalDenoiser, slots: [slot([0], 'train', mat({ minRows: 1 }))] },
  { name: 'exactDenoiser().denoise', args: () => [x(), 1, 1], call: (a: never, b: never, c: never) => exact.denoise(a, b, c), slots: denoiserSlots() },
  { name: 'exactDenoiser().score', args: () => [x(), 1, 1], call: (a: never, b: never, c: never) => exact.score(a, b, c), slots: denoiserSlots() },
  { name: 'exactDenoiser().denoiseWithWeights', args: () => [x(), 1, 1], call: (a: never, b: never, c: never) => exact.denoiseWithWeights(a, b, c), slots: denoiserSlots() },
  { name: 'lowRankDAE().denoise', args: () => [x(), 1, 1], call: (a: never, b: never, c: never) => dae.denoise(a, b, c), slots: denoiserSlots() },
  { name: 'empiricalDenoiser().denoise', args: () => [x(), 1, 1], call: (a: never, b: never, c: never) => empirical.denoise(a, b, c), slots: denoiserSlots() },
  { name: 'empiricalDenoiser().score', args: () => [x(), 1, 1], call: (a: never, b: never, c: never) => empirical.score(a, b, c), slots: denoiserSlots() },
  {
    name: 'empiricalDenoiser().weights', args: () => [[1, 2, 3, 4, 5, 6], 1], call: (a: never, b: never) => empirical.weights(a, b),
    slots: [slot([0], 'x', [type('wrong type', 'abc'), derived('wrong length', () => [1, 2]), derived('NaN entry', () => [NaN, 1, 1, 1, 1, 1])]), slot([1], 'sigma', positive())],
  },
  // ---- schedules ----
  { name: 'lossWeight', args: () => ['edm', 1, 0.5], call: molrg.lossWeight, slots: [slot([0], 'weighting', oneOf()), slot([1], 'sigma', positive()), slot([2], 'sigmaData', positive())] },
  { name: 'schedule', args: () => ['ve'], call: molrg.schedule, slots: [slot([0], 'schedule', oneOf())] },
  {
    name: 'trainingLevels', args: () => ['ve', [0, 1], { s: f32(2), sigma: f32(2) }], call: molrg.trainingLevels,
    slots: [slot([0], 'schedule', oneOf()), slot([1], ['draws', 'draws[0]'], numbers({ entries: 'finite' })), slot([2], 'out', [type('wrong type', 'abc'), type('null', null)]),
      slot([2, 's'], 'out.s', typed()), slot([2, 'sigma'], 'out.sigma', typed())],
  },
  {
    name: 'learningRate', args: () => [0.01, 3, 100, 5], call: molrg.learningRate,
    slots: [slot([0], 'lr', positive()), slot([1], 't', count()), slot([2], 'steps', count(1)), slot([3], 'warmup', count())],
  },
  // ---- training ----
  { name: 'trainDAE', args: () => [x(), { K, d, steps: 2, batch: 4, init: bases(), pi: [0.5, 0.5] }], call: molrg.trainDAE, slots: trainSlots() },
  { name: 'trainDAESync', args: () => [x(), { K, d, steps: 2, batch: 4, init: bases(), pi: [0.5, 0.5] }], call: molrg.trainDAESync, slots: trainSlots() },
  { name: 'kSubspaces', args: () => [x(), { K, d, restarts: 1, init: bases() }], call: molrg.kSubspaces, slots: kssSlots() },
  { name: 'kSubspacesSync', args: () => [x(), { K, d, restarts: 1, init: bases() }], call: molrg.kSubspacesSync, slots: kssSlots() },
  {
    name: 'spectralClustering', args: () => [x(), { K }], call: molrg.spectralClustering,
    slots: [slot([0], 'x', mat({ minRows: 1, few: matrix(1, n, new Float32Array(n).fill(1)) })), slot([1], 'options', options()), slot([1, 'K'], ['K', 'x'], count(1)), slot([1, 'neighbors'], 'neighbors', count(1)), slot([1, 'seed'], 'seed', seed())],
  },
  // ---- sampling ----
  {
    name: 'edmSigmas', args: () => [4, 0.002, 80, 7], call: molrg.edmSigmas,
    slots: [slot([0], 'steps', count(1, true)), slot([1], 'sigmaMin', positive()), slot([2], 'sigmaMax', [...positive(), range('below sigmaMin', 0.001)]), slot([3], 'rho', positive())],
  },
  {
    name: 'sample', args: () => [exact, { count: 2, steps: 2, seed: 1 }], call: molrg.sample,
    slots: [
      slot([0], 'denoiser', denoiserArg()), slot([1], 'options', options()), slot([1, 'count'], 'count', count(1, true)),
      slot([1, 'steps'], 'steps', count(1, true)), slot([1, 'sampler'], 'sampler', oneOf()), slot([1, 'sigmaMin'], 'sigmaMin', positive()),
      slot([1, 'sigmaMax'], 'sigmaMax', positive()), slot([1, 'rho'], 'rho', positive()), slot([1, 'seed'], 'seed', seed()),
      slot([1, 'subspace'], 'subspace', [type('wrong type', 'yes')]), slot([1, 'onProgress'], 'onProgress', fn()), slot([1, 'signal'], 'signal', signal()),
    ],
  },
  // ---- metrics ----
  { name: 'principalAngles', args: () => [bases()[0], bases()[1]], call: molrg.principalAngles, slots: [slot([0], 'U', basis()), slot([1], 'V', basis({ shaped: true }))] },
  { name: 'subspaceDistance', args: () => [bases()[0], bases()[1]], call: molrg.subspaceDistance, slots: [slot([0], 'U', basis()), slot([1], 'V', basis({ shaped: true }))] },
  {
    name: 'w2', args: () => [bases()[0], bases()[1], 1], call: molrg.w2,
    slots: [slot([0], 'U', basis()), slot([1], 'V', [...basis({ shaped: true }), range('unequal dimension', firstColumns(n, 1))]), slot([2], 'lambda', positive())],
  },
  { name: 'hungarian', args: () => [[[1, 2], [3, 4]]], call: molrg.hungarian, slots: [slot([0], ['cost', 'cost[0]', 'cost[1]', 'cost[0][0]'], [type('wrong type', 'abc'), derived('ragged rows', () => [[1, 2], [3]], [TypeError, RangeError]), range('NaN entry', [[NaN, 2], [3, 4]])])] },
  {
    name: 'matchSubspaces', args: () => [bases(), bases()], call: molrg.matchSubspaces,
    slots: [slot([0], ['learned', 'learned[0]', 'learned[1]'], basesList({ shaped: true })), slot([1], ['truth', 'truth[0]', 'truth[1]'], basesList())],
  },
  { name: 'clusteringAccuracy', args: () => [[0, 1, 1], [1, 0, 0]], call: molrg.clusteringAccuracy, slots: [slot([0], 'labels', numbers({ length: true, entries: 'integer' })), slot([1], 'truth', [...numbers({ entries: 'integer' }), range('empty', [])])] },
  {
    name: 'jacobian', args: () => [exact, [1, 2, 3, 4, 5, 6], 1], call: molrg.jacobian,
    slots: [slot([0], 'denoiser', denoiserArg()), slot([1], 'x', [type('wrong type', 'abc'), derived('wrong length', () => [1, 2]), derived('NaN entry', () => [NaN, 1, 1, 1, 1, 1])]), slot([2], 'sigma', positive())],
  },
  { name: 'jacobianSpectrum', args: () => [matrix(2, 2, [1, 0, 0, 1])], call: molrg.jacobianSpectrum, slots: [slot([0], 'J', [...mat({ minRows: 1 }), range('not square', matrix(2, 3))])] },
  { name: 'numericalRank', args: () => [[3, 2, 1], 1e-3], call: molrg.numericalRank, slots: [slot([0], 'J', [type('wrong type', 'abc'), range('NaN entry', [NaN, 1]), range('negative entry', [-1, 1])]), slot([1], 'relTol', num([0, 1.5]))] },
  { name: 'supportError', args: () => [x(), bases()], call: molrg.supportError, slots: [slot([0], 'x', mat({ shaped: true })), slot([1], ['truthBases', 'truthBases[0]', 'truthBases[1]'], basesList())] },
  { name: 'memorizationDistance', args: () => [x(), x()], call: molrg.memorizationDistance, slots: [slot([0], 'x', mat({ shaped: true })), slot([1], 'train', mat({ minRows: 1 }))] },
  {
    name: 'generalizationScore', args: () => [x(), x(), bases(), {}], call: molrg.generalizationScore,
    slots: [
      slot([0], 'samples', mat({ shaped: true, minRows: 1 })), slot([1], 'train', mat({ minRows: 1, shaped: true })),
      slot([2], ['truthBases', 'truthBases[0]', 'truthBases[1]', 'samples'], basesList({ shaped: true })), slot([3], 'options', [type('wrong type', 'abc')]),
      slot([3, 'tauS'], 'tauS', positive()), slot([3, 'tauM'], 'tauM', num([-1])),
    ],
  },
  // ---- files ----
  { name: 'encodeNpy', args: () => [x(), 'float32'], call: molrg.encodeNpy, slots: [slot([0], 'm', mat()), slot([1], 'dtype', oneOf())] },
  { name: 'writeNpy', args: () => [join(dir, 'w.npy'), x(), 'float32'], call: molrg.writeNpy, slots: [slot([0], 'path', path()), slot([1], 'm', mat()), slot([2], 'dtype', oneOf())] },
  { name: 'decodeNpy', args: () => [molrg.encodeNpy(x())], call: molrg.decodeNpy, slots: [slot([0], 'bytes', bytes())] },
  { name: 'readNpy', args: () => [npyPath], call: molrg.readNpy, slots: [slot([0], 'path', path())] },
  { name: 'parseCsv', args: () => ['1,2\n3,4\n', {}], call: molrg.parseCsv, slots: [slot([0], 'text', [type('wrong type', 42)]), slot([1], 'options', [type('wrong type', 'abc')]), slot([1, 'header'], 'options.header', oneOf()), slot([1, 'delimiter'], 'options.delimiter', [range('two characters', ';;'), range('a quote', '"'), derived('wrong type', () => 42, [TypeError, RangeError])])] },
  { name: 'readCsv', args: () => [csvPath, {}], call: molrg.readCsv, slots: [slot([0], 'path', path()), slot([1, 'header'], 'options.header', oneOf())] },
  {
    name: 'encodeModel', args: () => [{ bases: bases(), pi: [0.5, 0.5] }], call: molrg.encodeModel,
    slots: [slot([0], 'model', options()), slot([0, 'bases'], ['model.bases', 'model.bases[0]', 'model.bases[1]'], basesList()), slot([0, 'pi'], ['pi', 'pi[0]'], numbers({ length: true, entries: 'finite' })), slot([0, 'lambda'], ['lambda', 'lambda[0]'], positive()), slot([0, 'delta'], 'delta', num([-1])), slot([0, 'schedule'], 'model.schedule', oneOf())],
  },
  { name: 'saveModel', args: () => [join(dir, 'w.safetensors'), { bases: bases() }], call: molrg.saveModel, slots: [slot([0], 'path', path()), slot([1], 'model', options()), slot([1, 'bases'], ['model.bases', 'model.bases[0]', 'model.bases[1]'], basesList())] },
  { name: 'decodeModel', args: () => [molrg.encodeModel(truth)], call: molrg.decodeModel, slots: [slot([0], 'bytes', bytes())] },
  { name: 'loadModel', args: () => [modelPath], call: molrg.loadModel, slots: [slot([0], 'path', path())] },
  // ---- experiments (an aborted signal in the valid arguments: an input that slips through returns at once) ----
  { name: 'fitLine', args: () => [[1, 2, 3], [2, 4, 6]], call: molrg.fitLine, slots: [slot([0], ['x', 'y'], numbers({ length: true, entries: 'finite' })), slot([1], 'y', numbers({ length: true, entries: 'finite' }))] },
  { name: 'crossing', args: () => [[1, 2, 3], [0, 0.6, 1]], call: molrg.crossing, slots: [slot([0], ['N', 'rate'], numbers({ length: true, entries: 'finite' })), slot([1], 'rate', numbers({ length: true, entries: 'finite' }))] },
  { name: 'phaseBoundary', args: () => [[{ d: 1, N: 2, trials: 1, successes: 1, rate: 1, meanDistance: 0 }]], call: molrg.phaseBoundary, slots: [slot([0], ['cells', 'cells[0]'], [type('wrong type', 'abc'), type('non-object cell', [1])])] },
  {
    name: 'phaseTransition', args: () => [{ K: 1, n: 4, d: [1], N: [2], trials: 1, method: 'kss', seed: 1, workers: 1, signal: aborted() }], call: molrg.phaseTransition,
    slots: [
      slot([0], 'options', options()), slot([0, 'K'], 'K', count(1)), slot([0, 'n'], 'n', count(1)), slot([0, 'trials'], 'trials', count(1)),
      slot([0, 'd'], ['d', 'd[0]'], [...numbers({ entries: 'integer' }), range('empty', []), range('d > n', [5])]),
      slot([0, 'N'], ['N', 'N[0]'], [...numbers({ entries: 'integer' }), range('empty', [])]),
      slot([0, 'method'], 'method', oneOf()), slot([0, 'tau'], 'tau', num([0, 2])), ...sweepSlots(),
    ],
  },
  {
    name: 'memorization', args: () => [{ K: 1, n: 4, d: 1, N: [2], scatterN: [2], seed: 1, workers: 1, signal: aborted() }], call: molrg.memorization,
    slots: [
      slot([0], 'options', options()), slot([0, 'K'], 'K', count(1)), slot([0, 'n'], 'n', count(2)), slot([0, 'd'], 'd', [...count(1), range('d > n', 5)]),
      slot([0, 'N'], ['N', 'N[0]'], [...numbers({ entries: 'integer' }), range('empty', [])]), slot([0, 'trials'], 'trials', count(1)),
      slot([0, 'count'], 'count', count(1, true)), slot([0, 'steps'], 'steps', count(1)), slot([0, 'tauS'], 'tauS', positive()), slot([0, 'tauM'], 'tauM', num([-1])),
      slot([0, 'scatterN'], ['scatterN', 'scatterN[0]'], numbers({ entries: 'integer' })), ...sweepSlots(),
    ],
  },
  {
    name: 'jacobianRank', args: () => [{ K: 1, n: 4, d: 1, N: 2, sigma: [1], points: 1, seed: 1, signal: aborted() }], call: molrg.jacobianRank,
    slots: [
      slot([0], 'options', options()), slot([0, 'K'], 'K', count(1)), slot([0, 'n'], 'n', count(2)), slot([0, 'd'], 'd', [...count(1), range('d > n', 5)]),
      slot([0, 'N'], 'N', count(1, true)), slot([0, 'sigma'], ['sigma', 'sigma[0]'], [...numbers({ entries: 'positive' }), range('empty', [])]),
      slot([0, 'points'], 'points', count(1, true)), slot([0, 'relTol'], 'relTol', num([0, 2])), slot([0, 'seed'], 'seed', seed()),
      slot([0, 'signal'], 'signal', signal()), slot([0, 'onProgress'], 'onProgress', fn()),
    ],
  },
  {
    name: 'mnistExperiment', args: () => [{ train: 20, K: 2, d: 2, basisImages: 2, perClass: [1], seed: 1, signal: aborted() }], call: molrg.mnistExperiment,
    slots: [
      slot([0], 'options', options()), slot([0, 'train'], 'train', [...count(10), range('too few', 5)]), slot([0, 'K'], 'K', count(1)),
      slot([0, 'd'], 'd', count(1)), slot([0, 'preprocess'], 'preprocess', oneOf()), slot([0, 'neighbors'], 'neighbors', count(1)),
      slot([0, 'perClass'], ['perClass', 'perClass[0]'], numbers({ entries: 'integer' })), slot([0, 'generate'], 'generate', count(1, true)),
      slot([0, 'basisImages'], 'basisImages', count(1)), slot([0, 'seed'], 'seed', seed()), slot([0, 'kmeans'], 'kmeans', [type('wrong type', 'yes')]),
      slot([0, 'signal'], 'signal', signal()), slot([0, 'onProgress'], 'onProgress', fn()),
    ],
  },
  {
    name: 'reproduce', args: () => [{ quick: true, seed: 1, workers: 1, skipMnist: true, signal: aborted() }], call: molrg.reproduce,
    slots: [
      slot([0], 'options', options()), slot([0, 'quick'], 'quick', [type('wrong type', 'yes')]), slot([0, 'skipMnist'], 'skipMnist', [type('wrong type', 'yes')]),
      slot([0, 'seed'], 'seed', seed()), slot([0, 'workers'], 'workers', count(1)), slot([0, 'signal'], 'signal', signal()), slot([0, 'onProgress'], 'onProgress', fn()),
    ],
  },
  {
    name: 'runSweep', args: () => ['phase', [], { seed: 1, workers: 1 }], call: molrg.runSweep,
    slots: [slot([0], 'task', oneOf()), slot([1], 'cells', [type('wrong type', 'abc')]), slot([2], 'options', options()), ...sweepSlots().map((s) => ({ ...s, at: [2, ...s.at.slice(1)] }))],
  },
  { name: 'checkReproduceResult', args: () => [{}], call: molrg.checkReproduceResult, slots: [slot([0], ['results', 'results.molrg'], [type('wrong type', 'abc'), type('null', null)])] },
  { name: 'meanImage', args: () => [x()], call: molrg.meanImage, slots: [slot([0], 'x', mat())] },
  {
    name: 'preprocess', args: () => [x(), 'center', new Float32Array(n)], call: molrg.preprocess,
    slots: [slot([0], 'x', mat()), slot([1], 'how', oneOf()), slot([2], 'mean', typed({ finite: true }))],
  },
  { name: 'loadDigits', args: () => [{ count: 2 }], call: molrg.loadDigits, slots: [slot([0], 'options', [type('wrong type', 'abc')]), slot([0, 'count'], 'count', count(1)), slot([0, 'seed'], 'seed', seed()), slot([0, 'offset'], 'offset', count())] },
  // ---- the kernel facade (kernels()) ----
  {
    name: 'kernels().gemm', args: () => [false, false, 2, 2, 2, 1, f32(4), f32(4), 0, f32(4)], call: k.gemm,
    slots: [
      slot([0], 'transA', [type('wrong type', 1)]), slot([2], 'm', count(0, true)), slot([3], 'n', count(0, true)), slot([4], 'k', count(0, true)),
      slot([5], 'alpha', num([])), slot([6], 'A', typed({ finite: true })), slot([7], 'B', typed({ finite: true })), slot([8], 'beta', num([])), slot([9], 'C', typed()),
    ],
  },
  {
    name: 'kernels().svd', args: () => [f32(6), 1, 3, 2, 2, f32(6), f32(2), f32(4)], call: k.svd,
    slots: [slot([0], 'A', typed({ finite: true })), slot([1], 'batch', count(0, true)), slot([2], 'm', count(1, true)), slot([4], 'r', [...count(1), range('r > min(m, n)', 3)]), slot([5], 'U', typed()), slot([6], 'S', typed()), slot([7], 'V', typed())],
  },
  { name: 'kernels().eigh', args: () => [f32(4), 1, 2, f32(2), f32(4)], call: k.eigh, slots: [slot([0], 'A', typed({ finite: true })), slot([1], 'batch', count(0, true)), slot([2], 'n', count(1, true)), slot([3], 'values', typed()), slot([4], 'vectors', typed())] },
  {
    name: 'kernels().nearest', args: () => [f32(4), 2, f32(4), 2, 2, new Int32Array(2), f32(2)], call: k.nearest,
    slots: [slot([0], 'queries', typed({ finite: true })), slot([1], 'M', count(0, true)), slot([2], 'refs', typed({ finite: true })), slot([3], 'N', count(1, true)), slot([5], 'index', [type('wrong type', f32(2)), range('wrong length', new Int32Array(1))]), slot([6], 'dist', typed())],
  },
  { name: 'kernels().normals', args: () => [f32(4), 1, 0, 0], call: k.normals, slots: [slot([0], 'out', [type('wrong type', [0, 0])]), slot([1], 'seed', seed()), slot([2], 'stream', [...count(), range('huge (2^32)', 2 ** 32)]), slot([3], 'offset', count())] },
  { name: 'kernels().uniforms', args: () => [f32(4), 1, 0, 0], call: k.uniforms, slots: [slot([0], 'out', [type('wrong type', [0, 0])]), slot([1], 'seed', seed()), slot([3], 'offset', count())] },
  { name: 'kernels().randomU32', args: () => [new Uint32Array(4), 1, 0, 0], call: k.randomU32, slots: [slot([0], 'out', [type('wrong type', f32(4))]), slot([1], 'seed', seed())] },
  { name: 'kernels().philox', args: () => [new Uint32Array(4), new Uint32Array(2), new Uint32Array(4)], call: k.philox, slots: [slot([0], 'counters', [type('wrong type', f32(4)), type('not a multiple of 4', new Uint32Array(3))]), slot([1], 'key', [type('wrong type', [1, 2]), range('wrong length', new Uint32Array(3))]), slot([2], 'out', [range('wrong length', new Uint32Array(8))])] },
  {
    name: 'kernels().createBases', args: () => [4, Int32Array.of(2), randomBases(4, [2], 1)], call: k.createBases,
    slots: [slot([0], 'n', count(1, true)), slot([1], 'dims', [type('wrong type', [2]), range('empty', new Int32Array(0)), range('d_k > n', Int32Array.of(5)), range('d_k = 0', Int32Array.of(0))]), slot([2], 'U', typed({ finite: true }))],
  },
  { name: 'kernels().retract', args: () => [kb, 'qr'], call: k.retract, slots: [slot([0], 'bases', [type('wrong type', 'abc')]), slot([1], 'method', oneOf())] },
  { name: 'kernels().project', args: () => [f32(8), 2, kb, f32(4)], call: k.project, slots: [slot([0], 'x', typed({ finite: true })), slot([1], 'B', count(0, true)), slot([2], 'bases', [type('wrong type', 'abc')]), slot([3], 'P', typed())] },
  {
    name: 'kernels().gate', args: () => [f32(4), 2, Int32Array.of(2), new Float64Array(2), new Float64Array(2), f32(2)], call: k.gate,
    slots: [slot([0], 'P', typed({ finite: true })), slot([1], 'B', count(0, true)), slot([2], 'dims', [type('wrong type', [2]), range('d_k = 0', Int32Array.of(0))]), slot([3], 'bias', [type('wrong type', f32(2)), range('wrong length', new Float64Array(3))]), slot([4], 'phi', [range('negative entry', Float64Array.of(-1, 0))]), slot([5], 'w', typed())],
  },
  {
    name: 'kernels().denoise', args: () => [f32(8), 2, kb, prior(1), f32(2, 1), f32(2, 1), f32(8), f32(2)], call: k.denoise,
    slots: [
      slot([0], 'x', typed({ finite: true })), slot([1], 'B', count(0, true)), slot([2], 'bases', [type('wrong type', 'abc')]),
      slot([3], 'prior', [type('wrong type', 'abc')]), slot([3, 'lambda'], 'prior.lambda', [range('zero entry', Float64Array.of(0)), type('wrong type', [1])]),
      slot([3, 'logPi'], 'prior.logPi', [range('positive entry', Float64Array.of(1))]), slot([3, 'delta'], 'prior.delta', num([-1])),
      slot([4], 's', [...typed({ finite: true }), range('zero entry', f32(2))]), slot([5], 'sigma', [...typed({ finite: true }), range('zero entry', f32(2))]),
      slot([6], 'out', typed()), slot([7], 'w', [type('wrong type', 'abc'), range('wrong length', f32(3))]),
    ],
  },
  {
    name: 'kernels().lossGrad', args: () => [f32(8), f32(8), 2, f32(2, 1), f32(2, 1), f32(2, 1), kb, prior(1)], call: k.lossGrad,
    slots: [
      slot([0], 'x0', typed({ finite: true })), slot([1], 'eps', typed({ finite: true })), slot([2], 'B', count(0, true)),
      slot([3], 's', typed({ finite: true })), slot([4], 'sigma', [...typed({ finite: true }), range('zero entry', f32(2))]),
      slot([5], 'weight', [...typed({ finite: true }), range('negative entry', f32(2, -1))]), slot([6], 'bases', [type('wrong type', 'abc')]), slot([7], 'prior', [type('wrong type', 'abc')]),
    ],
  },
  {
    name: 'kernels().stiefelStep', args: () => [kb, { ...stiefel }], call: k.stiefelStep,
    slots: [
      slot([0], 'bases', [type('wrong type', 'abc')]), slot([1], 'options', options()), slot([1, 'method'], 'options.method', oneOf()),
      slot([1, 'retraction'], 'options.retraction', oneOf()), slot([1, 'lr'], 'options.lr', positive()), slot([1, 'momentum'], 'options.momentum', num([-0.1, 1])),
      slot([1, 'beta1'], 'options.beta1', num([-0.1, 1])), slot([1, 'beta2'], 'options.beta2', num([-0.1, 1])), slot([1, 'eps'], 'options.eps', positive()),
    ],
  },
  {
    name: 'kernels().trainSteps',
    args: () => [f32(12, 1), 3, Int32Array.of(0, 1, 2, 0), { seed: 1, stream: 2, offset: 0 }, 2, 2, f32(4, 1), f32(4, 1), f32(4, 1), kb, prior(1),
      { ...stiefel }, new Float64Array(2).fill(1e-3), new Float64Array(2)],
    call: k.trainSteps,
    slots: [
      slot([0], 'data', typed({ finite: true })), slot([1], 'N', count(1, true)),
      slot([2], 'index', [type('wrong type', [0, 1, 2, 0]), type('Float32Array', f32(4)), derived('wrong length', (a: Int32Array) => a.slice(1)),
        range('index = N', Int32Array.of(0, 1, 3, 0)), range('negative index', Int32Array.of(0, -1, 0, 0))]),
      slot([3], 'noise', [type('wrong type', 'abc'), type('null', null)]), slot([3, 'seed'], 'noise.seed', seed()),
      slot([3, 'stream'], 'noise.stream', [...count(), range('huge (2^32)', 2 ** 32)]), slot([3, 'offset'], 'noise.offset', count()),
      slot([4], 'B', count(0, true)), slot([5], 'T', count(0, true)),
      slot([6], 's', typed({ finite: true })), slot([7], 'sigma', [...typed({ finite: true }), range('zero entry', f32(4))]),
      slot([8], 'weight', [...typed({ finite: true }), range('negative entry', f32(4, -1))]), slot([9], 'bases', [type('wrong type', 'abc')]),
      slot([10], 'prior', [type('wrong type', 'abc')]), slot([11], 'options', options()), slot([11, 'method'], 'options.method', oneOf()),
      slot([11, 'momentum'], 'options.momentum', num([-0.1, 1])), slot([11, 'eps'], 'options.eps', positive()),
      slot([12], 'lr', [...typed({ finite: true }), range('negative entry', Float64Array.of(1e-3, -1))]), slot([13], 'losses', typed()),
    ],
  },
];

/** Functions of src/index.ts that take no arguments (nothing to get wrong) or are not functions. */
const NO_ARGUMENTS = ['backendInfo', 'kernels', 'hasDigits', 'defaultWorkers'];

// ---- the runner ---------------------------------------------------------------------------------------

function get(args: unknown[], at: readonly (number | string)[]): unknown {
  let v: unknown = args;
  for (const key of at) v = (v as Record<string | number, unknown>)?.[key];
  return v;
}

function set(args: unknown[], at: readonly (number | string)[], value: unknown): void {
  let v: unknown = args;
  for (const key of at.slice(0, -1)) v = (v as Record<string | number, unknown>)[key];
  (v as Record<string | number, unknown>)[at[at.length - 1]] = value;
}

/** Copies of every array, typed array and plain-object field reachable from the arguments. */
function snapshot(value: unknown, out: [object, unknown[]][] = [], seen = new Set<unknown>()): [object, unknown[]][] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return out;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    out.push([value, Array.from(value as unknown as ArrayLike<number>)]);
  } else if (Array.isArray(value)) {
    out.push([value, [...value]]);
    value.forEach((v) => snapshot(v, out, seen));
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value);
    out.push([value, entries.flat()]);
    entries.forEach(([, v]) => snapshot(v, out, seen));
  }
  return out;
}

function unchanged(before: [object, unknown[]][]): string | null {
  for (const [ref, copy] of before) {
    const now = ArrayBuffer.isView(ref) ? Array.from(ref as unknown as ArrayLike<number>)
      : Array.isArray(ref) ? [...ref] : Object.entries(ref).flat();
    if (now.length !== copy.length || now.some((v, i) => !Object.is(v, copy[i]))) return `an argument was modified: ${JSON.stringify(copy).slice(0, 80)}`;
  }
  return null;
}

/** What went wrong with one case, or null when it behaved. */
async function tryCase(e: Entry, s: Slot, bad: Bad): Promise<string | null> {
  const args = e.args();
  set(args, s.at, bad.make(get(args, s.at)));
  const before = snapshot(args);
  let error: unknown = null;
  try {
    const r = (e.call as (...a: unknown[]) => unknown)(...args);
    if (r instanceof Promise) await r;
  } catch (err) {
    error = err;
  }
  if (error === null) return 'accepted';
  const kinds = Array.isArray(bad.error) ? bad.error : [bad.error];
  const msg = error instanceof Error ? error.message : String(error);
  if (!kinds.some((K) => error instanceof K)) return `${(error as Error)?.constructor?.name ?? typeof error} instead of ${kinds.map((K) => K.name).join('/')}: ${msg}`;
  const escaped = s.names.map((name) => name.replace(/[.[\]$]/g, '\\$&'));
  if (!new RegExp(`^Expected .* for (${escaped.join('|')})([ .[:]|$)`, 's').test(msg)) return `message does not name ${s.names.join(' / ')}: ${msg}`;
  return unchanged(before);
}

describe('bad-input matrix: every public function x every class of bad input', function () {
  this.timeout(120000);
  let tried = 0;
  const failures: string[] = [];

  before(() => {
    mkdirSync(dir, { recursive: true });
    molrg.writeNpy(npyPath, x());
    writeFileSync(csvPath, '1,2\n3,4\n');
    molrg.saveModel(modelPath, truth);
  });

  after(() => {
    kb.dispose();
    rmSync(dir, { recursive: true, force: true });
    console.log(`      bad-input matrix: ${tried} (function, input) pairs tried over ${TABLE.length} entry points, ${failures.length} failures`);
  });

  it('the table covers every function exported by src/index.ts', () => {
    const named = new Set(TABLE.map((e) => e.name.replace(/^new /, '').replace(/[ .(].*$/, '')));
    const exported = Object.entries(molrg).filter(([, v]) => typeof v === 'function').map(([name]) => name);
    const missing = exported.filter((name) => !named.has(name) && !NO_ARGUMENTS.includes(name) && name !== 'MissingDigitsError');
    assert.deepEqual(missing, [], 'public functions without a row in the table');
  });

  for (const e of TABLE) {
    it(e.name, async () => {
      const problems: string[] = [];
      for (const s of e.slots) {
        for (const bad of s.bads) {
          tried++;
          const p = await tryCase(e, s, bad);
          if (p) problems.push(`${e.name} ${s.at.join('.')} = ${bad.cls}: ${p}`);
        }
      }
      failures.push(...problems);
      assert.deepEqual(problems, []);
    });
  }
});
