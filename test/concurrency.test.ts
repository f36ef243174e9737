/**
 * Concurrency (issue 7): several worker_threads, each using the native addon AND the wasm module at
 * once, give bit-identical results to the same work run serially in the main thread; and the async
 * native kernels, awaited while the main thread keeps running other sync kernels, give the same
 * results as their sync forms; and native results do not depend on the pool's thread count.
 *
 * This file is both the mocha spec (main thread) and the worker's entry: a worker loads it through
 * tsx's CommonJS hook, as src/experiments/sweep.ts does for its cells, and answers one job.
 */
import assert from 'node:assert/strict';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { backendKernels } from '../src/backend/index.js';
import { nativeIsas, setNativeIsa, setNativeThreads } from '../src/backend/native.js';
import type { Kernels, StiefelOptions } from '../src/backend/types.js';
import { prior, randn, randomBases } from './util.js';

/** Everything one job computes, as plain arrays (structured-clone friendly, compared bit for bit). */
interface JobResult {
  label: string;
  losses: number[];
  U: Float32Array;
  svdS: Float32Array;
  svdU: Float32Array;
  svdV: Float32Array;
  gemmC: Float32Array;
}

const SGD: StiefelOptions = { method: 'sgd', lr: 0.05, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' };
const ADAM: StiefelOptions = { ...SGD, method: 'adam', lr: 0.01, retraction: 'polar' };

/**
 * A seeded workload on one backend: a 30-step lossGrad + stiefelStep training loop on MoLRG-like
 * data, then a batched svd and a gemm. Deterministic in (kernels, seed).
 */
function work(k: Kernels, label: string, seed: number): JobResult {
  const n = 24, dims = [3, 4], K = dims.length, B = 64, steps = 30;
  const truth = randomBases(n, dims, seed);
  const D = dims.reduce((a, b) => a + b, 0);
  // x0 = U_k a for a random component per row.
  const coef = randn(B * D, seed + 1);
  const x0 = new Float32Array(B * n);
  for (let b = 0; b < B; b++) {
    const comp = b % K, off = comp === 0 ? 0 : dims[0];
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < dims[comp]; j++) t += truth[i * D + off + j] * coef[b * D + j];
      x0[b * n + i] = t;
    }
  }
  const bases = k.createBases(n, Int32Array.from(dims), randomBases(n, dims, seed + 2));
  const p = prior(K);
  const s = new Float32Array(B).fill(1);
  const weight = new Float32Array(B).fill(1 / B);
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    const eps = randn(B * n, seed * 1000 + t);
    const sigma = Float32Array.from({ length: B }, (_, b) => 0.05 + 0.02 * ((b + t) % 10));
    losses.push(k.lossGrad(x0, eps, B, s, sigma, weight, bases, p));
    k.stiefelStep(bases, t % 2 ? ADAM : SGD);
  }
  const U = bases.read();
  bases.dispose();

  const batch = 3, m = 20, nn = 12, r = 6;
  const A = randn(batch * m * nn, seed + 3);
  const svdU = new Float32Array(batch * m * r), svdS = new Float32Array(batch * r), svdV = new Float32Array(batch * nn * r);
  k.svd(A, batch, m, nn, r, svdU, svdS, svdV);

  const gm = 33, gn = 29, gk = 41;
  const gA = randn(gm * gk, seed + 4), gB = randn(gn * gk, seed + 5);
  const gemmC = randn(gm * gn, seed + 6);
  k.gemm(false, true, gm, gn, gk, 0.75, gA, gB, 0.5, gemmC);
  return { label, losses, U, svdS, svdU, svdV, gemmC };
}

/** One job: the workload on native and on wasm, interleaved, for each seed. */
function job(seeds: number[]): JobResult[] {
  const native = backendKernels('native', { checked: false });
  const wasm = backendKernels('wasm', { checked: false });
  const out: JobResult[] = [];
  for (const seed of seeds) {
    out.push(work(native, `native/${seed}`, seed));
    out.push(work(wasm, `wasm/${seed}`, seed));
  }
  return out;
}

