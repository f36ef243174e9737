// svd: thin SVD of a batch, A [batch, m, n] -> U [batch, m, r], S [batch, r], V [batch, n, r], the top r
// triplets, S descending (docs/kernels.md). One-sided Jacobi (Hestenes) in float64 on the orientation
// with fewer columns; the largest-magnitude entry of each u_j is positive (first on ties) and v_j
// follows; where s_j <= 1e-12 s_1 (or A = 0) the vectors of the long side come from the completion.
//
// For a small top-r of a large matrix (KSS refits a cluster's top-d subspace; used when
// min(m, n) >= 96 and 3 (r + max(r, 10)) <= min(m, n)) a randomized subspace iteration is tried
// first: block power iteration with float32 GEMMs and float64 Gram-Schmidt, one float64 power step,
// then a float64 Rayleigh-Ritz step. Its result is kept only if every triplet's residual
// ||A^T u_j - s_j v_j|| is <= 1e-7 s_1 (float64) and s_r > 1e-10 s_1; otherwise Jacobi runs.
import { completeColumn, gramSchmidt } from './stiefel';
import { dot, dots3, rot } from './vec64';
import { gemm } from './gemm';
import { normals } from './philox';
import { jacobiEigh } from './eigh';
import {
  work, SLOT_SVD_A, SLOT_SVD_B, SLOT_SVD_C, SLOT_F32_A, SLOT_F32_B, SLOT_F32_C, SLOT_F64_A, SLOT_F64_B, SLOT_F64_C,
  SLOT_F64_D, SLOT_MISC,
} from './scratch';

/**
 * One-sided Jacobi on W (column-major float64, `cols` columns of length `rows`), accumulating the
 * rotations in Vr (column-major [cols][cols], starts as I), until every pair of columns is orthogonal
 * to max(1e-15, 2.3e-16 rows) relative.
 */
function hestenes(W: usize, rows: usize, cols: usize, Vr: usize): void {
  const tol = max<f64>(1e-15, 2.3e-16 * <f64>rows);
  const prods = memory.data(24);
  memory.fill(Vr, 0, (cols * cols) << 3);
  for (let j: usize = 0; j < cols; j++) store<f64>(Vr + ((j * cols + j) << 3), 1.0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotations = 0;
    for (let p: usize = 0; p < cols; p++) {
      const wp = W + ((p * rows) << 3);
      for (let q = p + 1; q < cols; q++) {
        const wq = W + ((q * rows) << 3);
        dots3(wp, wq, rows, prods);
        const alpha = load<f64>(prods), beta = load<f64>(prods, 8), gamma = load<f64>(prods, 16);
        if (gamma == 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotations++;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1.0 : -1.0) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rot(wp, wq, c, s, rows);
        rot(Vr + ((p * cols) << 3), Vr + ((q * cols) << 3), c, s, cols);
      }
    }
    if (rotations == 0) break;
  }
}

/** Stable insertion sort of order[0..count) by values[order[i]] descending. */
function sortDescending(values: usize, order: usize, count: usize): void {
  for (let j: usize = 0; j < count; j++) store<i32>(order + (j << 2), <i32>j);
  for (let i: usize = 1; i < count; i++) {
    const oi = load<i32>(order + (i << 2));
    const si = load<f64>(values + (<usize>oi << 3));
    let j = i;
    while (j > 0) {
      const oj = load<i32>(order + ((j - 1) << 2));
      if (load<f64>(values + (<usize>oj << 3)) >= si) break;
      store<i32>(order + (j << 2), oj);
      j--;
    }
    store<i32>(order + (j << 2), oi);
  }
}

/** -1 when the largest-magnitude entry of x [len] (the first on ties) is negative, else 1. */
function signOf(x: usize, len: usize): f64 {
  let big: f64 = -1, sign: f64 = 1;
  for (let i: usize = 0; i < len; i++) {
    const v = load<f64>(x + (i << 3));
    if (Math.abs(v) > big) { big = Math.abs(v); sign = v < 0 ? -1.0 : 1.0; }
  }
  return sign;
}

