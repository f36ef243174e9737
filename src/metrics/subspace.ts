/**
 * Comparing subspaces (SPEC section 7): principal angles, the normalised projector distance, the
 * Hungarian matching of learned to true components, and the Gaussian W2 distance between components.
 */
import { rawKernels } from '../backend/index.js';
import { fail, finite } from '../backend/validate.js';
import { checkMatrix, type Matrix } from '../matrix.js';
import { checkBases, ORTHONORMAL_TOLERANCE, orthonormalityDefect } from '../model/molrg.js';

/** One basis: a matrix `[n, d]`, 1 <= d <= n, with orthonormal columns. */
function checkBasis(name: string, value: unknown, n?: number): Matrix {
  const m = checkMatrix(name, value);
  if (n !== undefined && m.rows !== n) {
    throw new RangeError(`Expected ${n} rows (the ambient dimension of U) for ${name} but received ${m.rows} x ${m.cols}`);
  }
  if (m.cols < 1 || m.cols > m.rows) throw new RangeError(`Expected 1 <= d <= n = ${m.rows} columns for ${name} but received ${m.cols}`);
  const defect = orthonormalityDefect(m);
  if (defect > ORTHONORMAL_TOLERANCE) {
    throw new RangeError(`Expected orthonormal columns (max |U^T U - I| <= ${ORTHONORMAL_TOLERANCE}) for ${name} but received a defect of ${defect.toExponential(2)}`);
  }
  return m;
}

/** Two bases of one ambient dimension, each with orthonormal columns; the larger-dimensional first. */
function pair(U: unknown, V: unknown): { A: Matrix; B: Matrix } {
  const a = checkBasis('U', U);
  const b = checkBasis('V', V, a.rows);
  return a.cols >= b.cols ? { A: a, B: b } : { A: b, B: a };
}

/** Singular values (descending) of a batch-1 `[m, q]` float32 matrix through the svd kernel. */
function singularValues(M: Float32Array, m: number, q: number): Float32Array {
  const r = Math.min(m, q);
  const S = new Float32Array(r);
  rawKernels().svd(M, 1, m, q, r, new Float32Array(m * r), S, new Float32Array(q * r));
  return S;
}

/**
 * Cosines and sines of the principal angles, both ascending in angle. `A [n, dA]`, `B [n, dB]`,
 * dA >= dB: cosines are the singular values of `A^T B`, sines those of `B - A A^T B` (Knyazev and
 * Argentati): the sines resolve small angles that arccos of a float32 cosine cannot.
 */
function cosSin(A: Matrix, B: Matrix): { cos: Float64Array; sin: Float64Array } {
  const k = rawKernels();
  const n = A.rows, dA = A.cols, dB = B.cols;
  const M = new Float32Array(dA * dB);
  k.gemm(true, false, dA, dB, n, 1, A.data, B.data, 0, M);
  const R = B.data.slice();
  k.gemm(false, false, n, dB, dA, -1, A.data, M, 1, R);
  const cos = Float64Array.from(singularValues(M, dA, dB), (c) => Math.min(1, c));
  const s = singularValues(R, n, dB);
  // sines descending <-> angles descending: reverse so that entry i pairs with cos[i].
  const sin = Float64Array.from({ length: dB }, (_, i) => Math.min(1, s[dB - 1 - i]));
  return { cos, sin };
}

/**
 * Principal angles between span(U) and span(V) (SPEC section 7): `theta_i = arccos(sv_i(U^T V))`,
 * min(d_U, d_V) of them, ascending, in radians. Small angles come from the sines so that they stay
 * accurate where the cosine rounds to 1.
 * @param U - an orthonormal basis `[n, d_U]`
 * @param V - an orthonormal basis `[n, d_V]`
 */
export function principalAngles(U: Matrix, V: Matrix): Float64Array {
  const { A, B } = pair(U, V);
  const { cos, sin } = cosSin(A, B);
  return cos.map((c, i) => (c * c >= 0.5 ? Math.asin(sin[i]) : Math.acos(c)));
}

/**
 * Subspace distance (SPEC section 7): `||U U^T - V V^T||_F / sqrt(2 max(d_U, d_V))`, in [0, 1];
 * 0 for the same subspace, 1 for orthogonal subspaces of equal dimension. Computed from the sines of
 * the principal angles, `||U U^T - V V^T||_F^2 = |d_U - d_V| + 2 sum_i sin^2 theta_i`.
 */
export function subspaceDistance(U: Matrix, V: Matrix): number {
  const { A, B } = pair(U, V);
  const { sin } = cosSin(A, B);
  let s2 = A.cols - B.cols;
  for (const s of sin) s2 += 2 * s * s;
  return Math.min(1, Math.sqrt(s2 / (2 * A.cols)));
}

