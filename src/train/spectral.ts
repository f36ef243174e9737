/**
 * Spectral initialisation of K-subspaces by thresholding-based subspace clustering (TSC; Heckel and
 * Boelcskei, "Robust subspace clustering via thresholding", IEEE Trans. Inf. Theory 2015):
 *
 * 1. absolute cosine similarity between the normalised samples (`gemm`, in row blocks);
 * 2. keep each sample's q strongest neighbours, weight `exp(-2 arccos |cos|)`, symmetrise;
 * 3. normalised affinity `M = D^(-1/2) A D^(-1/2)` (top eigenvectors of M = bottom eigenvectors of
 *    the normalised Laplacian `I - M`), its top-K eigenvectors by Chebyshev-filtered block subspace
 *    iteration on the sparse M with Rayleigh-Ritz steps (`eigh` kernel);
 * 4. k-means (k-means++ seeding, several restarts) on the unit-normalised rows of the eigenvectors.
 *
 * Samples of one subspace are more coherent with each other than with samples of another subspace,
 * so the q-nearest-neighbour graph is (nearly) a union of K components and its top-K eigenvectors
 * are (nearly) the component indicators.
 */
import { rawKernels } from '../backend/index.js';
import type { Matrix } from '../matrix.js';
import { fail, int } from '../backend/validate.js';
import { checkSeed, gaussian, STREAM, uniform } from '../random.js';
import { checkData, intOption } from './check.js';
import { runSync, type Work } from './run.js';

/**
 * Default number of neighbours kept per sample, q = 3. TSC needs q below the number of samples per
 * subspace (else samples link across subspaces) and large enough that each subspace's graph stays
 * connected. Measured (wasm, seeded): K = 2 random 4..8-dim subspaces of R^48 with N_k = 1.5d..3d,
 * q = 3 recovers at least as often as q = 5 (e.g. d = 4, N_k = 6: 81 vs 76 of 100); MNIST
 * (normalised digits, K = 10) TSC accuracy 0.70 / 0.65 / 0.64 / 0.63 for q = 3 / 6 / 10 / 20 on 2000
 * digits and 0.68 / 0.66 for q = 3 / 8 on 5000.
 */
export const DEFAULT_NEIGHBORS = 3;

/** Symmetric sparse matrix in CSR form, float64 values. */
interface Csr { N: number; rowStart: Int32Array; col: Int32Array; val: Float64Array }

/** Rows of x scaled to unit norm (zero rows stay zero). */
function normalizedRows(x: Matrix): Float32Array {
  const { rows: N, cols: n, data } = x, out = new Float32Array(N * n);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += data[i * n + j] * data[i * n + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < n; j++) out[i * n + j] = data[i * n + j] * inv;
  }
  return out;
}

/** Row-block size of the N x N cosine matrix: about 2^22 entries (16 MB) at a time. */
function blockRows(N: number): number {
  return Math.max(1, Math.min(N, Math.floor(2 ** 22 / N)));
}

/**
 * The thresholded affinity: for each sample its q largest |cos| (itself excluded, lowest index on
 * ties), weight exp(-2 arccos|cos|), then A = W + W^T (an edge kept by both ends counts twice).
 */
