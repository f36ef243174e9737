/**
 * K-subspaces (SPEC section 5) and its spectral (TSC) initialisation, on the default backend:
 * recovery rates of the default recipe against the theory's sample complexity, the pieces of the
 * alternation (argmax assignment, refit, empty-cluster re-seeding), the large-n refit route against
 * the svd kernel, determinism, cancellation and argument errors.
 */
import assert from 'node:assert/strict';
import { kernels } from '../src/backend/index.js';
import { matrix, type Matrix } from '../src/matrix.js';
import { clusteringAccuracy } from '../src/metrics/clustering.js';
import { matchSubspaces, subspaceDistance } from '../src/metrics/subspace.js';
import { MoLRG } from '../src/model/molrg.js';
import { kSubspaces, kSubspacesSync } from '../src/train/kss.js';
import { spectralClustering } from '../src/train/spectral.js';
import { topSubspaces } from '../src/train/subspace.js';
import { twoSubspaces } from './trials.js';
import { randn } from './util.js';

/** ||U_k^T x||^2 of one row. */
function energy(U: Matrix, x: Float32Array, i: number): number {
  let e = 0;
  for (let j = 0; j < U.cols; j++) {
    let p = 0;
    for (let r = 0; r < U.rows; r++) p += U.data[r * U.cols + j] * x[i * U.rows + r];
    e += p * p;
  }
  return e;
}

