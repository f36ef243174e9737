/**
 * Numerical extremes through the public API (issue 7): noise levels from 1e-6 to 1e6, near-identical
 * subspaces, data of rank 0 and 1 (default backend), and values near the float32 limits on every
 * backend variant of test/backends.ts. Every case must give finite results or a clear RangeError,
 * never a silent NaN / Infinity (the policy of docs/kernels.md, "Extreme scales").
 */
import assert from 'node:assert/strict';
import {
  backendInfo, exactDenoiser, kSubspaces, lowRankDAE, matchSubspaces, matrix, MoLRG, trainDAE, type Matrix,
} from '../src/api.js';
import { validated } from '../src/backend/validate.js';
import { activeDuring, variants } from './backends.js';
import { prior, randomBases } from './util.js';

const SIGMAS = [1e-6, 1e-4, 1e-2, 1, 1e2, 1e4, 1e6];

function assertFinite(name: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) assert.fail(`${name}: non-finite ${a[i]} at index ${i}`);
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function rowNorm(x: Matrix, b: number): number {
  let s = 0;
  for (let i = b * x.cols; i < (b + 1) * x.cols; i++) s += x.data[i] * x.data[i];
  return Math.sqrt(s);
}

function scaled(x: Matrix, factor: number): Matrix {
  return matrix(x.rows, x.cols, x.data.map((v) => v * factor));
}

/** Deterministic small off-subspace perturbation of every entry (so no point lies exactly on a subspace). */
function jitter(x: Matrix, amount: number): Matrix {
  return matrix(x.rows, x.cols, x.data.map((v, i) => v + amount * Math.sin(i * 12.9898 + 1.7)));
}

/** Projection of row b of x onto the span of basis U [n, d] (float64). */
function project(U: Matrix, x: Matrix, b: number): Float64Array {
  const n = U.rows, d = U.cols;
  const c = new Float64Array(d);
  for (let j = 0; j < d; j++) for (let i = 0; i < n; i++) c[j] += U.data[i * d + j] * x.data[b * n + i];
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) p[i] += U.data[i * d + j] * c[j];
  return p;
}

/** Row b of x projected onto the nearest of the subspaces (largest projection norm). */
function nearestProjection(bases: readonly Matrix[], x: Matrix, b: number): Float64Array {
  let best: Float64Array | null = null, bestNorm = -1;
  for (const U of bases) {
    const p = project(U, x, b);
    const nrm = p.reduce((a, v) => a + v * v, 0);
    if (nrm > bestNorm) { bestNorm = nrm; best = p; }
  }
  return best as Float64Array;
}

/** Two orthonormal n x d bases whose subspaces are `angle` apart (one principal angle). */
function nearlyIdentical(n: number, d: number, angle: number, seed: number): [Matrix, Matrix] {
  const Q = randomBases(n, [d + 1], seed); // [n, d + 1], orthonormal columns
  const U1 = new Float32Array(n * d), U2 = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      U1[i * d + j] = Q[i * (d + 1) + j];
      U2[i * d + j] = Q[i * (d + 1) + j];
    }
    // Rotate the first column towards column d by `angle`.
    U2[i * d] = Math.cos(angle) * Q[i * (d + 1)] + Math.sin(angle) * Q[i * (d + 1) + d];
  }
  return [matrix(n, d, U1), matrix(n, d, U2)];
}