/** Column j of a row-major float32 [rows, R] output from a float64 vector, times sign. */
function storeColumn(dst: usize, R: usize, j: usize, x: usize, rows: usize, sign: f64): void {
  for (let i: usize = 0; i < rows; i++) store<f32>(dst + ((i * R + j) << 2), <f32>(sign * load<f64>(x + (i << 3))));
}

/** One matrix by one-sided Jacobi: src [m, n] -> Ub [m, r], Sb [r], Vb [n, r]. */
function jacobiSvd(src: usize, m: usize, n: usize, R: usize, Ub: usize, Sb: usize, Vb: usize): void {
  const tall = m >= n;
  const rows = tall ? m : n, cols = tall ? n : m;
  const W = work(SLOT_SVD_A, (rows * cols) << 3);
  const Vr = work(SLOT_SVD_B, (cols * cols) << 3);
  // L: the r left vectors of the orientation (rows long), then scratch for the completion and order.
  const L = work(SLOT_SVD_C, ((rows * R) << 3) + (rows << 3) + (cols << 3) + (cols << 2));
  const tmp = L + ((rows * R) << 3);
  const norms = tmp + (rows << 3);
  const order = norms + (cols << 3);
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < n; j++) {
      // tall: column j of A; wide: row i of A becomes column i.
      store<f64>(W + ((tall ? j * rows + i : i * rows + j) << 3), <f64>load<f32>(src + ((i * n + j) << 2)));
    }
  }
  hestenes(W, rows, cols, Vr);
  for (let j: usize = 0; j < cols; j++) {
    const w = W + ((j * rows) << 3);
    store<f64>(norms + (j << 3), Math.sqrt(dot(w, w, rows)));
  }
  sortDescending(norms, order, cols);
  const s1 = load<f64>(norms + (<usize>load<i32>(order) << 3));
  for (let j: usize = 0; j < R; j++) {
    const o = <usize>load<i32>(order + (j << 2));
    const sj = load<f64>(norms + (o << 3));
    const l = L + ((j * rows) << 3);
    if (s1 > 0 && sj > 1e-12 * s1) {
      const w = W + ((o * rows) << 3);
      for (let i: usize = 0; i < rows; i++) store<f64>(l + (i << 3), load<f64>(w + (i << 3)) / sj);
    } else {
      completeColumn(L, <i32>rows, <i32>j, tmp);
    }
    store<f32>(Sb + (j << 2), s1 > 0 ? <f32>sj : 0);
    // Tall: u_j = l, v_j = the rotation column. Wide: the other way round.
    const vr = Vr + ((o * cols) << 3);
    const sign = tall ? signOf(l, rows) : signOf(vr, cols);
    storeColumn(tall ? Ub : Vb, R, j, l, rows, sign);
    storeColumn(tall ? Vb : Ub, R, j, vr, cols, sign);
  }
}

/** Column-major float64 [l][rows] <-> row-major float32 [rows, l]. */
function toColumns(src: usize, rows: usize, l: usize, dst: usize): void {
  for (let i: usize = 0; i < rows; i++) {
    for (let j: usize = 0; j < l; j++) store<f64>(dst + ((j * rows + i) << 3), <f64>load<f32>(src + ((i * l + j) << 2)));
  }
}

function toRowsF32(src: usize, rows: usize, l: usize, dst: usize): void {
  for (let i: usize = 0; i < rows; i++) {
    for (let j: usize = 0; j < l; j++) store<f32>(dst + ((i * l + j) << 2), <f32>load<f64>(src + ((j * rows + i) << 3)));
  }
}

/**
 * Y [rows, l] = A Z with float64 accumulation: A float32 row-major [rows, inner], Z float64 row-major
 * [inner, l]. 4 x 4 register tiles (8 f64x2 accumulators) in the SIMD build, scalar tails.
 */
