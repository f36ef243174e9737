/**
 * The mixture of low-rank Gaussians (SPEC section 1):
 * Y ~ Categorical(pi), a ~ N(0, lambda_Y I_{d_Y}), e ~ N(0, I_n), x0 = U_Y a + delta e.
 */
import { rawKernels } from '../backend/index.js';
import type { Prior } from '../backend/types.js';
import { fail, finite, int, size } from '../backend/validate.js';
import { checkMatrix, type Matrix, stack, unstack } from '../matrix.js';
import { checkSeed, gaussian, STREAM, uniform } from '../random.js';

/** Options of the random-bases form of `new MoLRG`. */
export interface MoLRGRandomOptions {
  /** Ambient dimension. */
  n: number;
  /** Number of components. */
  K: number;
  /** Subspace dimension: one for all, or one per component. */
  d: number | readonly number[];
  /** Mixing weights (sum 1); default uniform. */
  pi?: readonly number[];
  /** Latent variances; a number for all or one per component; default 1. */
  lambda?: number | readonly number[];
  /** Off-subspace noise floor; default 0. */
  delta?: number;
  /** Mutually orthogonal subspaces (disjoint column blocks of one random orthogonal matrix); needs sum d <= n. */
  orthogonal?: boolean;
  /** Seed of the random bases. */
  seed: number;
}

/** Options of the given-bases form of `new MoLRG`. */
export interface MoLRGBasesOptions {
  /** K orthonormal bases, n x d_k each. */
  bases: readonly Matrix[];
  pi?: readonly number[];
  lambda?: number | readonly number[];
  delta?: number;
}

/** Largest |U^T U - I| entry tolerated for a basis given by the user (float32 storage). */
export const ORTHONORMAL_TOLERANCE = 1e-4;