function* affinity(x: Matrix, q: number): Work<Csr> {
  const N = x.rows, n = x.cols, xn = normalizedRows(x), kern = rawKernels();
  const from = new Int32Array(N * q), to = new Int32Array(N * q), weight = new Float64Array(N * q);
  const bs = blockRows(N), C = new Float32Array(bs * N);
  const topVal = new Float64Array(q), topIdx = new Int32Array(q);
  for (let b0 = 0; b0 < N; b0 += bs) {
    const b = Math.min(bs, N - b0), Cb = C.subarray(0, b * N);
    kern.gemm(false, true, b, N, n, 1, xn.subarray(b0 * n, (b0 + b) * n), xn, 0, Cb);
    for (let r = 0; r < b; r++) {
      const i = b0 + r;
      let count = 0;
      // Insertion into a sorted top-q list (descending |cos|; an equal value does not displace).
      for (let j = 0; j < N; j++) {
        if (j === i) continue;
        const v = Math.abs(Cb[r * N + j]);
        if (count === q && !(v > topVal[q - 1])) continue;
        let p = count < q ? count++ : q - 1;
        while (p > 0 && v > topVal[p - 1]) { topVal[p] = topVal[p - 1]; topIdx[p] = topIdx[p - 1]; p--; }
        topVal[p] = v;
        topIdx[p] = j;
      }
      for (let t = 0; t < count; t++) {
        from[i * q + t] = i;
        to[i * q + t] = topIdx[t];
        weight[i * q + t] = Math.exp(-2 * Math.acos(Math.min(1, topVal[t])));
      }
    }
    yield;
  }
  // Symmetrise into CSR: every kept edge (i, j, w) contributes w to A[i, j] and to A[j, i].
  const E = N * q, rowStart = new Int32Array(N + 1);
  for (let e = 0; e < E; e++) { rowStart[from[e] + 1]++; rowStart[to[e] + 1]++; }
  for (let i = 0; i < N; i++) rowStart[i + 1] += rowStart[i];
  const fill = rowStart.slice(0, N), col = new Int32Array(2 * E), val = new Float64Array(2 * E);
  for (let e = 0; e < E; e++) {
    col[fill[from[e]]] = to[e]; val[fill[from[e]]++] = weight[e];
    col[fill[to[e]]] = from[e]; val[fill[to[e]]++] = weight[e];
  }
  return { N, rowStart, col, val };
}

/** In place: A -> D^(-1/2) A D^(-1/2) (isolated vertices keep zero rows). */
function normalizeAffinity(A: Csr): void {
  const { N, rowStart, col, val } = A, scale = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let deg = 0;
    for (let e = rowStart[i]; e < rowStart[i + 1]; e++) deg += val[e];
    scale[i] = deg > 0 ? 1 / Math.sqrt(deg) : 0;
  }
  for (let i = 0; i < N; i++) for (let e = rowStart[i]; e < rowStart[i + 1]; e++) val[e] *= scale[i] * scale[col[e]];
}

/** Y = M X for X [N, r] (row-major float64). */
function spmm(M: Csr, X: Float64Array, r: number, Y: Float64Array): void {
  const { N, rowStart, col, val } = M;
  Y.fill(0);
  for (let i = 0; i < N; i++) {
    for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
      const w = val[e], j = col[e];
      for (let c = 0; c < r; c++) Y[i * r + c] += w * X[j * r + c];
    }
  }
}

/** Modified Gram-Schmidt, twice, on the columns of X [N, r] in place (dependent columns -> zero). */
function orthonormalizeColumns(X: Float64Array, N: number, r: number): void {
  for (let c = 0; c < r; c++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        let t = 0;
        for (let i = 0; i < N; i++) t += X[i * r + p] * X[i * r + c];
        for (let i = 0; i < N; i++) X[i * r + c] -= t * X[i * r + p];
      }
    }
    let s = 0;
    for (let i = 0; i < N; i++) s += X[i * r + c] * X[i * r + c];
    const inv = s > 1e-24 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < N; i++) X[i * r + c] *= inv;
  }
}

/**
 * Rayleigh-Ritz on span(V) (V orthonormal [N, r]): V <- V W with W the eigenvectors of V^T M V,
 * returns the Ritz values (descending) and the residual norms ||M v - theta v||.
 */
function rayleighRitz(M: Csr, V: Float64Array, N: number, r: number): { theta: Float32Array; residual: Float64Array } {
  const MV = new Float64Array(N * r);
  spmm(M, V, r, MV);
  const H = new Float32Array(r * r);
  for (let a = 0; a < r; a++) {
    for (let b = a; b < r; b++) {
      let t = 0;
      for (let i = 0; i < N; i++) t += V[i * r + a] * MV[i * r + b];
      H[a * r + b] = t;
      H[b * r + a] = t;
    }
  }
  const theta = new Float32Array(r), W = new Float32Array(r * r);
  rawKernels().eigh(H, 1, r, theta, W);
  const rowV = new Float64Array(r), rowMV = new Float64Array(r), residual = new Float64Array(r);
  for (let i = 0; i < N; i++) {
    rowV.set(V.subarray(i * r, (i + 1) * r));
    rowMV.set(MV.subarray(i * r, (i + 1) * r));
    for (let c = 0; c < r; c++) {
      let v = 0, mv = 0;
      for (let t = 0; t < r; t++) { v += rowV[t] * W[t * r + c]; mv += rowMV[t] * W[t * r + c]; }
      V[i * r + c] = v;
      residual[c] += (mv - theta[c] * v) ** 2;
    }
  }
  for (let c = 0; c < r; c++) residual[c] = Math.sqrt(residual[c]);
  return { theta, residual };
}

