/**
 * The kernel table: one set of cases, run against every backend variant (test/backends.ts).
 * Each backend is compared with the js reference (float64 accumulation) and, where one exists, with
 * an independent oracle (known answers, Gaussian conditioning, finite differences, closed forms).
 *
 * Tolerances, per kernel, and why:
 * - gemm / project: |C - Cref| <= 2 k u sum|a||b| + 1e-30 (u = 2^-24): the classic bound for float32
 *   accumulation of k products; blocked FMA sums are well inside it.
 * - gate: 2e-6 absolute on the weights (energies float32 -> float64, softmax in float64).
 * - denoise: 2e-5 (|out| + ||x||_inf) per entry: float32 GEMMs of length n and D.
 * - lossGrad: loss 1e-4 relative; gradient 1e-4 of max |G| per entry (float32 GEMMs over B*n terms).
 * - svd / eigh: singular values 1e-5 relative to s_1; subspaces compared by projector distance <= 1e-4.
 * - normals: 1 ulp of float32 (Box-Muller through each platform's libm, SPEC section 8).
 */
import assert from 'node:assert/strict';
import { createJsKernels } from '../src/backend/js/index.js';
import type { Bases, Kernels, StiefelOptions } from '../src/backend/types.js';
import { validated } from '../src/backend/validate.js';
import { variants } from './backends.js';
import {
  daeOracle, lossOracle, offsetView, orthonormalityError, posteriorMeanOracle, prior, randn, randomBases, worstRatio,
} from './util.js';

const ref = createJsKernels();
const U32 = 2 ** -24;

/** Assert max ratio <= 1 with a message naming the case and the worst index. */
function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  assert.equal(got.length, want.length, `${name}: length`);
  const { ratio, at } = worstRatio(got, want, atol, rtol);
  assert.ok(ratio <= 1, `${name}: at ${at} got ${got[at]} want ${want[at]} (ratio ${ratio.toExponential(2)})`);
}

/** Column j of a row-major [rows, cols] matrix stored from offset o. */
function column(a: Float32Array, o: number, rows: number, cols: number, j: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, i) => a[o + i * cols + j]);
}

/** ||P_a - P_b||_F for the spans of two column sets (0 when they span the same subspace). */
function projectorDistance(a: Float64Array[], b: Float64Array[]): number {
  const n = a[0].length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let pa = 0, pb = 0;
      for (const v of a) pa += v[i] * v[j];
      for (const v of b) pb += v[i] * v[j];
      s += (pa - pb) ** 2;
    }
  }
  return Math.sqrt(s);
}

/** ulp distance between float32 values. */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (x: number) => (x < 0 ? 0x80000000 - x : x);
  return Math.abs(key(i[0]) - key(i[1]));
}