/** max |U^T U - I| of an n x d basis, in float64. */
export function orthonormalityDefect(U: Matrix): number {
  const { rows: n, cols: d, data } = U;
  let worst = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += data[i * d + a] * data[i * d + b];
      worst = Math.max(worst, Math.abs(t - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** Checks K >= 1 bases of one ambient dimension, each orthonormal; returns them. */
export function checkBases(name: string, bases: unknown): Matrix[] {
  if (!Array.isArray(bases) || bases.length < 1) fail('a non-empty array of n x d_k basis matrices', name, bases, TypeError);
  const n = checkMatrix(`${name}[0]`, bases[0]).rows;
  return bases.map((b, k) => {
    const m = checkMatrix(`${name}[${k}]`, b);
    if (m.rows !== n) throw new RangeError(`Expected ${n} rows (the ambient dimension) for ${name}[${k}] but received ${m.rows} x ${m.cols}`);
    if (m.cols < 1 || m.cols > n) throw new RangeError(`Expected 1 <= d_k <= n = ${n} columns for ${name}[${k}] but received ${m.cols}`);
    const defect = orthonormalityDefect(m);
    if (defect > ORTHONORMAL_TOLERANCE) {
      throw new RangeError(`Expected orthonormal columns (max |U^T U - I| <= ${ORTHONORMAL_TOLERANCE}) for ${name}[${k}] but received a defect of ${defect.toExponential(2)}`);
    }
    return m;
  });
}

/** A per-component value: undefined (the fallback), one number for all K, or an array of K numbers. */
export function perComponent(name: string, value: unknown, K: number, fallback: number): number[] {
  if (value === undefined) return Array(K).fill(fallback);
  if (typeof value === 'number') return Array(K).fill(value);
  if (!Array.isArray(value)) fail(`a number or an array of K = ${K} numbers`, name, value, TypeError);
  if (value.length !== K) fail(`a number or an array of K = ${K} numbers`, name, value);
  return [...value];
}

/** Checks and normalises the prior hyper-parameters (pi sums to 1, lambda > 0, delta >= 0). */
export function checkPrior(K: number, pi?: readonly number[], lambda?: number | readonly number[], delta?: number): { pi: number[]; lambda: number[]; delta: number } {
  const p = perComponent('pi', pi, K, 1 / K);
  p.forEach((v, k) => finite(`pi[${k}]`, v, 0, 1));
  const total = p.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-6) fail('mixing weights that sum to 1', 'pi', `[${p.join(', ')}] (sum ${total})`);
  const l = perComponent('lambda', lambda, K, 1);
  l.forEach((v, k) => finite(`lambda[${k}]`, v, 0, Infinity, true));
  return { pi: p, lambda: l, delta: finite('delta', delta ?? 0, 0) };
}

/** Orthonormal random bases: Q of a QR (positive diag R, so Haar) of Gaussian matrices. */
function randomBases(n: number, dims: number[], orthogonal: boolean, seed: number): Matrix[] {
  const k = rawKernels();
  if (orthogonal) {
    // Disjoint column blocks of one Haar-random n x n orthogonal matrix.
    const Q = k.createBases(n, Int32Array.of(n), gaussian(n * n, seed, STREAM.bases));
    k.retract(Q, 'qr');
    const all = Q.read();
    Q.dispose();
    const D = dims.reduce((a, b) => a + b, 0);
    const U = new Float32Array(n * D);
    for (let i = 0; i < n; i++) U.set(all.subarray(i * n, i * n + D), i * D);
    return unstack(U, n, dims);
  }
  const D = dims.reduce((a, b) => a + b, 0);
  const b = k.createBases(n, Int32Array.from(dims), gaussian(n * D, seed, STREAM.bases));
  k.retract(b, 'qr');
  const U = b.read();
  b.dispose();
  return unstack(U, n, dims);
}

/** A mixture of low-rank Gaussians (SPEC section 1). */
export class MoLRG {
  /** Ambient dimension. */
  readonly n: number;
  /** Number of components. */
  readonly K: number;
  /** d_k per component. */
  readonly dims: readonly number[];
  /** The K orthonormal bases, n x d_k each. */
  readonly bases: readonly Matrix[];
  /** Mixing weights. */
  readonly pi: readonly number[];
  /** Latent variances. */
  readonly lambda: readonly number[];
  /** Off-subspace noise floor. */
  readonly delta: number;

  constructor(options: MoLRGRandomOptions | MoLRGBasesOptions) {
    if (typeof options !== 'object' || options === null) fail('an options object', 'options', options, TypeError);
    if ('bases' in options) {
      this.bases = checkBases('bases', options.bases).map((b) => ({ rows: b.rows, cols: b.cols, data: b.data.slice() }));
      this.n = this.bases[0].rows;
      this.K = this.bases.length;
      this.dims = this.bases.map((b) => b.cols);
    } else {
      const n = int('n', options.n, 1), K = int('K', options.K, 1);
      size(n >= K ? 'n' : 'K', n, K); // every component has at least one column: U [n, D] with D >= K
      const dims = perComponent('d', options.d, K, 0).map((d, k) => int(`d[${k}]`, d, 1, n));
      size('d', n, dims.reduce((a, b) => a + b, 0));
      const seed = checkSeed('seed', options.seed);
      const orthogonal = options.orthogonal ?? false;
      if (typeof orthogonal !== 'boolean') fail('a boolean', 'orthogonal', orthogonal, TypeError);
      if (orthogonal && dims.reduce((a, b) => a + b, 0) > n) {
        fail(`sum of d_k <= n = ${n} with orthogonal subspaces`, 'd', `[${dims.join(', ')}]`);
      }
      this.n = n;
      this.K = K;
      this.dims = dims;
      this.bases = randomBases(n, dims, orthogonal, seed);
    }
    const p = checkPrior(this.K, options.pi, options.lambda, options.delta);
    this.pi = p.pi;
    this.lambda = p.lambda;
    this.delta = p.delta;
  }

  /** The prior in kernel form. */
  prior(): Prior {
    return { logPi: Float64Array.from(this.pi, Math.log), lambda: Float64Array.from(this.lambda), delta: this.delta };
  }

  /** The bases stacked as U [n, D]. */
  stacked(): Float32Array {
    return stack(this.bases);
  }

  /** N samples and their component labels; the same seed gives the same samples on every backend. */
  sample(N: number, seed: number): { x: Matrix; labels: Int32Array } {
    size('N', int('N', N, 0), this.n);
    checkSeed('seed', seed);
    const { n, K } = this;
    const u = uniform(N, seed, STREAM.labels);
    const labels = new Int32Array(N);
    const cdf: number[] = [];
    this.pi.reduce((acc, p, k) => { cdf[k] = acc + p; return cdf[k]; }, 0);
    for (let i = 0; i < N; i++) {
      let k = 0;
      while (k < K - 1 && u[i] >= cdf[k]) k++;
      labels[i] = k;
    }
    // Latent coordinates: sample i owns normals [i * dmax, i * dmax + d_{y_i}) of the latent stream.
    const dmax = Math.max(...this.dims);
    const a = gaussian(N * dmax, seed, STREAM.latent);
    const x = new Float32Array(N * n);
    const kern = rawKernels();
    for (let k = 0; k < K; k++) {
      const idx: number[] = [];
      for (let i = 0; i < N; i++) if (labels[i] === k) idx.push(i);
      if (!idx.length) continue;
      const d = this.dims[k], scale = Math.sqrt(this.lambda[k]);
      const A = new Float32Array(idx.length * d);
      idx.forEach((i, r) => { for (let j = 0; j < d; j++) A[r * d + j] = scale * a[i * dmax + j]; });
      const X = new Float32Array(idx.length * n);
      kern.gemm(false, true, idx.length, n, d, 1, A, this.bases[k].data, 0, X);
      idx.forEach((i, r) => x.set(X.subarray(r * n, (r + 1) * n), i * n));
    }
    if (this.delta > 0) {
      const e = gaussian(N * n, seed, STREAM.floor);
      for (let i = 0; i < N * n; i++) x[i] += this.delta * e[i];
    }
    return { x: { rows: N, cols: n, data: x }, labels };
  }
}