describe('kSubspaces', () => {
  describe('recovery, K = 2, n = 48, random subspaces, labels drawn from pi (default recipe)', () => {
    for (const d of [4, 6, 8]) {
      it(`d = ${d}: >= 18/20 at N_k = 2d, <= 2/20 at N_k = floor(d/2)`, () => {
        const rate = (Nk: number): number => {
          let ok = 0;
          for (let t = 0; t < 20; t++) {
            const { model, x } = twoSubspaces(d, Nk, t);
            if (matchSubspaces(kSubspacesSync(x, { K: 2, d, seed: t }).bases, model.bases).max < 0.1) ok++;
          }
          return ok;
        };
        const above = rate(2 * d), below = rate(Math.floor(d / 2));
        assert.ok(above >= 18, `N_k = 2d: ${above}/20`);
        assert.ok(below <= 2, `N_k = floor(d/2): ${below}/20`);
      });
    }
  });

  it('the recipe matters: random starts alone recover the truth far less often (d = 6, N_k = 12)', () => {
    let spectral = 0, random = 0;
    for (let t = 0; t < 20; t++) {
      const { model, x } = twoSubspaces(6, 12, t);
      if (matchSubspaces(kSubspacesSync(x, { K: 2, d: 6, seed: t }).bases, model.bases).max < 0.1) spectral++;
      if (matchSubspaces(kSubspacesSync(x, { K: 2, d: 6, init: 'random', restarts: 1, seed: t }).bases, model.bases).max < 0.1) random++;
    }
    assert.ok(spectral >= 19, `spectral ${spectral}/20`);
    assert.ok(random <= 10, `random ${random}/20`);
  });

  it('clusters the samples exactly when it recovers the subspaces, and labels are the argmax (ties to the lowest k)', () => {
    const { model, x, labels } = twoSubspaces(6, 12, 3);
    const r = kSubspacesSync(x, { K: 2, d: 6, seed: 3 });
    assert.ok(matchSubspaces(r.bases, model.bases).max < 1e-3);
    assert.equal(clusteringAccuracy(r.labels, labels), 1);
    let objective = 0;
    for (let i = 0; i < x.rows; i++) {
      const e = r.bases.map((U) => energy(U, x.data, i));
      const best = e.indexOf(Math.max(...e));
      assert.ok(e[r.labels[i]] >= e[best] * (1 - 1e-5), `sample ${i}`);
      objective += e[r.labels[i]];
    }
    assert.ok(Math.abs(objective - r.objective) <= 1e-4 * objective);
    assert.ok(r.residual < 1e-4 * r.objective, 'noiseless data: all energy captured');
    assert.equal(r.objectives.length, 4);
    assert.equal(r.objective, Math.max(...r.objectives));
  });

  it('spectralClustering (TSC) alone separates well-sampled subspaces', () => {
    const { x, labels } = twoSubspaces(6, 12, 5);
    assert.equal(clusteringAccuracy(spectralClustering(x, { K: 2, seed: 1 }), labels), 1);
  });

  it('re-seeds an empty cluster from the worst-residual samples (identical starting bases)', () => {
    const { model, x } = twoSubspaces(4, 8, 1);
    const r = kSubspacesSync(x, { K: 2, d: 4, init: [model.bases[0], model.bases[0]], restarts: 1 });
    assert.ok(r.labels.includes(0) && r.labels.includes(1), 'both clusters used');
    assert.ok(matchSubspaces(r.bases, model.bases).max < 1e-3);
  });

  it('is deterministic: the same seed gives the same result', () => {
    const { x } = twoSubspaces(4, 6, 2);
    const a = kSubspacesSync(x, { K: 2, d: 4, seed: 9 }), b = kSubspacesSync(x, { K: 2, d: 4, seed: 9 });
    assert.deepEqual(a.labels, b.labels);
    assert.deepEqual(a.bases.map((m) => m.data), b.bases.map((m) => m.data));
  });

  it('large n (subspace-iteration route): K = 3 subspaces of R^200, d = (3, 5, 8), 100 samples each', () => {
    const model = new MoLRG({ n: 200, K: 3, d: [3, 5, 8], seed: 4 });
    const { x, labels } = model.sample(300, 5);
    const r = kSubspacesSync(x, { K: 3, d: [3, 5, 8], seed: 1 });
    assert.equal(clusteringAccuracy(r.labels, labels), 1);
    r.bases.forEach((U, k) => assert.ok(subspaceDistance(U, model.bases[k]) < 1e-3, `component ${k}`));
  });

  it('the subspace-iteration refit matches the svd kernel (n = 100, m = 300, decaying spectrum)', () => {
    const n = 100, m = 300, d = 7;
    const X = randn(m * n, 17);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) X[i * n + j] *= Math.exp(-j / 10);
    const warm = new Float32Array(n * 15);
    for (let j = 0; j < 15; j++) warm[(j + 40) * 15 + j] = 1;
    const [U] = topSubspaces([{ X, m, d, warm }], n, 500, 1e-12);
    const V = new Float32Array(n * d);
    kernels().svd(X, 1, m, n, d, new Float32Array(m * d), new Float32Array(d), V);
    assert.ok(subspaceDistance(matrix(n, d, U), matrix(n, d, V)) < 1e-3);
  });

  it('cancels with an AbortSignal (AbortError), before and during the work', async () => {
    const { x } = twoSubspaces(4, 8, 0);
    const before = new AbortController();
    before.abort();
    await assert.rejects(kSubspaces(x, { K: 2, d: 4, signal: before.signal }), { name: 'AbortError' });
    const during = new AbortController();
    await assert.rejects(kSubspaces(x, { K: 2, d: 4, signal: during.signal, onProgress: () => during.abort() }), { name: 'AbortError' });
    const r = await kSubspaces(x, { K: 2, d: 4, seed: 0 });
    assert.deepEqual(r.labels, kSubspacesSync(x, { K: 2, d: 4, seed: 0 }).labels);
  });

  it('rejects bad input with errors naming the argument', () => {
    const x = matrix(10, 5, randn(50, 1));
    const bad = (opts: object, re: RegExp, data: unknown = x): void => {
      assert.throws(() => kSubspacesSync(data as Matrix, opts as never), re);
    };
    bad({ K: 2, d: 2 }, /for x but received/, { rows: 2, cols: 2, data: [1, 2, 3, 4] });
    bad({ K: 2, d: 2 }, /for x\.data but received NaN at index 7/, matrix(10, 5, randn(50, 1).map((v, i) => (i === 7 ? NaN : v))));
    bad({ K: 1, d: 2 }, /at least 1 rows for x but received 0 x 5/, matrix(0, 5));
    bad({ K: 3, d: 2 }, /at least 3 rows for x but received 2 x 5/, matrix(2, 5, randn(10, 2)));
    bad({ K: 0, d: 2 }, /for K but received 0/);
    bad({ K: 2, d: 0 }, /for d but received 0/);
    bad({ K: 2, d: 6 }, /integer in \[1, 5\] for d but received 6/);
    bad({ K: 2, d: [1, 2, 3] }, /array of K = 2 numbers for d/);
    bad({ K: 2, d: 2, init: 'kmeans' }, /for init but received "kmeans"/);
    bad({ K: 2, d: 2, restarts: 0 }, /for restarts but received 0/);
    bad({ K: 2, d: 2, seed: -1 }, /for seed but received -1/);
    bad({ K: 2, d: 2, signal: 'stop' }, /AbortSignal for signal/);
    assert.throws(() => kSubspacesSync(x, undefined as never), /options object/);
  });
});