const SHAPES_N = [1, 3, 7, 15, 16, 17, 48, 100, 784];
const ADAM: StiefelOptions = { method: 'adam', lr: 1e-2, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' };

for (const v of variants()) {
  describe(`kernels on ${v.label}`, function () {
    const k: Kernels = v.kernels;
    before(() => v.activate());

    describe('randomness', () => {
      it('Philox4x32-10 known answers (SPEC section 8)', () => {
        const counters = new Uint32Array([0, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
          0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]);
        const want = [[0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
          [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]];
        const keys = [[0, 0], [0xffffffff, 0xffffffff], [0xa4093822, 0x299f31d0]];
        for (let c = 0; c < 3; c++) {
          const out = new Uint32Array(4);
          k.philox(counters.slice(4 * c, 4 * c + 4), new Uint32Array(keys[c]), out);
          assert.deepEqual([...out], want[c]);
        }
        // Batched form: all three blocks with the first key.
        const out = new Uint32Array(12);
        k.philox(counters, new Uint32Array([0, 0]), out);
        assert.deepEqual([...out.slice(0, 4)], want[0]);
      });

      it('the first 10^4 uint32 of a stream are bit-identical to the reference', () => {
        for (const [seed, stream] of [[0, 0], [12345678901, 7], [2 ** 53 - 1, 0xffffffff]]) {
          const got = new Uint32Array(10000), want = new Uint32Array(10000);
          k.randomU32(got, seed, stream, 0);
          ref.randomU32(want, seed, stream, 0);
          assert.deepEqual(got, want, `seed ${seed} stream ${stream}`);
        }
      });

      it('any window of a stream equals the same slice of the whole stream (offsets, block > 2^32)', () => {
        const whole = new Uint32Array(64);
        k.randomU32(whole, 42, 3, 0);
        for (const [off, len] of [[1, 5], [3, 17], [4, 8], [37, 27]]) {
          const part = offsetView(new Uint32Array(len));
          k.randomU32(part, 42, 3, off);
          assert.deepEqual([...part], [...whole.slice(off, off + len)]);
        }
        const far = 4 * 2 ** 32 + 6;
        const got = new Uint32Array(9), want = new Uint32Array(9);
        k.randomU32(got, 5, 1, far);
        ref.randomU32(want, 5, 1, far);
        assert.deepEqual(got, want);
        // Block 2^32 is counter (0, 1, stream, 0), not block 0 again.
        const first = new Uint32Array(4);
        k.randomU32(first, 5, 1, 0);
        const wrapped = new Uint32Array(4);
        k.randomU32(wrapped, 5, 1, 4 * 2 ** 32);
        assert.notDeepEqual(first, wrapped);
      });

      it('normals agree with the reference to 1 ulp, windows included', () => {
        for (const [len, off] of [[1, 0], [3, 1], [10001, 0], [257, 6]]) {
          const got = offsetView(new Float32Array(len)), want = new Float32Array(len);
          k.normals(got, 77, 2, off);
          ref.normals(want, 77, 2, off);
          let worst = 0;
          for (let i = 0; i < len; i++) worst = Math.max(worst, ulps(got[i], want[i]));
          assert.ok(worst <= 1, `worst ${worst} ulps`);
        }
        // Every window is the same slice of the whole stream, bit for bit (a backend may take whole
        // groups of blocks by a faster path), also across block 2^32, where the counter's high word
        // changes inside a group.
        for (const base of [0, 4 * 2 ** 32 - 24]) {
          const whole = new Float32Array(96);
          k.normals(whole, 77, 2, base);
          for (const [off, len] of [[1, 5], [3, 17], [4, 16], [8, 64], [37, 59]]) {
            const part = offsetView(new Float32Array(len));
            k.normals(part, 77, 2, base + off);
            assert.deepEqual([...part], [...whole.slice(off, off + len)], `window ${base} + ${off}, ${len}`);
          }
          const want = new Float32Array(96);
          ref.normals(want, 77, 2, base);
          for (let i = 0; i < 96; i++) assert.ok(ulps(whole[i], want[i]) <= 1, `element ${base} + ${i}`);
        }
      });

      it('normals have mean 0 and variance 1; uniforms lie in (0, 1) with mean 1/2', () => {
        const z = new Float32Array(200000);
        k.normals(z, 9, 0, 0);
        let m = 0, s2 = 0;
        for (const x of z) { m += x; s2 += x * x; }
        m /= z.length;
        s2 = s2 / z.length - m * m;
        assert.ok(Math.abs(m) < 0.01 && Math.abs(s2 - 1) < 0.01, `mean ${m} var ${s2}`);
        const u = new Float32Array(100000), uref = new Float32Array(100000);
        k.uniforms(u, 9, 1, 5);
        ref.uniforms(uref, 9, 1, 5);
        assert.deepEqual(u, uref);
        let mu = 0;
        for (const x of u) { assert.ok(x > 0 && x < 1); mu += x; }
        assert.ok(Math.abs(mu / u.length - 0.5) < 0.005);
      });
    });

    describe('gemm', () => {
      const shapes = [[1, 1, 1], [3, 7, 5], [7, 3, 16], [17, 15, 16], [16, 17, 48], [48, 100, 7], [33, 65, 129], [5, 160, 784]];
      for (const [m, n, kk] of shapes) {
        for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          it(`m=${m} n=${n} k=${kk} transA=${tA} transB=${tB}`, () => {
            const A = randn(m * kk, m * 1000 + kk), B = randn(kk * n, n * 7 + kk + 1);
            const C0 = randn(m * n, 5);
            for (const [alpha, beta] of [[1, 0], [0.5, -2]]) {
              const got = offsetView(C0.slice()), want = C0.slice();
              k.gemm(tA, tB, m, n, kk, alpha, offsetView(A), offsetView(B), beta, got);
              ref.gemm(tA, tB, m, n, kk, alpha, A, B, beta, want);
              // Error bound: 2 k u (|alpha| |A||B| + |beta| |C|).
              const absA = A.map(Math.abs), absB = B.map(Math.abs), bound = new Float32Array(m * n);
              ref.gemm(tA, tB, m, n, kk, Math.abs(alpha), absA, absB, 0, bound);
              for (let i = 0; i < m * n; i++) {
                const tol = 2 * (kk + 2) * U32 * (bound[i] + Math.abs(beta * C0[i])) + 1e-30;
                assert.ok(Math.abs(got[i] - want[i]) <= tol, `at ${i}: ${got[i]} vs ${want[i]} (tol ${tol})`);
              }
            }
          });
        }
      }
      it('beta = 0 ignores NaN in C', () => {
        const C = new Float32Array(6).fill(NaN);
        k.gemm(false, false, 2, 3, 1, 1, new Float32Array([1, 2]), new Float32Array([1, 2, 3]), 0, C);
        assert.deepEqual([...C], [1, 2, 3, 2, 4, 6]);
      });
    });

    describe('project and gate', () => {
      for (const n of SHAPES_N) {
        for (const dims of [[1], [3, 5], [16, 17], [2, 1, 7]].map((ds) => ds.map((d) => Math.min(n, d)))) {
          const B = n === 784 ? 5 : 17;
          it(`project n=${n} dims=${dims} B=${B}`, () => {
            const D = dims.reduce((a, b) => a + b, 0);
            const U = randomBases(n, dims, n + D), x = randn(B * n, n * 31 + D);
            const bases = k.createBases(n, Int32Array.from(dims), U);
            const rb = ref.createBases(n, Int32Array.from(dims), U);
            const got = offsetView(new Float32Array(B * D)), want = new Float32Array(B * D);
            k.project(offsetView(x), B, bases, got);
            ref.project(x, B, rb, want);
            const bound = new Float32Array(B * D);
            ref.gemm(false, false, B, D, n, 1, x.map(Math.abs), U.map(Math.abs), 0, bound);
            for (let i = 0; i < B * D; i++) {
              assert.ok(Math.abs(got[i] - want[i]) <= 2 * (n + 2) * U32 * bound[i] + 1e-30, `at ${i}`);
            }
            bases.dispose();
          });
        }
      }
      it('gate is a stable softmax: huge phi (1e8), uniform gating, -Infinity-free', () => {
        const dims = Int32Array.from([3, 1, 4]), B = 5, K = 3, D = 8;
        const P = randn(B * D, 3);
        for (const scale of [1e-6, 1, 1e8]) {
          const bias = Float64Array.from(randn(B * K, 4)), phi = new Float64Array(B * K).fill(scale);
          const got = new Float32Array(B * K), want = new Float32Array(B * K);
          k.gate(offsetView(P), B, dims, bias, phi, got);
          ref.gate(P, B, dims, bias, phi, want);
          close(`gate phi=${scale}`, got, want, 2e-6, 0);
          for (let b = 0; b < B; b++) {
            const s = got[b * K] + got[b * K + 1] + got[b * K + 2];
            assert.ok(Math.abs(s - 1) < 1e-6 && got.every(Number.isFinite));
          }
        }
      });
    });

    describe('denoise', () => {
      const configs = [
        { n: 7, dims: [2, 3], B: 5, p: prior(2, { pi: [0.3, 0.7], lambda: [1, 2], delta: 0.3 }), label: 'general (pi, lambda, delta, unequal d)' },
        { n: 16, dims: [4, 4, 4], B: 9, p: prior(3), label: "paper's case" },
        { n: 17, dims: [1, 5], B: 3, p: prior(2, { pi: [0.5, 0.5], lambda: [0.5, 3], delta: 0.05 }), label: 'general, n = W + 1' },
      ];
      for (const c of configs) {
        it(`matches Gaussian conditioning with the full covariance: ${c.label}`, () => {
          const D = c.dims.reduce((a, b) => a + b, 0);
          const U = randomBases(c.n, c.dims, 11);
          const bases = k.createBases(c.n, Int32Array.from(c.dims), U);
          for (const sigmaScale of [1e-4, 0.05, 1, 1e4]) {
            const x = randn(c.B * c.n, 5 + c.n);
            // Points near the model's support at small sigma (so gating is not on a knife edge).
            const z = randn(c.B * D, 77);
            for (let b = 0; b < c.B; b++) {
              const comp = b % c.dims.length;
              let off = 0;
              for (let kk = 0; kk < comp; kk++) off += c.dims[kk];
              for (let i = 0; i < c.n; i++) {
                let t = 0;
                for (let j = off; j < off + c.dims[comp]; j++) t += U[i * D + j] * z[b * D + j];
                x[b * c.n + i] = t + sigmaScale * x[b * c.n + i];
              }
            }
            const s = new Float32Array(c.B).map((_, b) => (b % 2 ? 0.8 : 1));
            const sigma = new Float32Array(c.B).fill(sigmaScale);
            for (let b = 0; b < c.B; b++) for (let i = 0; i < c.n; i++) x[b * c.n + i] *= s[b];
            const out = offsetView(new Float32Array(c.B * c.n)), w = new Float32Array(c.B * c.dims.length);
            k.denoise(offsetView(x), c.B, bases, c.p, s, sigma, out, w);
            for (let b = 0; b < c.B; b++) {
              const xt = Float64Array.from(x.subarray(b * c.n, (b + 1) * c.n));
              const o = posteriorMeanOracle(xt, Float64Array.from(U), c.dims, c.p, s[b], sigma[b]);
              if (v.label === 'js') {
                // The low-rank formula is the posterior mean (orthonormal U): the oracles agree, up to
                // U being orthonormal only to float32 rounding (1e-9 failed: "got -0.0420574522 want
                // -0.0420574386").
                close('formula vs conditioning', daeOracle(xt, Float64Array.from(U), c.dims, c.p, s[b], sigma[b]), o.mean, 1e-6 * (1 + Math.max(...o.mean.map(Math.abs))), 1e-6);
              }
              const scale = Math.max(...xt.map(Math.abs)) / s[b];
              close(`sigma=${sigmaScale} sample ${b}`, out.subarray(b * c.n, (b + 1) * c.n), o.mean, 1e-4 * scale + 1e-6, 1e-4);
              close(`weights sigma=${sigmaScale} sample ${b}`, w.subarray(b * c.dims.length, (b + 1) * c.dims.length), o.w, 1e-4, 0);
            }
            if (sigmaScale === 1e4) {
              // Uniform noise dominates: gating falls back to the prior pi (up to O(1/sigma^2)).
              for (let b = 0; b < c.B; b++) close('w -> pi', w.subarray(b * c.dims.length, (b + 1) * c.dims.length), c.p.logPi.map(Math.exp), 1e-3, 0);
            }
          }
          bases.dispose();
        });
      }
      for (const n of [1, 15, 16, 48, 100, 784]) {
        it(`agrees with the reference at n=${n}, B=${n === 784 ? 128 : 5}`, () => {
          const dims = n === 1 ? [1, 1] : [Math.min(n, 16), Math.min(n, 3), Math.min(n, 9)];
          const B = n === 784 ? 128 : 5;
          const U = randomBases(n, dims, n);
          const p = prior(dims.length, { delta: 0.1 });
          const x = randn(B * n, 2 * n);
          const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).map((_, b) => 0.01 * 3 ** (b % 8));
          const got = new Float32Array(B * n), want = new Float32Array(B * n);
          const bases = k.createBases(n, Int32Array.from(dims), U);
          k.denoise(x, B, bases, p, s, sigma, got);
          ref.denoise(x, B, ref.createBases(n, Int32Array.from(dims), U), p, s, sigma, want);
          close('denoise', got, want, 2e-5 * Math.max(...x.map(Math.abs)), 2e-5);
          bases.dispose();
        });
      }
    });

    describe('lossGrad', () => {
      it('gradient matches central finite differences of the float64 oracle loss', () => {
        const n = 7, dims = [2, 3], B = 4, D = 5;
        const p = prior(2, { pi: [0.4, 0.6], lambda: [1, 1.5], delta: 0.2 });
        // A non-orthonormal U: the formula is the derivative for any U.
        const U = randomBases(n, dims, 3).map((u, i) => u + 0.1 * Math.sin(i));
        const x0 = randn(B * n, 21), eps = randn(B * n, 22);
        const s = Float32Array.from([1, 0.9, 1, 0.7]), sigma = Float32Array.from([0.3, 1, 0.1, 2]);
        const weight = Float32Array.from([1, 2, 0.5, 1]);
        const bases = k.createBases(n, Int32Array.from(dims), U);
        const loss = k.lossGrad(x0, eps, B, s, sigma, weight, bases, p);
        const G = bases.readGrad();
        const U64 = Float64Array.from(U);
        const L0 = lossOracle(x0, eps, B, s, sigma, weight, U64, dims, p);
        assert.ok(Math.abs(loss - L0) <= 1e-4 * L0, `loss ${loss} vs ${L0}`);
        const h = 1e-5, fd = new Float64Array(n * D);
        for (let i = 0; i < n * D; i++) {
          const up = U64.slice(), dn = U64.slice();
          up[i] += h; dn[i] -= h;
          fd[i] = (lossOracle(x0, eps, B, s, sigma, weight, up, dims, p) - lossOracle(x0, eps, B, s, sigma, weight, dn, dims, p)) / (2 * h);
        }
        const gmax = Math.max(...fd.map(Math.abs));
        close('dL/dU', G, fd, 1e-4 * gmax, 1e-4);
        bases.dispose();
      });

      // The last case takes native's GEMM path (D > 32) with delta > 0 (a0 != 0), lambdas that differ and
      // a batch that is not a multiple of its 12-row parts.
      const cases: [number, number[], number, Parameters<typeof prior>[1]?][] = [
        [1, [1], 1], [16, [4, 4], 5], [17, [3, 1, 5], 128], [48, [6, 6], 128], [19, [14, 13], 9], [33, [10, 10], 64],
        [100, [17, 16], 5], [784, [16, 16, 16], 128], [57, [20, 17], 37, { pi: [0.3, 0.7], lambda: [1, 2.5], delta: 0.3 }],
      ];
      for (const [n, dims, B, opts] of cases) {
        it(`agrees with the reference: n=${n} dims=${dims} B=${B}${opts ? ' delta=' + opts.delta : ''}`, () => {
          const U = randomBases(n, [...dims], n + 1);
          const p = prior(dims.length, opts);
          // Training-like data: samples of the model at EDM-distributed noise levels.
          const x0 = randn(B * n, n + 2), eps = randn(B * n, n + 3);
          const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).map((_, b) => Math.exp(-1.2 + 1.2 * Math.sin(b)));
          const weight = sigma.map((sg) => (sg * sg + 1) / (sg * sg));
          const bases = k.createBases(n, Int32Array.from(dims), offsetView(U));
          const rb = ref.createBases(n, Int32Array.from(dims), U);
          const loss = k.lossGrad(offsetView(x0), offsetView(eps), B, s, sigma, weight, bases, p);
          const want = ref.lossGrad(x0, eps, B, s, sigma, weight, rb, p);
          assert.ok(Math.abs(loss - want) <= 1e-4 * want, `loss ${loss} vs ${want}`);
          const G = bases.readGrad(), Gref = rb.readGrad();
          close('grad', G, Gref, 1e-4 * Math.max(...Gref.map(Math.abs)), 0);
          bases.dispose();
        });
      }
    });

    describe('stiefelStep and retract', () => {
      function trained(kern: Kernels, n: number, dims: number[], U: Float32Array, o: StiefelOptions, steps: number): Bases {
        const bases = kern.createBases(n, Int32Array.from(dims), U);
        const B = 8, p = prior(dims.length);
        const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).fill(0.5), weight = new Float32Array(B).fill(1);
        for (let t = 0; t < steps; t++) {
          kern.lossGrad(randn(B * n, 1000 + t), randn(B * n, 5000 + t), B, s, sigma, weight, bases, p);
          kern.stiefelStep(bases, o);
        }
        return bases;
      }
      for (const o of [ADAM, { ...ADAM, retraction: 'polar' }, { ...ADAM, method: 'sgd', lr: 0.05 }] as StiefelOptions[]) {
        it(`${o.method}/${o.retraction}: 5 steps agree with the reference`, () => {
          const n = 17, dims = [3, 1, 5];
          const U = randomBases(n, dims, 8);
          const got = trained(k, n, dims, U, o, 5).read();
          const want = trained(ref, n, dims, U, o, 5).read();
          close('U', got, want, 1e-4, 0);
        });
      }
      it('the step follows the Riemannian gradient G - U sym(U^T G) (SGD, tiny lr, no momentum)', () => {
        const n = 9, dims = [3], lr = 1e-4;
        const U = randomBases(n, dims, 4);
        const bases = k.createBases(n, Int32Array.from(dims), U);
        const B = 3, p = prior(1);
        k.lossGrad(randn(B * n, 1), randn(B * n, 2), B, new Float32Array(B).fill(1), new Float32Array(B).fill(0.3), new Float32Array(B).fill(1), bases, p);
        const G = bases.readGrad();
        k.stiefelStep(bases, { ...ADAM, method: 'sgd', momentum: 0, lr });
        const U1 = bases.read();
        // xi = G - U sym(U^T G), in float64 here.
        const d = 3, S = new Float64Array(d * d);
        for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) for (let i = 0; i < n; i++) S[a * d + b] += U[i * d + a] * G[i * d + b];
        const xi = new Float64Array(n * d);
        for (let i = 0; i < n; i++) {
          for (let b = 0; b < d; b++) {
            let t = G[i * d + b];
            for (let a = 0; a < d; a++) t -= U[i * d + a] * 0.5 * (S[a * d + b] + S[b * d + a]);
            xi[i * d + b] = t;
          }
        }
        const moved = U1.map((u, i) => (U[i] - u) / lr);
        const xmax = Math.max(...xi.map(Math.abs));
        // Retraction is second order in lr: the residual is O(lr |xi|^2) plus float32 rounding / lr.
        close('(U - U1) / lr', moved, xi, 2e-2 * xmax + 2e-3, 0);
      });
      it('U^T U = I to 1e-5 after 10^4 steps', function () {
        if (v.label === 'js') this.timeout(120000);
        const n = 16, dims = [3, 4];
        const bases = trained(k, n, dims, randomBases(n, dims, 5), { ...ADAM, lr: 0.05 }, 10000);
        const U = bases.read();
        assert.ok(orthonormalityError(U, n, 7, 0, 3) < 1e-5);
        assert.ok(orthonormalityError(U, n, 7, 3, 4) < 1e-5);
      });
      it('retract qr is the Q of a QR with positive diagonal; polar gives a symmetric positive Q^T A', () => {
        const n = 17, dims = [1, 4, 16];
        const D = 21, A = randn(n * D, 12);
        for (const method of ['qr', 'polar'] as const) {
          const bases = k.createBases(n, Int32Array.from(dims), A);
          k.retract(bases, method);
          const Q = bases.read();
          let off = 0;
          for (const d of dims) {
            assert.ok(orthonormalityError(Q, n, D, off, d) < 2e-6, `${method} orthonormal`);
            // R = Q^T A
            for (let a = 0; a < d; a++) {
              for (let b = 0; b < d; b++) {
                let r = 0, rt = 0;
                for (let i = 0; i < n; i++) { r += Q[i * D + off + a] * A[i * D + off + b]; rt += Q[i * D + off + b] * A[i * D + off + a]; }
                if (method === 'qr' && a > b) assert.ok(Math.abs(r) < 1e-5 * n, `R[${a},${b}] = ${r}`);
                if (method === 'qr' && a === b) assert.ok(r > 0, 'positive diagonal');
                if (method === 'polar') assert.ok(Math.abs(r - rt) < 1e-4, 'symmetric');
              }
            }
            off += d;
          }
          bases.dispose();
        }
      });
      it('retract completes a rank-deficient block deterministically', () => {
        const n = 5, A = new Float32Array(n * 3);
        for (let i = 0; i < n; i++) { A[i * 3] = 1; A[i * 3 + 1] = 2; }  // two parallel columns, one zero
        const bases = k.createBases(n, Int32Array.from([3]), A);
        k.retract(bases, 'qr');
        const Q = bases.read();
        assert.ok(orthonormalityError(Q, n, 3, 0, 3) < 1e-6);
        const rb = ref.createBases(n, Int32Array.from([3]), A);
        ref.retract(rb, 'qr');
        close('completion', Q, rb.read(), 1e-6, 0);
      });
    });

    describe('trainSteps', () => {
      // T minibatches of draws: rows `index [T B]` (with repeats) of `data [N, n]`, the noise window at an
      // offset that is not a multiple of the generators' block or group sizes, levels `[T B]`; lr[2] = 0
      // (no step there, as in a warm-up from 0).
      function draws(n: number, B: number, T: number, seed: number, N = 7) {
        const s = new Float32Array(T * B).fill(1), sigma = new Float32Array(T * B).map((_, b) => Math.exp(-1.2 + 1.2 * Math.sin(b)));
        return {
          data: randn(N * n, seed), N, index: Int32Array.from({ length: T * B }, (_, j) => (j * 5 + seed) % N),
          noise: { seed: seed + 1, stream: 9, offset: 1001 }, s, sigma, weight: sigma.map((sg) => (sg * sg + 1) / (sg * sg) / B),
          lr: Float64Array.from({ length: T }, (_, t) => (t === 2 ? 0 : 0.01 / (1 + t))),
        };
      }
      /** The same steps one call at a time: the rows and the noise of minibatch t, lossGrad, then stiefelStep where lr > 0. */
      function oneByOne(kern: Kernels, bases: Bases, d: ReturnType<typeof draws>, B: number, T: number, o: StiefelOptions): number[] {
        const n = bases.n, p = prior(bases.K), rows = (a: Float32Array, t: number) => a.subarray(t * B, (t + 1) * B);
        return Array.from({ length: T }, (_, t) => {
          const x0 = new Float32Array(B * n), eps = new Float32Array(B * n);
          for (let b = 0; b < B; b++) x0.set(d.data.subarray(d.index[t * B + b] * n, (d.index[t * B + b] + 1) * n), b * n);
          kern.normals(eps, d.noise.seed, d.noise.stream, d.noise.offset + t * B * n);
          const loss = kern.lossGrad(x0, eps, B, rows(d.s, t), rows(d.sigma, t), rows(d.weight, t), bases, p);
          if (d.lr[t] > 0) kern.stiefelStep(bases, { ...o, lr: d.lr[t] });
          return loss;
        });
      }
      for (const o of [ADAM, { ...ADAM, retraction: 'polar' }, { ...ADAM, method: 'sgd', momentum: 0.5 }] as StiefelOptions[]) {
        it(`${o.method}/${o.retraction}: equals the calls one by one exactly, and the reference within tolerance`, () => {
          const n = 17, dims = [3, 1, 5], B = 6, T = 5, U = randomBases(n, dims, 21), d = draws(n, B, T, 22);
          const fused = k.createBases(n, Int32Array.from(dims), U), single = k.createBases(n, Int32Array.from(dims), U);
          const rb = ref.createBases(n, Int32Array.from(dims), U);
          try {
            const losses = new Float64Array(T);
            const done = k.trainSteps(offsetView(d.data), d.N, d.index, d.noise, B, T, offsetView(d.s), offsetView(d.sigma),
              offsetView(d.weight), fused, prior(3), o, d.lr, losses);
            assert.equal(done, T);
            assert.deepEqual([...losses], oneByOne(k, single, d, B, T, o));
            assert.deepEqual(fused.read(), single.read());
            assert.deepEqual(fused.readGrad(), single.readGrad());
            // The optimiser state carries on identically (Adam's step counter counts the steps taken).
            for (const b of [fused, single]) k.stiefelStep(b, { ...o, lr: 0.01 });
            assert.deepEqual(fused.read(), single.read());
            const want = new Float64Array(T);
            ref.trainSteps(d.data, d.N, d.index, d.noise, B, T, d.s, d.sigma, d.weight, rb, prior(3), o, d.lr, want);
            ref.stiefelStep(rb, { ...o, lr: 0.01 });
            close('losses', losses, want, 0, 1e-4);
            close('U', fused.read(), rb.read(), 1e-4, 0);
          } finally {
            for (const b of [fused, single, rb]) b.dispose();
          }
        });
      }
      it('many steps split over calls at any boundary give the same bits as one call (the noise window moves with the draws)', () => {
        const n = 12, dims = [2, 3], B = 8, T = 40, U = randomBases(n, dims, 25), d = draws(n, B, T, 26, 30);
        const one = k.createBases(n, Int32Array.from(dims), U), split = k.createBases(n, Int32Array.from(dims), U);
        try {
          const losses = new Float64Array(T), parts = new Float64Array(T);
          assert.equal(k.trainSteps(d.data, d.N, d.index, d.noise, B, T, d.s, d.sigma, d.weight, one, prior(2), ADAM, d.lr, losses), T);
          for (const [t0, t1] of [[0, 1], [1, 17], [17, 40]]) {
            const a = t0 * B, e = t1 * B, v = (x: Float32Array) => x.subarray(a, e);
            const noise = { ...d.noise, offset: d.noise.offset + a * n };
            assert.equal(k.trainSteps(d.data, d.N, d.index.subarray(a, e), noise, B, t1 - t0, v(d.s), v(d.sigma), v(d.weight), split,
              prior(2), ADAM, d.lr.subarray(t0, t1), parts.subarray(t0, t1)), t1 - t0);
          }
          assert.deepEqual([...parts], [...losses]);
          assert.deepEqual(split.read(), one.read());
        } finally {
          one.dispose();
          split.dispose();
        }
      });
      it('stops before stepping on a non-finite loss or gradient, and the validated form throws after the steps before it', () => {
        const n = 8, dims = [2, 2], B = 4, T = 4, U = randomBases(n, dims, 31), d = draws(n, B, T, 32);
        d.data.fill(1e20, 6 * n, 7 * n);  // row 6 overflows float32; minibatch 2 is the first to draw it
        d.index.fill(0, 0, 2 * B).fill(6, 2 * B + 1, 2 * B + 2);
        const bases = k.createBases(n, Int32Array.from(dims), U), single = k.createBases(n, Int32Array.from(dims), U);
        try {
          const losses = new Float64Array(T), lr = new Float64Array(T).fill(0.01);
          assert.equal(k.trainSteps(d.data, d.N, d.index, d.noise, B, T, d.s, d.sigma, d.weight, bases, prior(2), ADAM, lr, losses), 2);
          assert.ok(!Number.isFinite(losses[2]) || bases.readGrad().some((g) => !Number.isFinite(g)));
          oneByOne(k, single, { ...d, lr }, B, 2, ADAM);
          assert.deepEqual(bases.read(), single.read());
          const checked = validated(k), again = checked.createBases(n, Int32Array.from(dims), U);
          try {
            assert.throws(() => checked.trainSteps(d.data, d.N, d.index, d.noise, B, T, d.s, d.sigma, d.weight, again, prior(2), ADAM, lr, losses),
              (e: Error) => e instanceof RangeError && /for data .*overflowed float32/.test(e.message));
            assert.deepEqual(again.read(), single.read());
          } finally {
            again.dispose();
          }
        } finally {
          bases.dispose();
          single.dispose();
        }
      });
      it('T = 0 and B = 0 are no-ops that return T', () => {
        const n = 5, bases = k.createBases(n, Int32Array.of(2), randomBases(n, [2], 41)), U = bases.read(), none = new Float32Array(0);
        const data = randn(n, 42), noise = { seed: 1, stream: 2, offset: 3 }, at = new Int32Array(0);
        try {
          assert.equal(k.trainSteps(data, 1, at, noise, 3, 0, none, none, none, bases, prior(1), ADAM, new Float64Array(0), new Float64Array(0)), 0);
          const losses = new Float64Array(2);
          assert.equal(k.trainSteps(data, 1, at, noise, 0, 2, none, none, none, bases, prior(1), ADAM, new Float64Array(2), losses), 2);
          assert.deepEqual([...losses], [0, 0]);
          assert.deepEqual(bases.read(), U);
        } finally {
          bases.dispose();
        }
      });
    });

    describe('svd', () => {
      function check(name: string, A: Float32Array, batch: number, m: number, n: number, r: number, exactSubspaces: boolean): void {
        const U = offsetView(new Float32Array(batch * m * r)), S = new Float32Array(batch * r), V = new Float32Array(batch * n * r);
        k.svd(offsetView(A), batch, m, n, r, U, S, V);
        const Ur = new Float32Array(batch * m * r), Sr = new Float32Array(batch * r), Vr = new Float32Array(batch * n * r);
        ref.svd(A, batch, m, n, r, Ur, Sr, Vr);
        for (let b = 0; b < batch; b++) {
          const s1 = Sr[b * r];
          close(`${name} S[${b}]`, S.subarray(b * r, (b + 1) * r), Sr.subarray(b * r, (b + 1) * r), 1e-5 * s1 + 1e-30, 0);
          assert.ok(orthonormalityError(U, m, r, b * m * r, r) < 1e-5, `${name} U orthonormal`);
          assert.ok(orthonormalityError(V, n, r, b * n * r, r) < 1e-5, `${name} V orthonormal`);
          for (let j = 0; j < r; j++) {
            if (j > 0) assert.ok(S[b * r + j] <= S[b * r + j - 1], 'descending');
            // A v_j = s_j u_j and the sign convention.
            const u = column(U, b * m * r, m, r, j);
            let at = 0;
            for (let i = 1; i < m; i++) if (Math.abs(u[i]) > Math.abs(u[at]) + 1e-6) at = i;
            assert.ok(u[at] > 0, `${name} sign of u_${j}`);
            for (let i = 0; i < m; i++) {
              let av = 0;
              for (let c = 0; c < n; c++) av += A[b * m * n + i * n + c] * V[b * n * r + c * r + j];
              assert.ok(Math.abs(av - S[b * r + j] * u[i]) <= 1e-5 * (s1 + 1e-30) * Math.sqrt(n), `${name} A v = s u`);
            }
          }
          if (exactSubspaces) {
            // Compare the subspaces of each cluster of (nearly) equal singular values with the reference.
            let start = 0;
            for (let j = 1; j <= r; j++) {
              if (j < r && Sr[b * r + j] > 1e-3 * s1 && Sr[b * r + j - 1] - Sr[b * r + j] < 1e-3 * s1) continue;
              if (Sr[b * r + start] > 1e-3 * s1 && j === r && r < Math.min(m, n)) {
                // The last cluster may be cut by r: skip it unless separated from the r+1-th value.
                const full = new Float32Array(Math.min(m, n));
                ref.svd(A.subarray(b * m * n, (b + 1) * m * n), 1, m, n, Math.min(m, n), new Float32Array(m * Math.min(m, n)), full, new Float32Array(n * Math.min(m, n)));
                if (full[r - 1] - full[r] < 1e-3 * s1) break;
              }
              if (Sr[b * r + start] > 1e-3 * s1) {
                const cols = (X: Float32Array, rows: number) => Array.from({ length: j - start }, (_, t) => column(X, b * rows * r, rows, r, start + t));
                assert.ok(projectorDistance(cols(U, m), cols(Ur, m)) < 1e-4, `${name} left subspace ${start}..${j - 1}`);
                assert.ok(projectorDistance(cols(V, n), cols(Vr, n)) < 1e-4, `${name} right subspace ${start}..${j - 1}`);
              }
              start = j;
            }
          }
        }
      }
      for (const [m, n] of [[1, 1], [1, 7], [7, 1], [3, 7], [7, 3], [16, 16], [17, 16], [32, 32], [48, 12], [12, 48], [100, 17]]) {
        it(`random ${m}x${n}, batch 3, full and top-1`, () => {
          const A = randn(3 * m * n, m * 100 + n);
          check(`${m}x${n}`, A, 3, m, n, Math.min(m, n), true);
          check(`${m}x${n} top-1`, A, 3, m, n, 1, true);
        });
      }
      it('rank-deficient, zero and repeated singular values', () => {
        const m = 10, n = 8;
        // Rank 2: outer products of two random vectors.
        const a = randn(m, 1), b = randn(n, 2), c = randn(m, 3), d = randn(n, 4);
        const R2 = new Float32Array(m * n).map((_, i) => a[Math.floor(i / n)] * b[i % n] + c[Math.floor(i / n)] * d[i % n]);
        check('rank 2', R2, 1, m, n, n, true);
        check('zero', new Float32Array(m * n), 1, m, n, n, false);
        // Singular values 3, 3, 3, 1: Q1 diag Q2^T.
        const Q1 = randomBases(m, [4], 5), Q2 = randomBases(n, [4], 6), sv = [3, 3, 3, 1];
        const Rep = new Float32Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let t = 0; t < 4; t++) Rep[i * n + j] += Q1[i * 4 + t] * sv[t] * Q2[j * 4 + t];
        check('repeated', Rep, 1, m, n, 4, true);
        const S = new Float32Array(n);
        k.svd(new Float32Array(m * n), 1, m, n, n, new Float32Array(m * n), S, new Float32Array(n * n));
        assert.ok(S.every((x) => x === 0), 'zero matrix has zero singular values');
      });
      // Batches of small matrices: native rotates up to 16 at once in float32 (one per lane), then 8 at
      // a time in float64; these sweep the batch around those groups and stress the float32 pass.
      /** Q1 diag(s) Q2^T (float64, rounded once) for random orthonormal Q1 [m, k], Q2 [n, k]. */
      function withSpectrum(m: number, n: number, s: number[], seed: number): Float32Array {
        const k = s.length, Q1 = randomBases(m, [k], seed), Q2 = randomBases(n, [k], seed + 1);
        const A = new Float32Array(m * n);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let t = 0;
            for (let q = 0; q < k; q++) t += Q1[i * k + q] * s[q] * Q2[j * k + q];
            A[i * n + j] = t;
          }
        }
        return A;
      }
      const graded = (k: number, decades: number) => Array.from({ length: k }, (_, q) => 10 ** (-decades * q / (k - 1)));
      function batchOf(mats: Float32Array[]): Float32Array {
        const out = new Float32Array(mats.reduce((t, a) => t + a.length, 0));
        let off = 0;
        for (const a of mats) {
          out.set(a, off);
          off += a.length;
        }
        return out;
      }
      it('32x32 batches of 2, 17 and 33, 12x20 of 19, 64x64 of 3 (groups of lanes and their remainders)', () => {
        for (const batch of [2, 17, 33]) check(`32x32 batch ${batch}`, randn(batch * 32 * 32, 900 + batch), batch, 32, 32, 32, true);
        check('12x20 batch 19', randn(19 * 12 * 20, 950), 19, 12, 20, 12, true);
        check('64x64 batch 3', randn(3 * 64 * 64, 960), 3, 64, 64, 64, true);
      });
      it('ill-conditioned and rank-deficient 32x32 in one batch (singular values down to 1e-10, rank 3, zero, repeated)', () => {
        const mats = [
          withSpectrum(32, 32, graded(32, 3), 1000), withSpectrum(32, 32, graded(32, 6), 1002),
          withSpectrum(32, 32, graded(32, 10), 1004), withSpectrum(32, 32, [1, 1, 1, 1e-3, 1e-3, 1e-6, 1e-6, 1e-6], 1006),
          withSpectrum(32, 32, [5, 3, 1], 1008), new Float32Array(32 * 32),
          withSpectrum(32, 32, [...Array(16).fill(2), ...graded(16, 7)], 1010), randn(32 * 32, 1012),
          withSpectrum(32, 32, graded(32, 10).map((x, q) => (q % 2 ? x : 1 - x * 1e-3)), 1014),
        ];
        check('ill-conditioned batch', batchOf(mats), mats.length, 32, 32, 32, true);
        check('ill-conditioned batch, top-5', batchOf(mats), mats.length, 32, 32, 5, true);
      });
      it('extreme scales in one batch: the same 32x32 matrices times 2^-126 (subnormal entries) .. 2^120', () => {
        const base = randn(32 * 32, 1100), cond = withSpectrum(32, 32, graded(32, 5), 1101);
        const mats: Float32Array[] = [];
        for (const e of [-126, -100, -60, 0, 60, 100, 120]) {  // s_1 stays below the float32 maximum
          for (const a of [base, cond]) mats.push(a.map((x) => x * 2 ** e));
        }
        check('2^-126 .. 2^120', batchOf(mats), mats.length, 32, 32, 32, true);
      });
      it('top-8 of a 300x200 matrix of rank 8 plus noise 1e-2 (a cluster\'s data)', () => {
        const m = 300, n = 200, r = 8;
        const L = randn(m * r, 1), Rt = randn(n * r, 2), noise = randn(m * n, 3, 1e-2);
        const A = new Float32Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let t = noise[i * n + j];
          for (let q = 0; q < r; q++) t += L[i * r + q] * Rt[j * r + q];
          A[i * n + j] = t;
        }
        check('300x200 top-8', A, 1, m, n, r, true);
      });
      it('large matrices, few triplets: widths around the tiles, exact rank below r, no spectral gap', () => {
        const lowRank = (m: number, n: number, rank: number, noise: number, seed: number) => {
          const L = randn(m * rank, seed), Rt = randn(n * rank, seed + 1), E = randn(m * n, seed + 2, noise);
          return new Float32Array(m * n).map((_, i) => {
            let t = E[i];
            for (let q = 0; q < rank; q++) t += L[Math.floor(i / n) * rank + q] * Rt[(i % n) * rank + q];
            return t;
          });
        };
        // r = 20 keeps 40 columns in the sketch (a full strip of 32 plus a half strip); batch of 2.
        const two = new Float32Array(2 * 200 * 130);
        two.set(lowRank(200, 130, 20, 1e-2, 10));
        two.set(lowRank(200, 130, 20, 1e-2, 20), 200 * 130);
        check('200x130 top-20', two, 2, 200, 130, 20, true);
        check('130x200 top-5', lowRank(130, 200, 5, 1e-3, 30), 1, 130, 200, 5, true);
        check('rank 3, 128x100 top-16', lowRank(128, 100, 3, 0, 40), 1, 128, 100, 16, true);
        check('Gaussian 100x80 top-5', randn(100 * 80, 50), 1, 100, 80, 5, true);
      });
    });

    describe('eigh', () => {
      // Native: cyclic Jacobi up to n = 32, Householder tridiagonalisation + implicit QL above.
      for (const n of [1, 2, 3, 7, 16, 17, 32, 33, 64, 100]) {
        it(`random symmetric ${n}x${n}, batch 2`, () => {
          const G = randn(2 * n * n, n);
          const A = new Float32Array(2 * n * n);
          for (let b = 0; b < 2; b++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
            A[b * n * n + i * n + j] = G[b * n * n + i * n + j] + G[b * n * n + j * n + i];
          }
          const vals = new Float32Array(2 * n), vecs = offsetView(new Float32Array(2 * n * n));
          k.eigh(offsetView(A), 2, n, vals, vecs);
          const rv = new Float32Array(2 * n), rV = new Float32Array(2 * n * n);
          ref.eigh(A, 2, n, rv, rV);
          for (let b = 0; b < 2; b++) {
            const scale = Math.max(...rv.subarray(b * n, (b + 1) * n).map(Math.abs));
            close('values', vals.subarray(b * n, (b + 1) * n), rv.subarray(b * n, (b + 1) * n), 1e-5 * scale, 0);
            assert.ok(orthonormalityError(vecs, n, n, b * n * n, n) < 1e-5);
            // A v = lambda v
            for (let j = 0; j < n; j++) {
              for (let i = 0; i < n; i++) {
                let av = 0;
                for (let c = 0; c < n; c++) av += A[b * n * n + i * n + c] * vecs[b * n * n + c * n + j];
                assert.ok(Math.abs(av - vals[b * n + j] * vecs[b * n * n + i * n + j]) < 1e-4 * scale);
              }
            }
            close('vectors (distinct values, same sign convention)', vecs.subarray(b * n * n, (b + 1) * n * n), rV.subarray(b * n * n, (b + 1) * n * n), 1e-3, 0);
          }
        });
      }
      it('repeated eigenvalues and the zero matrix, n = 40 (tridiagonal QL)', () => {
        const n = 40, Q = randomBases(n, [n], 4), ev = Array.from({ length: n }, (_, t) => (t < 3 ? 2 : t === 3 ? -1 : 0));
        const A = new Float32Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < 4; t++) A[i * n + j] += Q[i * n + t] * ev[t] * Q[j * n + t];
        const vals = new Float32Array(n), vecs = new Float32Array(n * n);
        k.eigh(A, 1, n, vals, vecs);
        close('values', vals, [2, 2, 2, ...Array(n - 4).fill(0), -1], 1e-5, 0);
        assert.ok(orthonormalityError(vecs, n, n, 0, n) < 1e-5);
        const top = (X: Float32Array) => [0, 1, 2].map((j) => column(X, 0, n, n, j));
        assert.ok(projectorDistance(top(vecs), top(Q)) < 1e-4, 'eigenspace of the repeated value');
        k.eigh(new Float32Array(n * n), 1, n, vals, vecs);
        assert.ok(vals.every((x) => x === 0));
        assert.ok(orthonormalityError(vecs, n, n, 0, n) < 1e-6);
      });
      it('repeated eigenvalues and the zero matrix', () => {
        const n = 6, Q = randomBases(n, [n], 3), ev = [2, 2, 2, -1, 0, 0];
        const A = new Float32Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < n; t++) A[i * n + j] += Q[i * n + t] * ev[t] * Q[j * n + t];
        const vals = new Float32Array(n), vecs = new Float32Array(n * n);
        k.eigh(A, 1, n, vals, vecs);
        close('values', vals, [2, 2, 2, 0, 0, -1], 1e-5, 0);
        const top = (X: Float32Array) => [0, 1, 2].map((j) => column(X, 0, n, n, j));
        assert.ok(projectorDistance(top(vecs), top(Q)) < 1e-4, 'eigenspace of the repeated value');
        k.eigh(new Float32Array(n * n), 1, n, vals, vecs);
        assert.ok(vals.every((x) => x === 0));
        assert.ok(orthonormalityError(vecs, n, n, 0, n) < 1e-6);
      });
    });

    describe('nearest', () => {
      for (const [M, N, n] of [[1, 1, 1], [5, 3, 7], [17, 128, 16], [128, 300, 48], [20, 50, 784]]) {
        it(`M=${M} N=${N} n=${n}`, () => {
          const q = randn(M * n, M + n), r = randn(N * n, N + n);
          // Make one query an exact copy of a reference row: distance exactly 0.
          q.set(r.subarray(0, n), 0);
          const idx = offsetView(new Int32Array(M)), dist = new Float32Array(M);
          k.nearest(offsetView(q), M, offsetView(r), N, n, idx, dist);
          const ridx = new Int32Array(M), rdist = new Float32Array(M);
          ref.nearest(q, M, r, N, n, ridx, rdist);
          assert.deepEqual([...idx], [...ridx]);
          close('dist', dist, rdist, 1e-6, 1e-6);
          assert.equal(dist[0], 0);
        });
      }
      it('ties go to the lowest index', () => {
        const r = new Float32Array([1, 0, 0, 1, 1, 0]), q = new Float32Array([0.5, 0.5]);
        const idx = new Int32Array(1), dist = new Float32Array(1);
        k.nearest(q, 1, r, 3, 2, idx, dist);
        assert.equal(idx[0], 0);
      });
    });

    describe('async forms', () => {
      it('return Promises with the same results as the sync forms', async () => {
        const n = 48, dims = Int32Array.from([6, 6]), B = 16;
        const U = randomBases(n, [6, 6], 1), x = randn(B * n, 2), eps = randn(B * n, 3), p = prior(2);
        const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).fill(0.2), wt = new Float32Array(B).fill(1);
        const b1 = k.createBases(n, dims, U), b2 = k.createBases(n, dims, U);
        const l1 = k.lossGrad(x, eps, B, s, sigma, wt, b1, p);
        const l2 = await k.async.lossGrad(x, eps, B, s, sigma, wt, b2, p);
        assert.equal(l1, l2);
        assert.deepEqual(b1.readGrad(), b2.readGrad());
        const o1 = new Float32Array(B * n), o2 = new Float32Array(B * n);
        k.denoise(x, B, b1, p, s, sigma, o1);
        await k.async.denoise(x, B, b1, p, s, sigma, o2);
        assert.deepEqual(o1, o2);
        const A = randn(4 * 9 * 5, 4), S1 = new Float32Array(20), S2 = new Float32Array(20);
        k.svd(A, 4, 9, 5, 5, new Float32Array(180), S1, new Float32Array(100));
        await k.async.svd(A, 4, 9, 5, 5, new Float32Array(180), S2, new Float32Array(100));
        assert.deepEqual(S1, S2);
        b1.dispose();
        b2.dispose();
      });
    });
  });
}