/** Bitwise equality of float arrays (NaN payloads and -0 included). */
function sameBits(name: string, got: Float32Array | number[], want: Float32Array | number[]): void {
  assert.equal(got.length, want.length, `${name}: length`);
  const g = got instanceof Float32Array ? new Uint32Array(got.buffer, got.byteOffset, got.length) : new Float64Array(got);
  const w = want instanceof Float32Array ? new Uint32Array(want.buffer, want.byteOffset, want.length) : new Float64Array(want);
  for (let i = 0; i < g.length; i++) {
    if (!Object.is(g[i], w[i])) assert.fail(`${name}: differs at ${i}: ${got[i]} vs ${want[i]}`);
  }
}

function sameResult(got: JobResult, want: JobResult): void {
  assert.equal(got.label, want.label);
  sameBits(`${want.label} losses`, got.losses, want.losses);
  for (const key of ['U', 'svdS', 'svdU', 'svdV', 'gemmC'] as const) sameBits(`${want.label} ${key}`, got[key], want[key]);
  for (const v of want.losses) assert.ok(Number.isFinite(v), `${want.label}: finite loss`);
}

/** Starts this file as a worker (tsx's CommonJS hook first, as sweep.ts does) running job(seeds). */
function runInWorker(seeds: number[]): Promise<JobResult[]> {
  const tsx = require.resolve('tsx/cjs', { paths: [__dirname] });
  const w = new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(__filename)});`,
    { eval: true, workerData: { seeds } });
  return new Promise((resolve, reject) => {
    w.once('message', (msg: { ok: true; results: JobResult[] } | { ok: false; error: string }) => {
      if (msg.ok) resolve(msg.results);
      else reject(new Error(msg.error));
    });
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with ${code}`)); });
  });
}

