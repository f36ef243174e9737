/**
 * Top-d principal subspaces of groups of samples (SPEC section 5, the K-subspaces refit; SPEC
 * section 4, the PCA initialisation of the DAE): for samples `X [m, n]` (rows) the top-d left
 * singular vectors of `X^T`, i.e. the top-d eigenvectors of the uncentred second moment `X^T X`.
 *
 * Three routes, all built on the kernel contract:
 * - few samples (m <= n, m <= SVD_MAX_M): a direct `svd` of the samples (one-sided Jacobi over m).
 * - small n (<= GRAM_MAX_N): the n x n Gram matrices of such groups by `gemm`, then one batched
 *   `eigh` over the groups. Exact, and cheap at n = 48.
 * - otherwise (MNIST, 784 x 500): warm-started block subspace iteration `V <- orth(X^T X V)` with
 *   `OVERSAMPLE` extra columns (two `gemm`s of inner size m and a small `svd` per iteration) and a
 *   final Rayleigh-Ritz step. Forming 784 x 784 Gram matrices would cost m n^2 per refit instead of
 *   2 m n r per iteration, and a dense 784 x 784 eigensolver far more.
 */
import { rawKernels } from '../backend/index.js';
import type { Matrix } from '../matrix.js';
import { gaussian, STREAM } from '../random.js';

/** Largest ambient dimension for the Gram + batched eigh route. */
export const GRAM_MAX_N = 64;

/** Extra columns carried by the subspace iteration (faster, more reliable convergence). */
export const OVERSAMPLE = 8;

/**
 * The data divided by a power of two `scale` near its root-mean-square entry (exact in float32), so
 * that products and squares of entries (Gram matrices, projection energies, losses) stay far from
 * the float32 limits at any data scale; scale-invariant results (subspaces, labels) are unchanged,
 * and energies convert back to the caller's units in float64 by `scale^2`. With `noise`, the scale
 * is that of the noisy data `x + noise eps` (the RMS sqrt(rms^2 + noise^2)). All-zero: scale 1.
 */
export function unitScale(x: Matrix, noise = 0): { x: Matrix; scale: number } {
  let sum = 0;
  for (let i = 0; i < x.data.length; i++) sum += x.data[i] * x.data[i];
  const rms = Math.sqrt(sum / Math.max(1, x.data.length) + noise * noise);
  const scale = rms > 0 ? 2 ** Math.round(Math.log2(rms)) : 1;
  if (scale === 1) return { x, scale };
  // A plain loop: TypedArray.prototype.map with a closure took 30-200 ms on 3.2 M entries (W2's data).
  const inv = 1 / scale, data = new Float32Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = x.data[i] * inv;
  return { x: { rows: x.rows, cols: x.cols, data }, scale };
}

/** Rows `idx` of `x` as one contiguous `[m, n]` array. */
export function gatherRows(x: Matrix, idx: ArrayLike<number>): Float32Array {
  const n = x.cols, out = new Float32Array(idx.length * n);
  for (let r = 0; r < idx.length; r++) out.set(x.data.subarray(idx[r] * n, (idx[r] + 1) * n), r * n);
  return out;
}

/** The leading `d` columns of a row-major `[n, c]` array, as `[n, d]`. */
function leading(A: Float32Array, n: number, c: number, d: number): Float32Array {
  if (c === d) return A.slice();
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) out.set(A.subarray(i * c, i * c + d), i * d);
  return out;
}

/** Orthonormal basis of the columns of `A [n, c]` ordered by singular value (thin SVD's U). */
function orthonormalize(A: Float32Array, n: number, c: number): Float32Array {
  const kern = rawKernels(), U = new Float32Array(n * c), S = new Float32Array(c), V = new Float32Array(c * c);
  kern.svd(A, 1, n, c, c, U, S, V);
  return U;
}

/**
 * Subspace iteration for one group: `X [m, n]`, start `V [n, r]` (orthonormal) -> top-d basis
 * `[n, d]` and the new warm start. Stops when the top-d subspace moves by less than `tol` (in
 * `d - ||U_new^T U_old||_F^2`) or after `maxIter` iterations.
 */
