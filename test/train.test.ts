/**
 * Training the low-rank DAE with the diffusion loss (SPEC section 4), held to the theory: for K = 1
 * training is PCA; the default recipe recovers the truth once samples exceed the intrinsic dimension
 * and cannot below it; for K = 2 it agrees with K-subspaces (the paper's equivalence); the same seed
 * trains the same bases on every backend; the trained DAE generalises. Statistical tests run on the
 * default backend.
 */
import assert from 'node:assert/strict';
import { backendInfo, type BackendName, kernels, setBackend } from '../src/backend/index.js';
import { matrix, type Matrix } from '../src/matrix.js';
import { generalizationScore } from '../src/metrics/samples.js';
import { matchSubspaces, subspaceDistance } from '../src/metrics/subspace.js';
import { lowRankDAE } from '../src/model/dae.js';
import { MoLRG } from '../src/model/molrg.js';
import { sample } from '../src/sample/edm.js';
import { learningRate, trainDAE, trainDAESync } from '../src/train/dae.js';
import { kSubspacesSync } from '../src/train/kss.js';
import { twoSubspaces } from './trials.js';
import { randn } from './util.js';

/** The top-d principal subspace (uncentred) of the rows of x, straight from the svd kernel. */
function principalSubspace(x: Matrix, d: number): Matrix {
  const V = new Float32Array(x.cols * d);
  kernels().svd(x.data, 1, x.rows, x.cols, d, new Float32Array(x.rows * d), new Float32Array(d), V);
  return matrix(x.cols, d, V);
}

