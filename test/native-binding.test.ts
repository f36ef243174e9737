/**
 * The raw native binding, called without the TypeScript facade's checks, with short buffers, wrong
 * shapes and wrong types: every call must throw a JavaScript error and never read or write out of
 * bounds (issue 2). The process surviving the whole file is part of the assertion.
 */
import assert from 'node:assert/strict';
import { loadNative } from '../src/backend/native.js';
import type { Kernels } from '../src/backend/types.js';
import { prior, randomBases } from './util.js';

const wanted = (process.env.MOLRG_TEST_BACKENDS ?? 'js,wasm,native').split(',');

// Skipped only when MOLRG_TEST_BACKENDS leaves native out on purpose.
(wanted.includes('native') ? describe : describe.skip)('native binding without the facade', () => {
  let k: Kernels;
  before(() => { k = loadNative(); });

  const f = (n: number) => new Float32Array(n);
  const throwsClearly = (fn: () => unknown, what: string) => {
    assert.throws(fn, (e: unknown) => e instanceof TypeError || e instanceof RangeError, what);
  };

  it('gemm: short A, B or C, negative and non-integer sizes, wrong types', () => {
    throwsClearly(() => k.gemm(false, false, 4, 4, 4, 1, f(15), f(16), 0, f(16)), 'short A');
    throwsClearly(() => k.gemm(false, false, 4, 4, 4, 1, f(16), f(15), 0, f(16)), 'short B');
    throwsClearly(() => k.gemm(false, false, 4, 4, 4, 1, f(16), f(16), 0, f(15)), 'short C');
    throwsClearly(() => k.gemm(false, false, -1, 4, 4, 1, f(16), f(16), 0, f(16)), 'negative m');
    throwsClearly(() => k.gemm(false, false, 2.5, 4, 4, 1, f(16), f(16), 0, f(16)), 'fractional m');
    throwsClearly(() => k.gemm(false, false, 65536, 65536, 1, 1, f(16), f(16), 0, f(16)), 'size overflow');
    throwsClearly(() => k.gemm(false, false, 4, 4, 4, 1, new Float64Array(16) as unknown as Float32Array, f(16), 0, f(16)), 'Float64Array');
    throwsClearly(() => k.gemm(false, false, 4, 4, 4, 1, [1, 2] as unknown as Float32Array, f(16), 0, f(16)), 'plain array');
  });

  it('svd, eigh, nearest: short outputs', () => {
    throwsClearly(() => k.svd(f(12), 1, 4, 3, 3, f(11), f(3), f(9)), 'short U');
    throwsClearly(() => k.svd(f(12), 1, 4, 3, 4, f(16), f(4), f(12)), 'r > min(m, n)');
    throwsClearly(() => k.eigh(f(9), 1, 3, f(2), f(9)), 'short values');
    throwsClearly(() => k.nearest(f(6), 2, f(9), 3, 3, new Int32Array(1), f(2)), 'short index');
    throwsClearly(() => k.nearest(f(6), 2, f(9), 3, 3, new Int32Array(2), f(1)), 'short dist');
  });

  it('randomness: short and wrong-typed buffers, out-of-range seeds', () => {
    throwsClearly(() => k.philox(new Uint32Array(8), new Uint32Array(1), new Uint32Array(8)), 'short key');
    throwsClearly(() => k.philox(new Uint32Array(8), new Uint32Array(2), new Uint32Array(4)), 'short out');
    throwsClearly(() => k.normals(new Uint32Array(4) as unknown as Float32Array, 1, 0, 0), 'Uint32Array for normals');
    throwsClearly(() => k.randomU32(new Uint32Array(4), -1, 0, 0), 'negative seed');
  });

  it('model kernels: bases whose arrays were swapped for short ones, and mismatched batches', () => {
    const n = 8, dims = Int32Array.from([2, 3]), B = 4, p = prior(2);
    const good = () => k.createBases(n, dims, randomBases(n, [2, 3], 1));
    const ones = (len: number) => new Float32Array(len).fill(1);
    throwsClearly(() => k.project(f(B * n - 1), B, good(), f(B * 5)), 'short x');
    throwsClearly(() => k.project(f(B * n), B, good(), f(B * 5 - 1)), 'short P');
    throwsClearly(() => k.denoise(f(B * n), B, good(), p, ones(B - 1), ones(B), f(B * n)), 'short s');
    throwsClearly(() => k.denoise(f(B * n), B, good(), { ...p, logPi: new Float64Array(1) }, ones(B), ones(B), f(B * n)), 'short logPi');
    throwsClearly(() => k.lossGrad(f(B * n), f(B * n - 1), B, ones(B), ones(B), ones(B), good(), p), 'short eps');
    throwsClearly(() => k.gate(f(B * 5), B, Int32Array.from([2, 3]), new Float64Array(B * 2), new Float64Array(B * 2 - 1), f(B * 2)), 'short phi');
    for (const field of ['U', 'grad', 'm', 'v'] as const) {
      const b = good();
      (b as unknown as Record<string, Float32Array>)[field] = f(3);
      throwsClearly(() => {
        k.lossGrad(f(B * n), f(B * n), B, ones(B), ones(B), ones(B), b, p);
        k.stiefelStep(b, { method: 'adam', lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' });
      }, `short bases.${field}`);
    }
    const b = good();
    (b as unknown as { dims: Int32Array }).dims = Int32Array.from([2, 30]);
    throwsClearly(() => k.project(f(B * n), B, b, f(B * 5)), 'd_k > n');
  });

  it('async forms reject (not throw) on bad arguments', async () => {
    await assert.rejects(k.async.gemm(false, false, 4, 4, 4, 1, f(15), f(16), 0, f(16)), RangeError);
    await assert.rejects(k.async.svd(f(12), 1, 4, 3, 3, f(11), f(3), f(9)), RangeError);
  });

  // An async call works on private copies (native/binding.cc, Job): what JavaScript does to the
  // arrays while it runs cannot make the kernel touch memory that is no longer theirs.
  describe('async calls and arrays changed while they run', () => {
    const m = 256; // large enough that the call is still running when the test touches the arrays
    const filled = () => Float32Array.from({ length: m * m }, (_, i) => Math.sin(i * 0.37));
    const transfer = (a: Float32Array) => structuredClone(a.buffer as ArrayBuffer, { transfer: [a.buffer as ArrayBuffer] });
    let expected: Float32Array;
    before(() => {
      expected = f(m * m);
      k.gemm(false, true, m, m, m, 1, filled(), filled(), 0, expected);
    });

    it('inputs overwritten right after the call leave the result as of the call', async () => {
      const A = filled(), B = filled(), C = f(m * m);
      const pending = k.async.gemm(false, true, m, m, m, 1, A, B, 0, C);
      A.fill(Number.NaN);
      B.fill(1e30);
      await pending;
      assert.deepEqual(C, expected);
    });

    it('inputs detached (transferred) right after the call leave the result as of the call', async () => {
      const A = filled(), B = filled(), C = f(m * m);
      const pending = k.async.gemm(false, true, m, m, m, 1, A, B, 0, C);
      transfer(A);
      transfer(B);
      assert.equal(A.length, 0);
      await pending;
      assert.deepEqual(C, expected);
    });

    it('outputs on a SharedArrayBuffer are written back', async () => {
      const C = new Float32Array(new SharedArrayBuffer(4 * m * m));
      await k.async.gemm(false, true, m, m, m, 1, filled(), filled(), 0, C);
      assert.deepEqual(new Float32Array(C), expected);
    });

    it('an output detached while the call runs rejects the Promise with a clear error', async () => {
      const C = f(m * m);
      const pending = k.async.gemm(false, true, m, m, m, 1, filled(), filled(), 0, C);
      const moved = new Float32Array(transfer(C));
      await assert.rejects(pending, /output array of an async call was detached or resized/);
      assert.ok(moved.every((v) => v === 0), 'the transferred buffer is not written');
    });
  });
});