function mulAZ(A: usize, rows: usize, inner: usize, Z: usize, l: usize, Y: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= rows; i += 4) {
      const a0 = A + ((i * inner) << 2), a1 = a0 + (inner << 2), a2 = a1 + (inner << 2), a3 = a2 + (inner << 2);
      let j: usize = 0;
      for (; j + 4 <= l; j += 4) {
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c10 = f64x2.splat(0), c11 = f64x2.splat(0);
        let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c30 = f64x2.splat(0), c31 = f64x2.splat(0);
        let z = Z + (j << 3);
        for (let c: usize = 0; c < inner; c++) {
          const z0 = v128.load(z), z1 = v128.load(z, 16);
          const o = c << 2;
          let a = f64x2.splat(<f64>load<f32>(a0 + o));
          c00 = f64x2.add(c00, f64x2.mul(a, z0)); c01 = f64x2.add(c01, f64x2.mul(a, z1));
          a = f64x2.splat(<f64>load<f32>(a1 + o));
          c10 = f64x2.add(c10, f64x2.mul(a, z0)); c11 = f64x2.add(c11, f64x2.mul(a, z1));
          a = f64x2.splat(<f64>load<f32>(a2 + o));
          c20 = f64x2.add(c20, f64x2.mul(a, z0)); c21 = f64x2.add(c21, f64x2.mul(a, z1));
          a = f64x2.splat(<f64>load<f32>(a3 + o));
          c30 = f64x2.add(c30, f64x2.mul(a, z0)); c31 = f64x2.add(c31, f64x2.mul(a, z1));
          z += l << 3;
        }
        const y = Y + ((i * l + j) << 3), ld = l << 3;
        v128.store(y, c00); v128.store(y, c01, 16);
        v128.store(y + ld, c10); v128.store(y + ld, c11, 16);
        v128.store(y + 2 * ld, c20); v128.store(y + 2 * ld, c21, 16);
        v128.store(y + 3 * ld, c30); v128.store(y + 3 * ld, c31, 16);
      }
      for (let r: usize = 0; r < 4; r++) mulRowTail(A + (((i + r) * inner) << 2), inner, Z, l, j, Y + (((i + r) * l) << 3));
    }
  }
  for (; i < rows; i++) mulRowTail(A + ((i * inner) << 2), inner, Z, l, 0, Y + ((i * l) << 3));
}

/** Columns j0 .. l-1 of one row of mulAZ, scalar. */
function mulRowTail(a: usize, inner: usize, Z: usize, l: usize, j0: usize, y: usize): void {
  for (let j = j0; j < l; j++) {
    let s: f64 = 0;
    for (let c: usize = 0; c < inner; c++) s += <f64>load<f32>(a + (c << 2)) * load<f64>(Z + ((c * l + j) << 3));
    store<f64>(y + (j << 3), s);
  }
}

/** At [n, m] = A^T for a float32 [m, n]. */
function transpose(A: usize, m: usize, n: usize, At: usize): void {
  for (let i: usize = 0; i < m; i++) {
    for (let c: usize = 0; c < n; c++) store<f32>(At + ((c * m + i) << 2), load<f32>(A + ((i * n + c) << 2)));
  }
}

/** Use the randomized path when it has room for its oversampled block in a large matrix. */
function blockSize(m: usize, n: usize, R: usize): usize {
  const small = min(m, n);
  const l = R + max<usize>(R, 10);
  return small >= 96 && <usize>3 * l <= small ? l : 0;
}