describe('trainDAE', () => {
  describe('K = 1, gradient alone (init random, N = 2d, n = 48): training is PCA', () => {
    for (const d of [2, 4, 8]) {
      it(`d = ${d}: the trained U spans the top-d principal subspace of the training set (distance < 1e-2)`, () => {
        const model = new MoLRG({ n: 48, K: 1, d, seed: 7 + d });
        const { x } = model.sample(2 * d, 70 + d);
        const r = trainDAESync(x, { K: 1, d, init: 'random', steps: 1500, seed: 3 });
        assert.ok(subspaceDistance(r.bases[0], principalSubspace(x, d)) < 1e-2);
        assert.ok(r.loss < r.initialLoss / 5, `evaluation loss ${r.initialLoss} -> ${r.loss}`);
      });
    }
  });

  describe('K = 1, default recipe (n = 48): the boundary is N = d', () => {
    for (const d of [2, 4, 8]) {
      it(`d = ${d}: >= 19/20 at N = d + 1, 0/20 at N = d - 1`, () => {
        const rate = (N: number): number => {
          let ok = 0;
          for (let t = 0; t < 20; t++) {
            const model = new MoLRG({ n: 48, K: 1, d, seed: 100 + t });
            const { x } = model.sample(N, 200 + t);
            if (matchSubspaces(trainDAESync(x, { K: 1, d, steps: 100, batch: 32, seed: t }).bases, model.bases).max < 0.1) ok++;
          }
          return ok;
        };
        const above = rate(d + 1), below = rate(d - 1);
        assert.ok(above >= 19, `N = d + 1: ${above}/20`);
        assert.equal(below, 0, `N = d - 1: ${below}/20`);
      });
    }
  });

  describe('K = 2, n = 48, random subspaces, labels drawn from pi (default recipe)', () => {
    for (const d of [4, 6, 8]) {
      it(`d = ${d}: >= 18/20 at N_k = 2d, <= 2/20 at N_k = floor(d/2); agrees with kSubspaces (< 0.1) where both succeed`, () => {
        const rate = (Nk: number): { dae: number; agree: number; both: number } => {
          let dae = 0, agree = 0, both = 0;
          for (let t = 0; t < 20; t++) {
            const { model, x } = twoSubspaces(d, Nk, t);
            const trained = trainDAESync(x, { K: 2, d, steps: 100, batch: 32, seed: t }).bases;
            const clustered = kSubspacesSync(x, { K: 2, d, seed: t }).bases;
            const a = matchSubspaces(trained, model.bases).max < 0.1, b = matchSubspaces(clustered, model.bases).max < 0.1;
            if (a) dae++;
            if (a && b) {
              both++;
              if (matchSubspaces(trained, clustered).max < 0.1) agree++;
            }
          }
          return { dae, agree, both };
        };
        const above = rate(2 * d), below = rate(Math.floor(d / 2));
        assert.ok(above.dae >= 18, `N_k = 2d: ${above.dae}/20`);
        assert.ok(below.dae <= 2, `N_k = floor(d/2): ${below.dae}/20`);
        assert.equal(above.agree, above.both, `agreement ${above.agree}/${above.both}`);
        assert.equal(below.agree, below.both);
      });
    }
  });

  it('the same seed gives the same bases after 200 steps on every backend that loads (distance < 1e-3)', () => {
    // K = 1 from a random start, and K = 2 with the default recipe. (K = 2 from a random start is not
    // in this test: trajectories that pass near a saddle amplify the ulp-level differences of the
    // float32 kernels, measured up to 0.4 apart after 200 steps in 3 of 6 seeds.)
    const active = backendInfo().backend;
    const one = new MoLRG({ n: 48, K: 1, d: 4, seed: 31 }).sample(8, 32).x;
    const { x } = twoSubspaces(4, 8, 11);
    const runs: { name: BackendName; random: Matrix[]; recipe: Matrix[] }[] = [];
    try {
      for (const name of ['js', 'wasm', 'native'] as const) {
        try {
          setBackend(name);
        } catch {
          continue; // not built on this machine (the kernel tests report why)
        }
        runs.push({
          name,
          random: trainDAESync(one, { K: 1, d: 4, init: 'random', steps: 200, batch: 32, seed: 5 }).bases,
          recipe: trainDAESync(x, { K: 2, d: 4, steps: 200, batch: 32, seed: 5 }).bases,
        });
      }
    } finally {
      setBackend(active);
    }
    assert.ok(runs.length >= 2, `backends that loaded: ${runs.map((r) => r.name).join(', ')}`);
    for (const run of runs.slice(1)) {
      for (const key of ['random', 'recipe'] as const) {
        run[key].forEach((U, k) => {
          const dist = subspaceDistance(U, runs[0][key][k]);
          assert.ok(dist < 1e-3, `${run.name} vs ${runs[0].name}, ${key}, component ${k}: ${dist}`);
        });
      }
    }
  });

  it('the DAE trained on N_k = 4d samples generalises (score >= 0.9)', () => {
    const d = 4, model = new MoLRG({ n: 48, K: 2, d, seed: 21 });
    const { x } = model.sample(2 * 4 * d, 22);
    const r = trainDAESync(x, { K: 2, d, steps: 200, seed: 1 });
    const generated = sample(lowRankDAE(r.bases, r), { count: 200, seed: 3 });
    const { score } = generalizationScore(generated, x, model.bases);
    assert.ok(score >= 0.9, `score ${score}`);
  });

  it('keeps the restart with the lowest evaluation loss; reports history and progress', () => {
    const { x } = twoSubspaces(4, 8, 2);
    const seen: number[] = [];
    const r = trainDAESync(x, { K: 2, d: 4, init: 'random', restarts: 3, steps: 50, logEvery: 10, seed: 4, onProgress: (p) => seen.push(p.restart * 100 + p.step) });
    assert.equal(r.losses.length, 3);
    assert.equal(r.loss, Math.min(...r.losses));
    assert.equal(r.losses[r.restart], r.loss);
    assert.deepEqual(r.history.map((h) => h.step), [10, 20, 30, 40, 50]);
    assert.deepEqual(seen, [10, 20, 30, 40, 50, 110, 120, 130, 140, 150, 210, 220, 230, 240, 250]);
    assert.equal(r.init, 'random');
    for (const U of r.bases) {
      const G = new Float32Array(16);
      kernels().gemm(true, false, 4, 4, 48, 1, U.data, U.data, 0, G);
      G.forEach((v, i) => assert.ok(Math.abs(v - (i % 5 === 0 ? 1 : 0)) < 1e-5));
    }
  });

  it('learning rate: linear warm-up, then cosine decay towards 0', () => {
    assert.equal(learningRate(0.1, 0, 100, 10), 0.01);
    assert.ok(Math.abs(learningRate(0.1, 9, 100, 10) - 0.1) < 1e-15);
    assert.equal(learningRate(0.1, 10, 100, 10), 0.1);
    assert.ok(Math.abs(learningRate(0.1, 55, 100, 10) - 0.05) < 1e-12);
    assert.ok(learningRate(0.1, 99, 100, 10) > 0 && learningRate(0.1, 99, 100, 10) < 1e-3);
  });

  it('cancels with an AbortSignal (AbortError): already aborted, from a callback, and from a timer', async () => {
    const { x } = twoSubspaces(4, 8, 0);
    const before = new AbortController();
    before.abort();
    await assert.rejects(trainDAE(x, { K: 2, d: 4, signal: before.signal }), { name: 'AbortError' });
    const during = new AbortController();
    await assert.rejects(trainDAE(x, { K: 2, d: 4, steps: 100, signal: during.signal, onProgress: () => during.abort() }), { name: 'AbortError' });
    const timer = new AbortController();
    setTimeout(() => timer.abort(), 30);
    await assert.rejects(trainDAE(x, { K: 2, d: 4, init: 'random', steps: 10_000_000, signal: timer.signal }), { name: 'AbortError' });
  });

  it('rejects bad input with errors naming the argument', () => {
    const x = matrix(10, 6, randn(60, 1));
    const bad = (opts: object, re: RegExp, data: unknown = x): void => {
      assert.throws(() => trainDAESync(data as Matrix, opts as never), re);
    };
    bad({ K: 1, d: 2 }, /for x but received/, [[1, 2]]);
    bad({ K: 1, d: 2 }, /for x\.data but received Infinity at index 3/, matrix(10, 6, randn(60, 1).map((v, i) => (i === 3 ? Infinity : v))));
    bad({ K: 1, d: 2 }, /at least 1 rows for x but received 0 x 6/, matrix(0, 6));
    bad({ K: 2, d: 2 }, /at least 2 rows for x but received 1 x 6/, matrix(1, 6, randn(6, 1)));
    bad({ K: 1, d: 0 }, /for d but received 0/);
    bad({ K: 1, d: 7 }, /integer in \[1, 6\] for d but received 7/);
    bad({ K: 2, d: 4, init: 'pca' }, /sum of d_k <= n = 6 for init 'pca' for d/);
    bad({ K: 2, d: [2] }, /array of K = 2 numbers for d/);
    bad({ K: 1.5, d: 2 }, /for K but received 1.5/);
    bad({ K: 1, d: 2, steps: -1 }, /for steps but received -1/);
    bad({ K: 1, d: 2, batch: 0 }, /for batch but received 0/);
    bad({ K: 1, d: 2, lr: 0 }, /for lr but received 0/);
    bad({ K: 1, d: 2, optimizer: 'rmsprop' }, /'adam' or 'sgd' for optimizer/);
    bad({ K: 1, d: 2, retraction: 'cayley' }, /'qr' or 'polar' for retraction/);
    bad({ K: 1, d: 2, schedule: 'cosine' }, /for schedule but received "cosine"/);
    bad({ K: 1, d: 2, weighting: 'min-snr' }, /for weighting/);
    bad({ K: 2, d: 2, pi: [0.5, 0.6] }, /sum to 1 for pi/);
    bad({ K: 1, d: 2, lambda: -1 }, /for lambda\[0\]/);
    bad({ K: 1, d: 2, init: [matrix(6, 2)] }, /orthonormal columns .* for init\[0\]/);
    bad({ K: 1, d: 2, onProgress: 3 }, /a function for onProgress/);
    bad({ K: 1, d: 2 }, /all zeros/, matrix(3, 6));
  });
});