function subspaceIteration(X: Float32Array, m: number, n: number, d: number, V0: Float32Array, maxIter: number, tol: number): { U: Float32Array; warm: Float32Array } {
  const kern = rawKernels(), r = V0.length / n;
  let V = V0;
  const Z = new Float32Array(m * r), Y = new Float32Array(n * r), overlap = new Float32Array(d * d);
  for (let it = 0; it < maxIter; it++) {
    kern.gemm(false, false, m, r, n, 1, X, V, 0, Z);
    kern.gemm(true, false, n, r, m, 1, X, Z, 0, Y);
    const next = orthonormalize(Y, n, r);
    // Convergence of the leading d columns: d - ||V_d^T V'_d||_F^2.
    kern.gemm(true, false, d, d, n, 1, leading(V, n, r, d), leading(next, n, r, d), 0, overlap);
    let captured = 0;
    for (let i = 0; i < d * d; i++) captured += overlap[i] * overlap[i];
    V = next;
    if (d - captured <= tol * d) break;
  }
  if (m >= r) {
    // Rayleigh-Ritz: the right singular vectors W of X V order the directions inside span(V) exactly.
    // (With m < r, X^T X has rank <= m < r and the converged V is already ordered by the last svd.)
    kern.gemm(false, false, m, r, n, 1, X, V, 0, Z);
    const Us = new Float32Array(m * r), S = new Float32Array(r), W = new Float32Array(r * r);
    kern.svd(Z, 1, m, r, r, Us, S, W);
    const rotated = new Float32Array(n * r);
    kern.gemm(false, false, n, r, r, 1, V, W, 0, rotated);
    V = rotated;
  }
  return { U: leading(V, n, r, d), warm: V };
}

/**
 * A warm start `[n, r]` for the subspace iteration: the given basis `U [n, d]` followed by Gaussian
 * columns of (seed, init stream), orthonormalised.
 */
export function warmStart(U: Float32Array, n: number, d: number, seed: number): Float32Array {
  const r = Math.min(n, d + OVERSAMPLE);
  const g = gaussian(n * r, seed, STREAM.init);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) g[i * r + j] = U[i * d + j];
  const kern = rawKernels(), b = kern.createBases(n, Int32Array.of(r), g);
  try {
    kern.retract(b, 'qr');
    return b.read();
  } finally {
    b.dispose();
  }
}

/** A group of samples and the dimension of the subspace to fit to it. */
export interface Group {
  /** Samples `[m, n]`, row-major. */
  readonly X: Float32Array;
  /** Number of samples, >= 1. */
  readonly m: number;
  /** Subspace dimension d (1..n). */
  readonly d: number;
  /** Warm start `[n, r]` of the subspace-iteration route (required there, updated in place). */
  warm?: Float32Array | null;
}

/** Up to this many samples (and at most n), the route is a direct SVD of the samples. */
export const SVD_MAX_M = 64;

/** Top-min(d, m) right singular vectors of `X [m, n]` (m <= n), completed to d columns deterministically. */
function directSvd(X: Float32Array, m: number, n: number, d: number): Float32Array {
  const kern = rawKernels(), r = Math.min(d, m);
  const Us = new Float32Array(m * r), S = new Float32Array(r), V = new Float32Array(n * r);
  kern.svd(X, 1, m, n, r, Us, S, V);
  if (r === d) return V;
  // Fewer samples than dimensions: the remaining columns from the QR completion of zero columns.
  const padded = new Float32Array(n * d);
  for (let i = 0; i < n; i++) padded.set(V.subarray(i * r, (i + 1) * r), i * d);
  const b = kern.createBases(n, Int32Array.of(d), padded);
  try {
    kern.retract(b, 'qr');
    return b.read();
  } finally {
    b.dispose();
  }
}

/**
 * Top-d principal subspaces `[n, d]` (orthonormal columns) of every group, with the warm starts of
 * the subspace iteration updated in place. Routes per group: m <= min(n, SVD_MAX_M), a direct SVD of
 * the samples (cost m^2 n); else n <= GRAM_MAX_N, the n x n Gram matrix and one batched `eigh` over
 * all such groups; else warm-started subspace iteration (`maxIter`/`tol` bound it).
 */
export function topSubspaces(groups: Group[], n: number, maxIter = 50, tol = 1e-6): Float32Array[] {
  const kern = rawKernels(), out: Float32Array[] = Array(groups.length);
  const gram: number[] = [];
  groups.forEach((g, k) => {
    if (g.m === 0) throw new Error('molrg internal: topSubspaces of an empty group');
    if (g.m <= Math.min(n, SVD_MAX_M)) out[k] = directSvd(g.X, g.m, n, g.d);
    else if (n <= GRAM_MAX_N) gram.push(k);
    else {
      if (!g.warm) throw new Error('molrg internal: the subspace iteration needs a warm start');
      const { U, warm } = subspaceIteration(g.X, g.m, n, g.d, g.warm, maxIter, tol);
      g.warm = warm;
      out[k] = U;
    }
  });
  if (gram.length) {
    const G = new Float32Array(gram.length * n * n);
    gram.forEach((k, b) => kern.gemm(true, false, n, n, groups[k].m, 1, groups[k].X, groups[k].X, 0, G.subarray(b * n * n, (b + 1) * n * n)));
    const values = new Float32Array(gram.length * n), vectors = new Float32Array(gram.length * n * n);
    kern.eigh(G, gram.length, n, values, vectors);
    gram.forEach((k, b) => { out[k] = leading(vectors.subarray(b * n * n, (b + 1) * n * n), n, n, groups[k].d); });
  }
  return out;
}