if (!isMainThread && workerData && Array.isArray((workerData as { seeds?: unknown }).seeds)) {
  try {
    parentPort!.postMessage({ ok: true, results: job((workerData as { seeds: number[] }).seeds) });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
} else if (typeof describe === 'function') {
  describe('concurrency', function () {
    this.timeout(60000);

    it('worker_threads using native and wasm at once match a serial run bit for bit', async () => {
      const groups = [[1, 5], [2, 6], [3, 7], [4, 8]];
      const serial = groups.map((g) => job(g));
      // Run the workers while the main thread keeps using both backends too.
      const pending = Promise.all(groups.map((g) => runInWorker(g)));
      const again = groups.map((g) => job(g));
      const parallel = await pending;
      assert.equal(parallel.length, groups.length);
      for (let i = 0; i < groups.length; i++) {
        assert.equal(parallel[i].length, serial[i].length);
        for (let j = 0; j < serial[i].length; j++) {
          sameResult(parallel[i][j], serial[i][j]);
          sameResult(again[i][j], serial[i][j]);
        }
      }
    });

    it('async native lossGrad and svd awaited while the main thread runs sync kernels equal the sync forms', async () => {
      const native = backendKernels('native', { checked: false });
      const wasm = backendKernels('wasm', { checked: false });
      const n = 64, dims = [6, 5, 4], K = 3, B = 512;
      const x0 = randn(B * n, 11), eps = randn(B * n, 12);
      const s = new Float32Array(B).fill(1);
      const sigma = Float32Array.from({ length: B }, (_, b) => 0.1 + (b % 7) * 0.3);
      const weight = new Float32Array(B).fill(1);
      const p = prior(K, { lambda: [1, 2, 0.5], delta: 0.01 });
      const U0 = randomBases(n, dims, 13);
      const syncBases = native.createBases(n, Int32Array.from(dims), U0);
      const asyncBases = native.createBases(n, Int32Array.from(dims), U0);
      const otherBases = native.createBases(n, Int32Array.from(dims), U0);
      const syncLoss = native.lossGrad(x0, eps, B, s, sigma, weight, syncBases, p);

      const batch = 4, m = 80, nn = 40, r = 10;
      const A = randn(batch * m * nn, 14);
      const sU = new Float32Array(batch * m * r), sS = new Float32Array(batch * r), sV = new Float32Array(batch * nn * r);
      native.svd(A, batch, m, nn, r, sU, sS, sV);
      const aU = new Float32Array(sU.length), aS = new Float32Array(sS.length), aV = new Float32Array(sV.length);

      for (let round = 0; round < 3; round++) {
        aU.fill(0); aS.fill(0); aV.fill(0);
        const lossP = native.async.lossGrad(x0, eps, B, s, sigma, weight, asyncBases, p);
        const svdP = native.async.svd(A, batch, m, nn, r, aU, aS, aV);
        // Meanwhile: other sync kernels on both backends, on different buffers.
        const work1 = job([20 + round]);
        const otherLoss = native.lossGrad(randn(B * n, 30 + round), eps, B, s, sigma, weight, otherBases, p);
        assert.ok(Number.isFinite(otherLoss));
        const C = new Float32Array(64 * 64);
        native.gemm(false, false, 64, 64, 64, 1, randn(64 * 64, 40), randn(64 * 64, 41), 0, C);
        wasm.gemm(false, false, 64, 64, 64, 1, randn(64 * 64, 40), randn(64 * 64, 41), 0, new Float32Array(64 * 64));
        assert.equal(work1.length, 2);
        const asyncLoss = await lossP;
        await svdP;
        assert.ok(Object.is(asyncLoss, syncLoss), `round ${round}: async loss ${asyncLoss} vs sync ${syncLoss}`);
        assert.ok(Number.isFinite(asyncLoss));
        sameBits(`round ${round} grad`, asyncBases.readGrad(), syncBases.readGrad());
        sameBits(`round ${round} svd S`, aS, sS);
        sameBits(`round ${round} svd U`, aU, sU);
        sameBits(`round ${round} svd V`, aV, sV);
      }
      syncBases.dispose(); asyncBases.dispose(); otherBases.dispose();
    });

    // The native pool splits output rows (or columns), never a reduction: the same bits at any thread
    // count, on every ISA (docs/kernels.md). Shapes large enough to wake the pool.
    it('native gemm, denoise, lossGrad (both paths), stiefelStep and trainSteps give the same bits at 1, 2 and 3 threads', () => {
      const native = backendKernels('native', { checked: false });
      const { threads: threads0, isa: isa0 } = native.info();
      const run = (): unknown[] => {
        const out: unknown[] = [];
        for (const [tA, tB, m, n, kk] of [[false, false, 130, 70, 90], [true, false, 130, 70, 90], [false, true, 40, 300, 50], [true, true, 97, 33, 301]] as const) {
          const C = randn(m * n, 7);
          native.gemm(tA, tB, m, n, kk, 0.5, randn(m * kk, 5), randn(kk * n, 6), 1, C);
          out.push(C);
        }
        for (const [n, dims, B] of [[100, [20, 17], 61], [48, [6, 6], 64]] as const) {
          const p = prior(dims.length, { pi: [0.4, 0.6], lambda: [1, 2], delta: 0.1 });
          const bases = native.createBases(n, Int32Array.from(dims), randomBases(n, [...dims], 3));
          const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).map((_, b) => Math.exp(Math.sin(b)));
          const weight = sigma.map((sg) => 1 / (sg * sg)), x0 = randn(B * n, 8), den = new Float32Array(B * n);
          native.denoise(x0, B, bases, p, s, sigma, den);
          out.push(den, native.lossGrad(x0, randn(B * n, 9), B, s, sigma, weight, bases, p), bases.readGrad());
          native.stiefelStep(bases, ADAM);
          out.push(bases.read());
          // trainSteps: where lossGrad runs on one thread, a second thread draws the noise ahead.
          const T = 30, N = 50, losses = new Float64Array(T), index = Int32Array.from({ length: T * B }, (_, j) => (j * 7) % N);
          const levels = (a: Float32Array) => Float32Array.from({ length: T * B }, (_, j) => a[j % B]);
          native.trainSteps(randn(N * n, 10), N, index, { seed: 11, stream: 3, offset: 5 }, B, T, levels(s), levels(sigma), levels(weight),
            bases, p, ADAM, new Float64Array(T).fill(1e-3), losses);
          out.push(losses, bases.read());
          bases.dispose();
        }
        return out;
      };
      try {
        for (const isa of nativeIsas()) {
          setNativeIsa(isa);
          setNativeThreads(1);
          const want = run();
          for (const t of [2, 3]) {
            setNativeThreads(t);
            assert.deepEqual(run(), want, `${isa}, ${t} threads`);
          }
        }
      } finally {
        setNativeThreads(threads0);
        setNativeIsa(isa0);
      }
    });
  });
}