/**
 * Chebyshev filter of degree m (Zhou and Saad 2007, scaled three-term recurrence): damps the
 * eigen-directions of M in [a, b] and amplifies those above b, scaled so that the value at 1 (the
 * top of the spectrum of a normalised affinity) stays about 1.
 */
function chebyshevFilter(M: Csr, X: Float64Array, N: number, r: number, m: number, a: number, b: number): Float64Array {
  const e = (b - a) / 2, c = (b + a) / 2, size = N * r;
  let sigma = e / (1 - c);
  const tau = 2 / sigma;
  // Three buffers rotate: previous (Xp), current (Y), next (T, which receives M Y first).
  let Xp = X.slice(), Y = new Float64Array(size), T = new Float64Array(size);
  spmm(M, Xp, r, Y);
  for (let i = 0; i < size; i++) Y[i] = (Y[i] - c * Xp[i]) * (sigma / e);
  for (let k = 2; k <= m; k++) {
    const sigmaNew = 1 / (tau - sigma), f = (2 * sigmaNew) / e, g = sigma * sigmaNew;
    spmm(M, Y, r, T);
    for (let i = 0; i < size; i++) T[i] = (T[i] - c * Y[i]) * f - g * Xp[i];
    const old = Xp;
    Xp = Y;
    Y = T;
    T = old;
    sigma = sigmaNew;
  }
  return Y;
}

/** Degree of the Chebyshev filter and the bounds of the eigen-iteration. */
const CHEB_DEGREE = 12;
const EIG_MAX_OUTER = 40;
const EIG_TOL = 1e-4;

/**
 * Top-K eigenvectors `[N, K]` of the normalised affinity (float64, row-major): block size
 * r = min(N, 2K + 4), random start (seed, init stream), filtered subspace iteration until the K
 * leading Ritz pairs have residual < 1e-4 (ample for the k-means that follows).
 */
function* topEigenvectors(M: Csr, K: number, seed: number): Work<Float64Array> {
  const N = M.N, r = Math.min(N, 2 * K + 4);
  const V = Float64Array.from(gaussian(N * r, seed, STREAM.init));
  orthonormalizeColumns(V, N, r);
  let { theta, residual } = rayleighRitz(M, V, N, r);
  for (let outer = 0; outer < EIG_MAX_OUTER && r < N; outer++) {
    let worst = 0;
    for (let c = 0; c < K; c++) worst = Math.max(worst, residual[c]);
    if (worst < EIG_TOL) break;
    // Damp [-1, theta_r] (the unwanted part of the spectrum, as far as this block can tell).
    const cut = Math.max(-0.5, Math.min(theta[r - 1], theta[K - 1] - 1e-3));
    const Y = chebyshevFilter(M, V, N, r, CHEB_DEGREE, -1, cut);
    orthonormalizeColumns(Y, N, r);
    V.set(Y);
    ({ theta, residual } = rayleighRitz(M, V, N, r));
    yield;
  }
  const E = new Float64Array(N * K);
  for (let i = 0; i < N; i++) for (let c = 0; c < K; c++) E[i * K + c] = V[i * r + c];
  return E;
}

/** Restarts of the k-means on the spectral embedding. */
const KMEANS_RESTARTS = 10;
const KMEANS_MAX_ITER = 100;

/**
 * k-means of the rows of E [N, p] (float64) into K clusters: k-means++ seeding from the uniforms of
 * (seed, cluster stream), Lloyd iterations, KMEANS_RESTARTS restarts, lowest inertia kept.
 */
