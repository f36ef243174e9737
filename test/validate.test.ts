/**
 * The validated kernel facade (`kernels()`, `backendKernels(name)`): every entry point checks its
 * arguments once in TypeScript and throws a TypeError/RangeError naming the argument, the expected
 * shape and what it got (DESIGN.md), before anything reaches native or wasm code. This file checks the
 * message details (expected shape, first bad index, ranges); the error class, the argument named and
 * the caller's arrays left unchanged, for every kernel and every class of bad input, are in the
 * bad-input matrix (test/bad-input.test.ts).
 */
import assert from 'node:assert/strict';
import { backendKernels } from '../src/backend/index.js';
import { prior, randomBases } from './util.js';

describe('kernel facade argument checks', () => {
  const k = backendKernels('js');
  const f = (n: number) => new Float32Array(n);
  const ones = (n: number) => new Float32Array(n).fill(1);
  /** Throws `Kind` whose message names `arg` and says what was expected. */
  function rejects(fn: () => unknown, Kind: ErrorConstructor, arg: string, expected: RegExp): void {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof Kind, `${String(e)} is not a ${Kind.name}`);
      assert.match((e as Error).message, new RegExp(`^Expected .* for ${arg.replace(/[.[\]]/g, '\\$&')}( |$)`));
      assert.match((e as Error).message, expected);
      return true;
    });
  }

  it('shapes and lengths', () => {
    rejects(() => k.gemm(false, false, 2, 2, 2, 1, f(3), f(4), 0, f(4)), RangeError, 'A', /of length 4 for A but received Float32Array of length 3/);
    rejects(() => k.gemm(false, false, 2, 2, 2, 1, f(4), f(4), 0, f(5)), RangeError, 'C', /\[m, n\]/);
    rejects(() => k.gemm(false, false, 2, 2, 2, 1, [1, 2, 3, 4] as unknown as Float32Array, f(4), 0, f(4)), TypeError, 'A', /Float32Array/);
    rejects(() => k.gemm(false, false, -2, 2, 2, 1, f(4), f(4), 0, f(4)), RangeError, 'm', /integer/);
    rejects(() => k.svd(f(12), 1, 4, 3, 4, f(16), f(4), f(12)), RangeError, 'r', /\[1, 3\]/);
    rejects(() => k.eigh(f(9), 1, 3, f(3), f(8)), RangeError, 'vectors', /\[batch, n, n\]/);
    rejects(() => k.nearest(f(4), 2, f(4), 2, 2, new Int32Array(1), f(2)), RangeError, 'index', /\[M\]/);
  });

  it('non-finite inputs name the index', () => {
    const A = f(4);
    A[2] = NaN;
    rejects(() => k.gemm(false, false, 2, 2, 2, 1, A, f(4), 0, f(4)), RangeError, 'A', /NaN at index 2/);
    const x = f(8);
    x[5] = Infinity;
    const b = k.createBases(4, Int32Array.from([2]), randomBases(4, [2], 1));
    rejects(() => k.project(x, 2, b, f(4)), RangeError, 'x', /Infinity at index 5/);
  });

  it('model arguments: dims, sigma, s, weights, prior, options', () => {
    rejects(() => k.createBases(4, Int32Array.from([2, 5]), undefined), RangeError, 'dims', /d_1 = 5/);
    rejects(() => k.createBases(4, Int32Array.from([]), undefined), RangeError, 'dims', /K >= 1/);
    rejects(() => k.createBases(4, Int32Array.from([0]), undefined), RangeError, 'dims', /d_0 = 0/);
    const n = 4, B = 2, b = k.createBases(n, Int32Array.from([2]), randomBases(n, [2], 1)), p = prior(1);
    rejects(() => k.denoise(f(B * n), B, b, p, ones(B), Float32Array.from([1, 0]), f(B * n)), RangeError, 'sigma', /> 0 .* 0 at index 1/);
    rejects(() => k.denoise(f(B * n), B, b, p, Float32Array.from([-1, 1]), ones(B), f(B * n)), RangeError, 's', /at index 0/);
    rejects(() => k.lossGrad(f(B * n), f(B * n), B, ones(B), ones(B), Float32Array.from([1, -1]), b, p), RangeError, 'weight', />= 0/);
    rejects(() => k.denoise(f(B * n), B, b, { ...p, lambda: Float64Array.from([0]) }, ones(B), ones(B), f(B * n)), RangeError, 'prior.lambda', /> 0/);
    rejects(() => k.denoise(f(B * n), B, b, { ...p, delta: -1 }, ones(B), ones(B), f(B * n)), RangeError, 'prior.delta', /\[0, Infinity\]/);
    const opts = { method: 'adam', lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' } as const;
    rejects(() => k.stiefelStep(b, { ...opts, lr: 0 }), RangeError, 'options.lr', /\(0, Infinity\]/);
    rejects(() => k.stiefelStep(b, { ...opts, beta2: 1 }), RangeError, 'options.beta2', /\[0, 1\)/);
    rejects(() => k.stiefelStep(b, { ...opts, method: 'rmsprop' as 'adam' }), RangeError, 'options.method', /'sgd' or 'adam'/);
    rejects(() => k.normals(f(4), 2 ** 53, 0, 0), RangeError, 'seed', /2\^53|9007199254740991/);
  });
});