/**
 * Gaussian 2-Wasserstein distance between N(0, lambda U U^T) and N(0, lambda V V^T) for subspaces
 * of equal dimension (SPEC section 7): `W2^2 = 2 lambda sum_i (1 - cos theta_i)`. Returns W2 (not
 * squared), using `1 - cos theta = 2 sin^2(theta / 2)` for accuracy at small angles.
 * @param lambda - the common latent variance, > 0 (default 1)
 */
export function w2(U: Matrix, V: Matrix, lambda = 1): number {
  finite('lambda', lambda, 0, Infinity, true);
  const { A, B } = pair(U, V);
  if (A.cols !== B.cols) fail(`bases of equal dimension (d_U = ${U.cols})`, 'V', `a basis with d_V = ${V.cols}`);
  let sum = 0;
  for (const t of principalAngles(A, B)) sum += 2 * Math.sin(t / 2) ** 2;
  return Math.sqrt(2 * lambda * sum);
}

/**
 * Minimum-cost assignment (Hungarian algorithm, O(r^2 c) with potentials) on a rectangular cost
 * matrix `cost[r][c]` of finite numbers. Returns, for each row, its column; when there are more rows
 * than columns the rows left without a column get -1. Ties go to the lowest index deterministically.
 */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  if (!Array.isArray(cost)) fail('an array of rows of numbers', 'cost', cost, TypeError);
  const rows = cost.length;
  if (rows === 0) return [];
  const cols = Array.isArray(cost[0]) ? cost[0].length : -1;
  cost.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== cols) fail(`a row of ${cols} numbers`, `cost[${i}]`, r, TypeError);
    r.forEach((v, j) => finite(`cost[${i}][${j}]`, v));
  });
  if (cols === 0) return Array(rows).fill(-1);
  if (rows > cols) {
    // Solve the transpose (every column gets a row) and invert it.
    const t = hungarian(Array.from({ length: cols }, (_, j) => cost.map((r) => r[j])));
    const out: number[] = Array(rows).fill(-1);
    t.forEach((i, j) => { out[i] = j; });
    return out;
  }
  // Shortest augmenting paths with row/column potentials u, v (1-based, column 0 is the sentinel).
  const u = new Float64Array(rows + 1), v = new Float64Array(cols + 1);
  const match = new Int32Array(cols + 1); // match[j] = row (1-based) owning column j, 0 if free
  const way = new Int32Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    match[0] = i;
    let j0 = 0;
    const minv = new Float64Array(cols + 1).fill(Infinity);
    const used = new Uint8Array(cols + 1);
    do {
      used[j0] = 1;
      const i0 = match[j0];
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) { u[match[j]] += delta; v[j] -= delta; } else minv[j] -= delta;
      }
      j0 = j1;
    } while (match[j0] !== 0);
    do {
      const j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const out: number[] = Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (match[j] > 0) out[match[j] - 1] = j - 1;
  return out;
}

/** The result of `matchSubspaces`. */
export interface SubspaceMatch {
  /** For each true component, the index of the learned component matched to it (-1 if none). */
  assignment: number[];
  /** For each true component, the subspace distance to its match (1 when it has none). */
  distances: number[];
  /** Largest matched distance: recovery succeeds when it is below a threshold (SPEC: 0.1). */
  max: number;
  /** Mean matched distance. */
  mean: number;
}

/**
 * Matches learned components to true ones (SPEC section 7): the Hungarian algorithm on the pairwise
 * `subspaceDistance`, minimising the total distance. With more learned than true components the extra
 * learned ones stay unmatched; with fewer, some true components get no match (assignment -1,
 * distance 1), so recovery fails as it should.
 * @param learned - learned bases, `[n, d_k]` each
 * @param truth - true bases, `[n, d_k]` each
 */
export function matchSubspaces(learned: readonly Matrix[], truth: readonly Matrix[]): SubspaceMatch {
  const L = checkBases('learned', learned), T = checkBases('truth', truth);
  if (L[0].rows !== T[0].rows) {
    throw new RangeError(`Expected bases with ${T[0].rows} rows (the ambient dimension of truth) for learned but received ${L[0].rows} x ${L[0].cols}`);
  }
  const dist = T.map((t) => L.map((l) => subspaceDistance(l, t)));
  const assignment = hungarian(dist);
  const distances = assignment.map((j, i) => (j < 0 ? 1 : dist[i][j]));
  return {
    assignment,
    distances,
    max: Math.max(...distances),
    mean: distances.reduce((a, b) => a + b, 0) / distances.length,
  };
}