export function kmeans(E: Float64Array, N: number, p: number, K: number, seed: number): Int32Array {
  let best = new Int32Array(N), bestInertia = Infinity;
  const dist = new Float64Array(N), centers = new Float64Array(K * p), labels = new Int32Array(N);
  const u = uniform(KMEANS_RESTARTS * K, seed, STREAM.cluster);
  const sq = (i: number, k: number): number => {
    let s = 0;
    for (let c = 0; c < p; c++) s += (E[i * p + c] - centers[k * p + c]) ** 2;
    return s;
  };
  for (let rs = 0; rs < KMEANS_RESTARTS; rs++) {
    // k-means++: first centre uniform, then proportional to the squared distance to the nearest centre.
    dist.fill(Infinity);
    for (let k = 0; k < K; k++) {
      let pick = 0;
      if (k === 0) pick = Math.min(N - 1, Math.floor(u[rs * K] * N));
      else {
        let total = 0;
        for (let i = 0; i < N; i++) total += dist[i];
        let target = u[rs * K + k] * total;
        pick = N - 1;
        for (let i = 0; i < N; i++) { target -= dist[i]; if (target < 0) { pick = i; break; } }
      }
      centers.set(E.subarray(pick * p, (pick + 1) * p), k * p);
      for (let i = 0; i < N; i++) dist[i] = Math.min(dist[i], sq(i, k));
    }
    labels.fill(-1);
    let inertia = 0;
    for (let it = 0; it < KMEANS_MAX_ITER; it++) {
      let changed = 0;
      inertia = 0;
      for (let i = 0; i < N; i++) {
        let bk = 0, bd = Infinity;
        for (let k = 0; k < K; k++) { const dd = sq(i, k); if (dd < bd) { bd = dd; bk = k; } }
        if (labels[i] !== bk) { labels[i] = bk; changed++; }
        dist[i] = bd;
        inertia += bd;
      }
      if (!changed) break;
      const count = new Float64Array(K);
      centers.fill(0);
      for (let i = 0; i < N; i++) {
        count[labels[i]]++;
        for (let c = 0; c < p; c++) centers[labels[i] * p + c] += E[i * p + c];
      }
      for (let k = 0; k < K; k++) {
        if (count[k] > 0) for (let c = 0; c < p; c++) centers[k * p + c] /= count[k];
        else {
          // Empty cluster: move its centre to the point farthest from its own centre.
          let far = 0;
          for (let i = 1; i < N; i++) if (dist[i] > dist[far]) far = i;
          centers.set(E.subarray(far * p, (far + 1) * p), k * p);
          dist[far] = 0;
        }
      }
    }
    if (inertia < bestInertia) { bestInertia = inertia; best = labels.slice(); }
  }
  return best;
}

/**
 * Cluster labels of the samples by TSC (see the file comment): q neighbours per sample, top-K
 * eigenvectors of the normalised affinity, k-means on their unit-normalised rows.
 */
export function* spectralLabels(x: Matrix, K: number, q: number, seed: number): Work<Int32Array> {
  const N = x.rows;
  if (K === 1) return new Int32Array(N);
  const A = yield* affinity(x, Math.min(q, N - 1));
  normalizeAffinity(A);
  const E = yield* topEigenvectors(A, K, seed);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let c = 0; c < K; c++) s += E[i * K + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < K; c++) E[i * K + c] *= inv;
  }
  return kmeans(E, N, K, K, seed);
}

/** Options of `spectralClustering`. */
export interface SpectralClusteringOptions {
  /** Number of clusters. */
  K: number;
  /** Neighbours kept per sample (default 3). */
  neighbors?: number;
  /** Seed of the eigen-iteration start and the k-means seeding (default 0). */
  seed?: number;
}

/**
 * Thresholding-based subspace clustering (TSC, see the file comment) of the rows of `x [N, n]`
 * into K clusters: the labels that `kSubspaces` with `init: 'spectral'` starts from.
 */
export function spectralClustering(x: Matrix, options: SpectralClusteringOptions): Int32Array {
  if (typeof options !== 'object' || options === null) fail('an options object { K, ... }', 'options', options, TypeError);
  const K = int('K', options.K, 1);
  const data = checkData('x', x, K);
  const q = intOption('neighbors', options.neighbors, DEFAULT_NEIGHBORS, 1);
  const seed = options.seed === undefined ? 0 : checkSeed('seed', options.seed);
  return runSync(spectralLabels(data, K, q, seed));
}