describe('numerical extremes (public API, default backend)', function () {
  this.timeout(60000);

  const truth = new MoLRG({ n: 16, K: 2, d: 3, seed: 1 });
  const onSupport = truth.sample(24, 2).x;
  const offSupport = jitter(onSupport, 0.05);

  describe('noise levels from 1e-6 to 1e6', () => {
    for (const make of [() => exactDenoiser(truth), () => lowRankDAE(truth.bases)] as const) {
      const D = make();
      it(`${D.kind}: finite denoise and score at every sigma`, () => {
        for (const x of [onSupport, offSupport]) {
          for (const sigma of SIGMAS) {
            const out = D.denoise(x, sigma);
            assertFinite(`denoise sigma=${sigma}`, out.data);
            const w = D.denoiseWithWeights(x, sigma).w;
            assertFinite(`weights sigma=${sigma}`, w.data);
            for (let b = 0; b < x.rows; b++) {
              let sum = 0;
              for (let k = 0; k < 2; k++) sum += w.data[b * 2 + k];
              assert.ok(Math.abs(sum - 1) < 1e-5, `weights of row ${b} sum to ${sum} at sigma=${sigma}`);
            }
            assertFinite(`score sigma=${sigma}`, D.score(x, sigma).data);
          }
        }
      });

      it(`${D.kind}: at sigma = 1e6 the output is ~0`, () => {
        const out = D.denoise(offSupport, 1e6);
        // lambda / (lambda + sigma^2) ||x|| ~ 1e-12 ||x||
        assert.ok(maxAbs(out.data) <= 1e-9 * Math.max(1, maxAbs(offSupport.data)), `max |out| = ${maxAbs(out.data)}`);
      });

      it(`${D.kind}: at sigma = 1e-6 the output is the projection onto the nearest subspace`, () => {
        const out = D.denoise(offSupport, 1e-6);
        const n = offSupport.cols;
        for (let b = 0; b < offSupport.rows; b++) {
          const p = nearestProjection(truth.bases, offSupport, b);
          for (let i = 0; i < n; i++) {
            const err = Math.abs(out.data[b * n + i] - p[i]);
            assert.ok(err <= 1e-5 * (1 + maxAbs(p)), `row ${b} entry ${i}: ${out.data[b * n + i]} vs ${p[i]}`);
          }
        }
      });

      it(`${D.kind}: per-row sigmas spanning 1e-6 .. 1e6 in one batch equal the one-level calls`, () => {
        const rows = SIGMAS.length;
        const x = matrix(rows, offSupport.cols, offSupport.data.slice(0, rows * offSupport.cols));
        const mixed = D.denoise(x, SIGMAS);
        assertFinite('mixed', mixed.data);
        for (let b = 0; b < rows; b++) {
          const one = D.denoise(matrix(1, x.cols, x.data.slice(b * x.cols, (b + 1) * x.cols)), SIGMAS[b]);
          for (let i = 0; i < x.cols; i++) {
            const want = one.data[i], got = mixed.data[b * x.cols + i];
            assert.ok(Math.abs(got - want) <= 1e-6 * (1 + Math.abs(want)), `row ${b}: ${got} vs ${want}`);
          }
        }
      });
    }

    it('sigma outside (0, float32 max] is a RangeError, not NaN', () => {
      const D = exactDenoiser(truth);
      for (const sigma of [0, -1, 1e39, Infinity, NaN]) {
        assert.throws(() => D.denoise(onSupport, sigma), RangeError, `sigma=${sigma}`);
      }
      assert.throws(() => D.denoise(onSupport, [1, 0, ...new Array(onSupport.rows - 2).fill(1)]), RangeError);
    });
  });

  describe('near-identical subspaces (distance 1e-4)', () => {
    const [U1, U2] = nearlyIdentical(20, 3, 1e-4, 7);
    const model = new MoLRG({ bases: [U1, U2] });
    const { x } = model.sample(120, 3);

    it('the model is accepted and its distance is ~1e-4', () => {
      const m = matchSubspaces([U1], [U2]);
      assertFinite('distance', [m.max]);
      assert.ok(m.max > 0 && m.max < 1e-3, `distance ${m.max}`);
    });

    it('exactDenoiser is finite at every sigma, with weights that sum to 1', () => {
      const D = exactDenoiser(model);
      for (const sigma of SIGMAS) {
        const { out, w } = D.denoiseWithWeights(jitter(x, 0.01), sigma);
        assertFinite(`out sigma=${sigma}`, out.data);
        assertFinite(`w sigma=${sigma}`, w.data);
      }
    });

    it('kSubspaces gives finite orthonormal bases on (or next to) the common subspace', async () => {
      const r = await kSubspaces(x, { K: 2, d: 3, seed: 3 });
      for (const b of r.bases) assertFinite('kss basis', b.data);
      assert.ok(Number.isFinite(r.objective) && Number.isFinite(r.residual));
      assert.ok(r.residual <= 1e-6 * r.objective + 1e-6, `residual ${r.residual}`);
      // Both learned subspaces lie within float32 noise of the (nearly) common one.
      const m = matchSubspaces(r.bases, [U1, U2]);
      assert.ok(Number.isFinite(m.max) && m.max < 1e-2, `distance ${m.max}`);
    });

    it('trainDAE gives finite bases and losses', async () => {
      const r = await trainDAE(x, { K: 2, d: 3, steps: 100, seed: 3 });
      for (const b of r.bases) assertFinite('dae basis', b.data);
      assertFinite('losses', [r.loss, r.initialLoss, ...r.losses, ...r.history.map((h) => h.loss)]);
      const m = matchSubspaces(r.bases, [U1, U2]);
      assert.ok(Number.isFinite(m.max) && m.max < 5e-2, `distance ${m.max}`);
    });
  });

  describe('data of rank 0 and rank 1', () => {
    const n = 16, N = 20;
    const zeros = matrix(N, n);
    const rank1 = matrix(N, n, Float32Array.from({ length: N * n }, (_, i) => (Math.floor(i / n) - 9.5) * Math.cos(i % n)));

    it('rank 0: kSubspaces returns finite orthonormal bases with objective 0', async () => {
      const r = await kSubspaces(zeros, { K: 2, d: 3, seed: 3 });
      for (const b of r.bases) assertFinite('basis', b.data);
      assert.equal(r.objective, 0);
      assert.equal(r.residual, 0);
      // The bases are still valid bases: a DAE built from them accepts them.
      assertFinite('dae out', lowRankDAE(r.bases).denoise(zeros, 1).data);
    });

    it('rank 0: trainDAE with the default (edm) weighting is a clear RangeError', async () => {
      await assert.rejects(trainDAE(zeros, { K: 2, d: 3, steps: 10, seed: 3 }), (e: Error) =>
        e instanceof RangeError && /all zeros/.test(e.message));
    });

    it('rank 0: trainDAE with uniform weighting is finite', async () => {
      const r = await trainDAE(zeros, { K: 2, d: 3, steps: 20, seed: 3, weighting: 'uniform' });
      for (const b of r.bases) assertFinite('basis', b.data);
      assertFinite('losses', [r.loss, r.initialLoss, ...r.losses]);
    });

    it('rank 0: denoisers map zero inputs to zero at every sigma', () => {
      for (const sigma of SIGMAS) {
        const out = exactDenoiser(truth).denoise(zeros, sigma);
        assertFinite('out', out.data);
        assert.equal(maxAbs(out.data), 0);
      }
    });

    it('rank 1: kSubspaces and trainDAE give finite results capturing the line', async () => {
      const r = await kSubspaces(rank1, { K: 2, d: 3, seed: 3 });
      for (const b of r.bases) assertFinite('kss basis', b.data);
      assert.ok(Number.isFinite(r.objective) && r.objective > 0);
      assert.ok(Math.abs(r.residual) <= 1e-5 * r.objective, `residual ${r.residual} of ${r.objective}`);
      const t = await trainDAE(rank1, { K: 2, d: 3, steps: 50, seed: 3 });
      for (const b of t.bases) assertFinite('dae basis', b.data);
      assertFinite('losses', [t.loss, t.initialLoss, ...t.losses, ...t.history.map((h) => h.loss)]);
      // K = 1, d = 1: the line itself.
      const one = await kSubspaces(rank1, { K: 1, d: 1, seed: 3 });
      assert.ok(Math.abs(one.residual) <= 1e-5 * one.objective);
    });
  });

  describe('values near the float32 limits, on every backend variant', () => {
    // Scales at which the policy promises correct results (not only finite ones).
    const SCALES = [1e-38, 1e-30, 1e-20, 1e20, 1e30, 1e37];
    const reference = kSubspaces(onSupport, { K: 2, d: 3, seed: 3 });

    for (const v of variants()) {
      describe(v.label, () => {
        const name = activeDuring(v);

        it('runs on this variant', () => assert.equal(backendInfo().backend, name));

        for (const factor of [1e30, 1e-30]) {
          it(`data x ${factor}: denoise is finite at every sigma and no row grows`, () => {
            const D = exactDenoiser(truth);
            const x = scaled(offSupport, factor);
            for (const sigma of SIGMAS) {
              const out = D.denoise(x, sigma);
              assertFinite(`sigma=${sigma}`, out.data);
              // a convex mix of shrunk projections: no row is longer than its input (plus float32 rounding)
              for (let b = 0; b < x.rows; b++) {
                const o = rowNorm(out, b), i = rowNorm(x, b);
                assert.ok(o <= i * (1 + 1e-5), `sigma=${sigma} row ${b}: ||out|| ${o} > ||x|| ${i}`);
              }
            }
            if (factor > 1) {
              // lambda / (lambda + sigma^2) ~ 1: still the projection onto the nearest subspace, scaled.
              const out = D.denoise(x, 1e-6);
              const n = x.cols;
              for (let b = 0; b < x.rows; b++) {
                const p = nearestProjection(truth.bases, x, b);
                for (let i = 0; i < n; i++) {
                  assert.ok(Math.abs(out.data[b * n + i] - p[i]) <= 1e-5 * maxAbs(p), `row ${b} entry ${i}: ${out.data[b * n + i]} vs ${p[i]}`);
                }
              }
            }
          });
        }

        it(`kSubspaces recovers the true subspaces at every scale ${SCALES.join(', ')} (was: standard basis vectors)`, async () => {
          const ref = await reference;
          for (const factor of SCALES) {
            const r = await kSubspaces(scaled(onSupport, factor), { K: 2, d: 3, seed: 3 });
            for (const b of r.bases) assertFinite(`basis x ${factor}`, b.data);
            assert.ok(matchSubspaces(r.bases, truth.bases).max < 1e-4, `x ${factor}: distance ${matchSubspaces(r.bases, truth.bases).max}`);
            const want = ref.objective * factor * factor;
            assert.ok(Math.abs(r.objective - want) <= 1e-4 * want, `x ${factor}: objective ${r.objective} vs ${want}`);
            assert.ok(Number.isFinite(r.residual) && r.residual <= 1e-5 * r.objective, `x ${factor}: residual ${r.residual}`);
          }
        });

        it('trainDAE (edm weighting) on data x 1e-30 gives finite losses (was: 1 / sigma_data^2 = 1e60 -> Infinity in float32)', async () => {
          const r = await trainDAE(scaled(onSupport, 1e-30), { K: 2, d: 3, steps: 20, seed: 3 });
          for (const b of r.bases) assertFinite('basis', b.data);
          assertFinite('losses', [r.loss, r.initialLoss, ...r.losses, ...r.history.map((h) => h.loss)]);
        });

        for (const weighting of ['edm', 'uniform'] as const) {
          for (const factor of [1e20, 1e30]) {
            it(`trainDAE (${weighting} weighting) on data x ${factor} keeps the true subspaces (was: gradient overflow, NaN or e_1..e_d bases)`, async () => {
              const r = await trainDAE(scaled(onSupport, factor), { K: 2, d: 3, steps: 20, seed: 3, weighting });
              for (const b of r.bases) assertFinite('basis', b.data);
              assertFinite('losses', [r.loss, r.initialLoss, ...r.losses, ...r.history.map((h) => h.loss)]);
              assert.ok(matchSubspaces(r.bases, truth.bases).max < 0.05, `distance ${matchSubspaces(r.bases, truth.bases).max}`);
            });
          }
        }

        it('a score beyond float32 (x ~ 1e30 at sigma 1e-6: 1e41) is a RangeError naming sigma; at sigma 1 it is finite', () => {
          const D = exactDenoiser(truth), x = scaled(offSupport, 1e30);
          assert.throws(() => D.score(x, 1e-6), (e: Error) => e instanceof RangeError && /for sigma but received/.test(e.message) && /float32/.test(e.message));
          assertFinite('score', D.score(x, 1).data);
        });

        it('values that overflow float32 (3e38 x ~1.4) are a clear RangeError everywhere', async () => {
          const x = scaled(onSupport, 3e38);
          assert.ok(x.data.some((v) => !Number.isFinite(v)));
          assert.throws(() => exactDenoiser(truth).denoise(x, 1), RangeError);
          await assert.rejects(kSubspaces(x, { K: 2, d: 3, seed: 3 }), RangeError);
          await assert.rejects(trainDAE(x, { K: 2, d: 3, steps: 5, seed: 3 }), RangeError);
          assert.throws(() => exactDenoiser(truth).denoise(matrix(1, 16, new Float32Array(16).fill(NaN)), 1), RangeError);
        });

        it('kernels: a gradient that overflows float32 is a RangeError in lossGrad and stiefelStep, and the bases stay as they were', async () => {
          const k = validated(v.kernels), n = 4, B = 2;
          const bases = k.createBases(n, Int32Array.of(2), randomBases(n, [2], 1));
          try {
            const U = bases.read();
            const x0 = new Float32Array(B * n).fill(1e20), eps = new Float32Array(B * n), one = new Float32Array(B).fill(1);
            const overflow = (e: Error) => e instanceof RangeError && /overflowed float32/.test(e.message);
            assert.throws(() => k.lossGrad(x0, eps, B, one, one, one, bases, prior(1)), overflow);
            await assert.rejects(k.async.lossGrad(x0, eps, B, one, one, one, bases, prior(1)), overflow);
            const opts = { method: 'adam', lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' } as const;
            assert.throws(() => k.stiefelStep(bases, opts), overflow);
            assert.deepEqual(bases.read(), U);
          } finally {
            bases.dispose();
          }
        });
      });
    }
  });
});