/** Randomized subspace iteration + float64 Rayleigh-Ritz (see the file header); false to fall back. */
function randomizedSvd(A: usize, m: usize, n: usize, R: usize, l: usize, Ub: usize, Sb: usize, Vb: usize): bool {
  const big = max(m, n);
  const Zf = work(SLOT_F32_A, (n * l) << 2);
  const Yf = work(SLOT_F32_B, (m * l) << 2);
  const Zc = work(SLOT_F64_A, (n * l) << 3);
  const Yc = work(SLOT_F64_B, (m * l) << 3);
  const Zr = work(SLOT_F64_C, (big * l) << 3);
  const Yr = work(SLOT_F64_D, (m * l) << 3);
  const At = work(SLOT_F32_C, (m * n) << 2);
  transpose(A, m, n, At);
  const small = work(SLOT_MISC, ((5 * l * l + 3 * l + big) << 3) + (l << 2));
  const gram = small, vecs = gram + ((l * l) << 3), Ws = vecs + ((l * l) << 3), Vs = Ws + ((l * l) << 3);
  const Rm = Vs + ((l * l) << 3), vals = Rm + ((l * l) << 3), prev = vals + (l << 3), norms = prev + (l << 3);
  const tmp = norms + (l << 3), order = tmp + (big << 3);
  const L = <i32>l;
  // Start: a fixed Gaussian block (deterministic), then block power iteration on A A^T.
  normals(Zf, <i32>(n * l), 0x6d6f6c72, 0x737664, 0);
  for (let j: usize = 0; j < R; j++) store<f64>(prev + (j << 3), -1);
  for (let it = 0; it < 12; it++) {
    toColumns(Zf, n, l, Zc);
    gramSchmidt(Zc, <i32>n, L, tmp);
    toRowsF32(Zc, n, l, Zf);
    gemm(false, false, <i32>m, L, <i32>n, 1, A, Zf, 0, Yf);
    toColumns(Yf, m, l, Yc);
    gramSchmidt(Yc, <i32>m, L, tmp);
    toRowsF32(Yc, m, l, Yf);
    gemm(true, false, <i32>n, L, <i32>m, 1, A, Yf, 0, Zf);
    // Ritz values: singular values of Z = A^T Q from its Gram matrix (enough to watch convergence).
    toColumns(Zf, n, l, Zc);
    for (let a: usize = 0; a < l; a++) {
      for (let b = a; b < l; b++) {
        const g = dot(Zc + ((a * n) << 3), Zc + ((b * n) << 3), n);
        store<f64>(gram + ((a * l + b) << 3), g);
        store<f64>(gram + ((b * l + a) << 3), g);
      }
    }
    jacobiEigh(gram, L, vals, vecs, order, Ws);
    const s1 = Math.sqrt(max<f64>(load<f64>(vals), 0));
    let change: f64 = 0;
    for (let j: usize = 0; j < R; j++) {
      const sj = Math.sqrt(max<f64>(load<f64>(vals + (j << 3)), 0));
      change = max(change, Math.abs(sj - load<f64>(prev + (j << 3))));
      store<f64>(prev + (j << 3), sj);
    }
    if (change <= 1e-6 * s1) break;
  }
  // One more power step in float64 (Z = A^T Q), so that span(Z) is not limited by float32 rounding,
  // then Rayleigh-Ritz in float64 on span(Z): A Z = Y = Q Rm, Rm = Ur S Vs^T -> u = Q Ur, v = Z Vs.
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < l; j++) store<f64>(Yr + ((i * l + j) << 3), load<f64>(Yc + ((j * m + i) << 3)));
  }
  mulAZ(At, n, m, Yr, l, Zr);
  for (let i: usize = 0; i < n; i++) {
    for (let j: usize = 0; j < l; j++) store<f64>(Zc + ((j * n + i) << 3), load<f64>(Zr + ((i * l + j) << 3)));
  }
  gramSchmidt(Zc, <i32>n, L, tmp);
  for (let i: usize = 0; i < n; i++) {
    for (let j: usize = 0; j < l; j++) store<f64>(Zr + ((i * l + j) << 3), load<f64>(Zc + ((j * n + i) << 3)));
  }
  mulAZ(A, m, n, Zr, l, Yr);
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < l; j++) store<f64>(Yc + ((j * m + i) << 3), load<f64>(Yr + ((i * l + j) << 3)));
  }
  gramSchmidt(Yc, <i32>m, L, tmp);
  // Rm = Q^T Y, stored column-major as the Jacobi input Ws (column b = Q^T y_b).
  for (let b: usize = 0; b < l; b++) {
    for (let a: usize = 0; a < l; a++) {
      let s: f64 = 0;
      const q = Yc + ((a * m) << 3);
      for (let i: usize = 0; i < m; i++) s += load<f64>(q + (i << 3)) * load<f64>(Yr + ((i * l + b) << 3));
      store<f64>(Ws + ((b * l + a) << 3), s);
    }
  }
  // Jacobi orthogonalises the columns of Rm: Rm Vs = W, so Rm = (W / s) S Vs^T.
  hestenes(Ws, l, l, Vs);
  for (let j: usize = 0; j < l; j++) {
    const w = Ws + ((j * l) << 3);
    store<f64>(norms + (j << 3), Math.sqrt(dot(w, w, l)));
  }
  sortDescending(norms, order, l);
  const s1 = load<f64>(norms + (<usize>load<i32>(order) << 3));
  const sr = load<f64>(norms + (<usize>load<i32>(order + ((R - 1) << 2)) << 3));
  if (!(s1 > 0) || !(sr > 1e-10 * s1)) return false;
  // u_j = Q (w_j / s_j) into Yr [m, R] (row-major), v_j = Z Vs_j into Zr [n, R]; reuse Rm for both.
  for (let j: usize = 0; j < R; j++) {
    const o = <usize>load<i32>(order + (j << 2));
    const sj = load<f64>(norms + (o << 3));
    const w = Ws + ((o * l) << 3), vs = Vs + ((o * l) << 3);
    for (let i: usize = 0; i < m; i++) {
      let s: f64 = 0;
      for (let a: usize = 0; a < l; a++) s += load<f64>(Yc + ((a * m + i) << 3)) * load<f64>(w + (a << 3));
      store<f64>(Yr + ((i * R + j) << 3), s / sj);
    }
    for (let i: usize = 0; i < n; i++) {
      let s: f64 = 0;
      for (let a: usize = 0; a < l; a++) s += load<f64>(Zc + ((a * n + i) << 3)) * load<f64>(vs + (a << 3));
      store<f64>(Zr + ((i * R + j) << 3), s);
    }
    store<f64>(prev + (j << 3), sj);
  }
  // Accept only if A^T u_j = s_j v_j to 1e-7 s_1 for every j (A v_j = s_j u_j holds by construction).
  const T = Yc; // Q is no longer needed
  mulAZ(At, n, m, Yr, R, T);
  for (let j: usize = 0; j < R; j++) {
    const sj = load<f64>(prev + (j << 3));
    let res: f64 = 0;
    for (let i: usize = 0; i < n; i++) {
      const d = load<f64>(T + ((i * R + j) << 3)) - sj * load<f64>(Zr + ((i * R + j) << 3));
      res += d * d;
    }
    if (!(Math.sqrt(res) <= 1e-7 * s1)) return false;
  }
  for (let j: usize = 0; j < R; j++) {
    store<f32>(Sb + (j << 2), <f32>load<f64>(prev + (j << 3)));
    let big_: f64 = -1, sign: f64 = 1;
    for (let i: usize = 0; i < m; i++) {
      const v = load<f64>(Yr + ((i * R + j) << 3));
      if (Math.abs(v) > big_) { big_ = Math.abs(v); sign = v < 0 ? -1.0 : 1.0; }
    }
    for (let i: usize = 0; i < m; i++) store<f32>(Ub + ((i * R + j) << 2), <f32>(sign * load<f64>(Yr + ((i * R + j) << 3))));
    for (let i: usize = 0; i < n; i++) store<f32>(Vb + ((i * R + j) << 2), <f32>(sign * load<f64>(Zr + ((i * R + j) << 3))));
  }
  return true;
}

/** A [batch, m, n] -> U [batch, m, r], S [batch, r], V [batch, n, r] (float32 in and out). */
export function svd(A: usize, batch: i32, m: i32, n: i32, r: i32, U: usize, S: usize, V: usize): void {
  const R = <usize>r, Mm = <usize>m, Nn = <usize>n;
  const l = blockSize(Mm, Nn, R);
  for (let b = 0; b < batch; b++) {
    const src = A + ((<usize>b * Mm * Nn) << 2);
    const Ub = U + ((<usize>b * Mm * R) << 2), Sb = S + ((<usize>b * R) << 2), Vb = V + ((<usize>b * Nn * R) << 2);
    if (l == 0 || !randomizedSvd(src, Mm, Nn, R, l, Ub, Sb, Vb)) jacobiSvd(src, Mm, Nn, R, Ub, Sb, Vb);
  }
}
