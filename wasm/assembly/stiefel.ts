// stiefel: one Riemannian optimiser step on every block of the stacked bases, and the retractions
// (SPEC section 4, docs/kernels.md). U, G, m, v are [n, D] float32 in the bases' own memory; block k
// owns columns off_k .. off_k + d_k - 1. Each block is worked on as a row-major float64 copy [n, d]
// (contiguous row loops, f64x2 in the SIMD build), like native/kernels/stiefel.cc: the QR retraction
// is Cholesky QR with Gram-Schmidt twice (column-major, also used by svd) as the fallback.
import { jacobiEigh } from './eigh';
import { dot as dot64, axmy, scal } from './vec64';
import { work, SLOT_F64_A, SLOT_F64_B, SLOT_F64_C, SLOT_F64_D, SLOT_MISC } from './scratch';

// @ts-ignore: decorator
@inline
function col(Q: usize, n: usize, j: usize): usize {
  return Q + ((j * n) << 3);
}


/** v -= (q_l . v) q_l for l < j, twice ("twice is enough"). Q is column-major [.., n]. */
function orthogonalizeTwice(Q: usize, n: usize, j: usize, v: usize): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let l: usize = 0; l < j; l++) {
      const q = col(Q, n, l);
      axmy(dot64(q, v, n), q, v, n);
    }
  }
}

/**
 * Deterministic completion: column j of Q becomes the normalised residual of the standard basis
 * vector e_i with the largest residual after two Gram-Schmidt passes against columns 0..j-1 (lowest i
 * on ties). `tmp` holds n float64.
 */
export function completeColumn(Q: usize, n: i32, j: i32, tmp: usize): void {
  const N = <usize>n, J = <usize>j;
  let best: f64 = -1;
  let bestI: usize = 0;
  for (let i: usize = 0; i < N; i++) {
    memory.fill(tmp, 0, N << 3);
    store<f64>(tmp + (i << 3), 1.0);
    orthogonalizeTwice(Q, N, J, tmp);
    const r = Math.sqrt(dot64(tmp, tmp, N));
    if (r > best) { best = r; bestI = i; }
  }
  const q = col(Q, N, J);
  memory.fill(q, 0, N << 3);
  store<f64>(q + (bestI << 3), 1.0);
  orthogonalizeTwice(Q, N, J, q);
  scal(1.0 / Math.sqrt(dot64(q, q, N)), q, N);
}

/**
 * Thin QR's Q with positive diag(R), in place on the column-major float64 Q [d columns of n]: each
 * column orthogonalised twice against the previous ones, then normalised; a column whose residual is
 * <= 1e-6 of its original norm (or zero) is replaced by the completion. `tmp` holds n float64.
 */
export function gramSchmidt(Q: usize, n: i32, d: i32, tmp: usize): void {
  const N = <usize>n;
  for (let j = 0; j < d; j++) {
    const q = col(Q, N, <usize>j);
    const norm0 = Math.sqrt(dot64(q, q, N));
    orthogonalizeTwice(Q, N, <usize>j, q);
    const norm = Math.sqrt(dot64(q, q, N));
    if (norm0 == 0 || !(norm > 1e-6 * norm0)) {
      completeColumn(Q, n, j, tmp);
    } else {
      scal(1.0 / norm, q, N);
    }
  }
}


/** Columns off .. off + d - 1 of the float32 X [n, D] -> the row-major float64 Y [n, d]. */
function loadBlock(X: usize, n: usize, D: usize, off: usize, d: usize, Y: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const row = X + ((i * D + off) << 2), y = Y + ((i * d) << 3);
    let a: usize = 0;
    if (ASC_FEATURE_SIMD) {
      for (; a + 2 <= d; a += 2) v128.store(y + (a << 3), f64x2.promote_low_f32x4(v128.load64_zero(row + (a << 2))));
    }
    for (; a < d; a++) store<f64>(y + (a << 3), <f64>load<f32>(row + (a << 2)));
  }
}

/** The inverse of loadBlock (rounding to float32). */
function storeBlock(Y: usize, n: usize, D: usize, off: usize, d: usize, X: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const row = X + ((i * D + off) << 2), y = Y + ((i * d) << 3);
    let a: usize = 0;
    if (ASC_FEATURE_SIMD) {
      for (; a + 2 <= d; a += 2) v128.store64_lane(row + (a << 2), f32x4.demote_f64x2_zero(v128.load(y + (a << 3))), 0);
    }
    for (; a < d; a++) store<f32>(row + (a << 2), <f32>load<f64>(y + (a << 3)));
  }
}

/** Row a of S = A^T B from column b0 on (A, B row-major float64 [n, d], S [d, d]). */
function gramRow(A: usize, B: usize, n: usize, d: usize, S: usize, a: usize, b0: usize): void {
  const rs = d << 3, s = S + ((a * d) << 3);
  let b = b0;
  if (ASC_FEATURE_SIMD) {
    for (; b + 2 <= d; b += 2) {
      let s0 = f64x2.splat(0);
      let pa = A + (a << 3), pb = B + (b << 3);
      for (let i: usize = 0; i < n; i++) {
        s0 = f64x2.add(s0, f64x2.mul(f64x2.splat(load<f64>(pa)), v128.load(pb)));
        pa += rs;
        pb += rs;
      }
      v128.store(s + (b << 3), s0);
    }
  }
  for (; b < d; b++) {
    let acc: f64 = 0;
    let pa = A + (a << 3), pb = B + (b << 3);
    for (let i: usize = 0; i < n; i++) {
      acc += load<f64>(pa) * load<f64>(pb);
      pa += rs;
      pb += rs;
    }
    store<f64>(s + (b << 3), acc);
  }
}

/** S = A^T B (d x d) of the row-major float64 A, B [n, d]; SIMD tiles of 2 rows x 8 columns of S. */
function gramT(A: usize, B: usize, n: usize, d: usize, S: usize): void {
  const rs = d << 3;
  let a: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; a + 2 <= d; a += 2) {
      let b: usize = 0;
      for (; b + 8 <= d; b += 8) {
        let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
        let t0 = f64x2.splat(0), t1 = f64x2.splat(0), t2 = f64x2.splat(0), t3 = f64x2.splat(0);
        let pa = A + (a << 3), pb = B + (b << 3);
        for (let i: usize = 0; i < n; i++) {
          const x = f64x2.splat(load<f64>(pa)), y = f64x2.splat(load<f64>(pa, 8));
          const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
          s0 = f64x2.add(s0, f64x2.mul(x, b0));
          s1 = f64x2.add(s1, f64x2.mul(x, b1));
          s2 = f64x2.add(s2, f64x2.mul(x, b2));
          s3 = f64x2.add(s3, f64x2.mul(x, b3));
          t0 = f64x2.add(t0, f64x2.mul(y, b0));
          t1 = f64x2.add(t1, f64x2.mul(y, b1));
          t2 = f64x2.add(t2, f64x2.mul(y, b2));
          t3 = f64x2.add(t3, f64x2.mul(y, b3));
          pa += rs;
          pb += rs;
        }
        const o = S + ((a * d + b) << 3), p = o + rs;
        v128.store(o, s0);
        v128.store(o, s1, 16);
        v128.store(o, s2, 32);
        v128.store(o, s3, 48);
        v128.store(p, t0);
        v128.store(p, t1, 16);
        v128.store(p, t2, 32);
        v128.store(p, t3, 48);
      }
      gramRow(A, B, n, d, S, a, b);
      gramRow(A, B, n, d, S, a + 1, b);
    }
  }
  for (; a < d; a++) gramRow(A, B, n, d, S, a, 0);
}

/** Row i of Z = Y M (or Z += Y M) from column b0 on (Y, Z row-major float64 [n, d], M [d, d]). */
function mulRow(Y: usize, d: usize, M: usize, Z: usize, i: usize, b0: usize, accumulate: bool): void {
  const rs = d << 3, y = Y + i * rs, z = Z + i * rs;
  let b = b0;
  if (ASC_FEATURE_SIMD) {
    for (; b + 2 <= d; b += 2) {
      const o = z + (b << 3);
      let s0 = accumulate ? v128.load(o) : f64x2.splat(0);
      let pm = M + (b << 3);
      for (let a: usize = 0; a < d; a++) {
        s0 = f64x2.add(s0, f64x2.mul(f64x2.splat(load<f64>(y + (a << 3))), v128.load(pm)));
        pm += rs;
      }
      v128.store(o, s0);
    }
  }
  for (; b < d; b++) {
    const o = z + (b << 3);
    let acc: f64 = accumulate ? load<f64>(o) : 0;
    for (let a: usize = 0; a < d; a++) acc += load<f64>(y + (a << 3)) * load<f64>(M + ((a * d + b) << 3));
    store<f64>(o, acc);
  }
}

/**
 * Z = Y M, or Z += Y M when `accumulate`, for the row-major float64 Y, Z [n, d] and M [d, d]; SIMD
 * tiles of 2 rows x 8 columns of Z.
 */
function mulRight(Y: usize, n: usize, d: usize, M: usize, Z: usize, accumulate: bool): void {
  const rs = d << 3;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= n; i += 2) {
      const y = Y + i * rs;
      let b: usize = 0;
      for (; b + 8 <= d; b += 8) {
        const o = Z + i * rs + (b << 3), p = o + rs;
        let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
        let t0 = f64x2.splat(0), t1 = f64x2.splat(0), t2 = f64x2.splat(0), t3 = f64x2.splat(0);
        if (accumulate) {
          s0 = v128.load(o);
          s1 = v128.load(o, 16);
          s2 = v128.load(o, 32);
          s3 = v128.load(o, 48);
          t0 = v128.load(p);
          t1 = v128.load(p, 16);
          t2 = v128.load(p, 32);
          t3 = v128.load(p, 48);
        }
        let pm = M + (b << 3);
        for (let a: usize = 0; a < d; a++) {
          const x = f64x2.splat(load<f64>(y + (a << 3))), w = f64x2.splat(load<f64>(y + rs + (a << 3)));
          const m0 = v128.load(pm), m1 = v128.load(pm, 16), m2 = v128.load(pm, 32), m3 = v128.load(pm, 48);
          s0 = f64x2.add(s0, f64x2.mul(x, m0));
          s1 = f64x2.add(s1, f64x2.mul(x, m1));
          s2 = f64x2.add(s2, f64x2.mul(x, m2));
          s3 = f64x2.add(s3, f64x2.mul(x, m3));
          t0 = f64x2.add(t0, f64x2.mul(w, m0));
          t1 = f64x2.add(t1, f64x2.mul(w, m1));
          t2 = f64x2.add(t2, f64x2.mul(w, m2));
          t3 = f64x2.add(t3, f64x2.mul(w, m3));
          pm += rs;
        }
        v128.store(o, s0);
        v128.store(o, s1, 16);
        v128.store(o, s2, 32);
        v128.store(o, s3, 48);
        v128.store(p, t0);
        v128.store(p, t1, 16);
        v128.store(p, t2, 32);
        v128.store(p, t3, 48);
      }
      mulRow(Y, d, M, Z, i, b, accumulate);
      mulRow(Y, d, M, Z, i + 1, b, accumulate);
    }
  }
  for (; i < n; i++) mulRow(Y, d, M, Z, i, 0, accumulate);
}

/** The reference QR (docs/kernels.md `retract`): Gram-Schmidt on a column-major copy of Y [n, d]. */
function qrReference(Y: usize, n: i32, d: i32): void {
  const N = <usize>n, Dd = <usize>d;
  const Q = work(SLOT_F64_D, (N * Dd) << 3);
  const tmp = work(SLOT_MISC, N << 3);
  for (let i: usize = 0; i < N; i++) {
    for (let a: usize = 0; a < Dd; a++) store<f64>(Q + ((a * N + i) << 3), load<f64>(Y + ((i * Dd + a) << 3)));
  }
  gramSchmidt(Q, n, d, tmp);
  for (let i: usize = 0; i < N; i++) {
    for (let a: usize = 0; a < Dd; a++) store<f64>(Y + ((i * Dd + a) << 3), load<f64>(Q + ((a * N + i) << 3)));
  }
}

/**
 * Q of a thin QR with positive diag(R) of the row-major float64 Y [n, d], in place; the algorithm of
 * native/kernels/stiefel.cc `qrRows`: Cholesky QR (the same Q as Gram-Schmidt when every Cholesky
 * pivot is above 1e-10 of its diagonal entry, else the reference path), a second pass unless the
 * Gram matrix was already within 1e-2 of the identity.
 */
function qrRows(Y: usize, n: i32, d: i32): void {
  const N = <usize>n, Dd = <usize>d;
  const G = work(SLOT_F64_C, (Dd * Dd) << 4);
  const R = G + ((Dd * Dd) << 3); // becomes R^{-1} (upper triangular)
  const Z = work(SLOT_F64_B, (N * Dd) << 3);
  for (let pass = 0; pass < 2; pass++) {
    gramT(Y, Y, N, Dd, G);
    let dev: f64 = 0;
    for (let a: usize = 0; a < Dd; a++) {
      for (let b: usize = 0; b < Dd; b++) {
        const e = Math.abs(load<f64>(G + ((a * Dd + b) << 3)) - (a == b ? 1.0 : 0.0));
        if (e > dev) dev = e;
      }
    }
    memory.fill(R, 0, (Dd * Dd) << 3);
    for (let j: usize = 0; j < Dd; j++) {
      const gjj = load<f64>(G + ((j * Dd + j) << 3));
      let piv = gjj;
      for (let l: usize = 0; l < j; l++) {
        const r = load<f64>(G + ((l * Dd + j) << 3));
        piv -= r * r;
      }
      if (!(piv > 1e-10 * gjj)) {
        qrReference(Y, n, d);
        return;
      }
      const rjj = Math.sqrt(piv);
      store<f64>(G + ((j * Dd + j) << 3), rjj); // G's upper triangle becomes the Cholesky factor
      for (let c = j + 1; c < Dd; c++) {
        let v = load<f64>(G + ((j * Dd + c) << 3));
        for (let l: usize = 0; l < j; l++) v -= load<f64>(G + ((l * Dd + j) << 3)) * load<f64>(G + ((l * Dd + c) << 3));
        store<f64>(G + ((j * Dd + c) << 3), v / rjj);
      }
    }
    for (let j: isize = 0; j < <isize>Dd; j++) { // R^{-1} column j: solve R x = e_j (back substitution)
      for (let i: isize = j; i >= 0; i--) {
        let v: f64 = i == j ? 1.0 : 0.0;
        for (let l = i + 1; l <= j; l++) v -= load<f64>(G + ((i * Dd + l) << 3)) * load<f64>(R + ((l * Dd + j) << 3));
        store<f64>(R + ((i * Dd + j) << 3), v / load<f64>(G + ((i * Dd + i) << 3)));
      }
    }
    mulRight(Y, N, Dd, R, Z, false);
    memory.copy(Y, Z, (N * Dd) << 3);
    if (dev < 1e-2) return;
  }
}

/** Polar factor Y (Y^T Y)^(-1/2) of the row-major float64 Y [n, d] in place; QR when Y^T Y is singular. */
function polarRows(Y: usize, n: i32, d: i32): void {
  const N = <usize>n, Dd = <usize>d;
  const gram = work(SLOT_F64_C, (Dd * Dd) << 4);
  const M = gram + ((Dd * Dd) << 3);
  const vals = work(SLOT_MISC, ((2 * Dd * Dd + Dd) << 3) + (Dd << 2)); // vals, vecs, tmp, order
  const vecs = vals + (Dd << 3);
  const tmp = vecs + ((Dd * Dd) << 3);
  const order = tmp + ((Dd * Dd) << 3);
  gramT(Y, Y, N, Dd, gram);
  jacobiEigh(gram, d, vals, vecs, order, tmp);
  const lmax = load<f64>(vals);
  const lmin = load<f64>(vals + ((Dd - 1) << 3));
  if (!(lmax > 0) || !(lmin > 1e-12 * lmax)) {
    qrRows(Y, n, d);
    return;
  }
  // M = V diag(l^-1/2) V^T, then Y <- Y M.
  for (let a: usize = 0; a < Dd; a++) {
    for (let b: usize = 0; b < Dd; b++) {
      let s: f64 = 0;
      for (let l: usize = 0; l < Dd; l++) {
        s += load<f64>(vecs + ((a * Dd + l) << 3)) * load<f64>(vecs + ((b * Dd + l) << 3)) / Math.sqrt(load<f64>(vals + (l << 3)));
      }
      store<f64>(M + ((a * Dd + b) << 3), s);
    }
  }
  const Z = work(SLOT_F64_B, (N * Dd) << 3);
  mulRight(Y, N, Dd, M, Z, false);
  memory.copy(Y, Z, (N * Dd) << 3);
}

/** Retract the row-major float64 block Y [n, d] in place: method 0 = qr, 1 = polar. */
function retractRows(Y: usize, n: i32, d: i32, method: i32): void {
  if (method == 1) {
    polarRows(Y, n, d);
  } else {
    qrRows(Y, n, d);
  }
}

/** Make every block of U [n, D] orthonormal in place: method 0 = qr, 1 = polar. */
export function retract(U: usize, n: i32, D: i32, dims: usize, K: i32, method: i32): void {
  const N = <usize>n;
  let off: usize = 0;
  for (let k = 0; k < K; k++) {
    const d = load<i32>(dims + (<usize>k << 2));
    const Y = work(SLOT_F64_A, (N * <usize>d) << 3);
    loadBlock(U, N, <usize>D, off, <usize>d, Y);
    retractRows(Y, n, d, method);
    storeBlock(Y, N, <usize>D, off, <usize>d, U);
    off += <usize>d;
  }
}

/**
 * The optimiser update of one block, element-wise: U, X = xi [n, d] row-major float64; the moments
 * m, v are the block's columns of the float32 [n, D] arrays (row stride ld). Method 0 = sgd, 1 = adam.
 */
function update(U: usize, X: usize, M: usize, V: usize, n: usize, d: usize, ld: usize, method: i32,
                lr: f64, momentum: f64, beta1: f64, beta2: f64, eps: f64, c1: f64, c2: f64): void {
  for (let i: usize = 0; i < n; i++) {
    const u = U + ((i * d) << 3), g = X + ((i * d) << 3), m = M + ((i * ld) << 2), v = V + ((i * ld) << 2);
    let a: usize = 0;
    if (method == 0) {
      if (ASC_FEATURE_SIMD) {
        const vmu = f64x2.splat(momentum), vlr = f64x2.splat(lr);
        for (; a + 2 <= d; a += 2) {
          const mm = f64x2.add(f64x2.mul(vmu, f64x2.promote_low_f32x4(v128.load64_zero(m + (a << 2)))), v128.load(g + (a << 3)));
          v128.store64_lane(m + (a << 2), f32x4.demote_f64x2_zero(mm), 0);
          v128.store(u + (a << 3), f64x2.sub(v128.load(u + (a << 3)), f64x2.mul(vlr, mm)));
        }
      }
      for (; a < d; a++) {
        const mm = momentum * <f64>load<f32>(m + (a << 2)) + load<f64>(g + (a << 3));
        store<f32>(m + (a << 2), <f32>mm);
        store<f64>(u + (a << 3), load<f64>(u + (a << 3)) - lr * mm);
      }
    } else {
      if (ASC_FEATURE_SIMD) {
        const vb1 = f64x2.splat(beta1), vb2 = f64x2.splat(beta2), w1 = f64x2.splat(1 - beta1), w2 = f64x2.splat(1 - beta2);
        const vlr = f64x2.splat(lr), veps = f64x2.splat(eps), vc1 = f64x2.splat(c1), vc2 = f64x2.splat(c2);
        for (; a + 2 <= d; a += 2) {
          const xi = v128.load(g + (a << 3));
          const mm = f64x2.add(f64x2.mul(vb1, f64x2.promote_low_f32x4(v128.load64_zero(m + (a << 2)))), f64x2.mul(w1, xi));
          const vv = f64x2.add(f64x2.mul(vb2, f64x2.promote_low_f32x4(v128.load64_zero(v + (a << 2)))), f64x2.mul(f64x2.mul(w2, xi), xi));
          v128.store64_lane(m + (a << 2), f32x4.demote_f64x2_zero(mm), 0);
          v128.store64_lane(v + (a << 2), f32x4.demote_f64x2_zero(vv), 0);
          const step = f64x2.div(f64x2.div(mm, vc1), f64x2.add(f64x2.sqrt(f64x2.div(vv, vc2)), veps));
          v128.store(u + (a << 3), f64x2.sub(v128.load(u + (a << 3)), f64x2.mul(vlr, step)));
        }
      }
      for (; a < d; a++) {
        const xi = load<f64>(g + (a << 3));
        const mm = beta1 * <f64>load<f32>(m + (a << 2)) + (1 - beta1) * xi;
        const vv = beta2 * <f64>load<f32>(v + (a << 2)) + (1 - beta2) * xi * xi;
        store<f32>(m + (a << 2), <f32>mm);
        store<f32>(v + (a << 2), <f32>vv);
        store<f64>(u + (a << 3), load<f64>(u + (a << 3)) - lr * ((mm / c1) / (Math.sqrt(vv / c2) + eps)));
      }
    }
  }
}

/**
 * One step on every block from the gradient G: xi = G - U sym(U^T G); sgd (method 0):
 * m = momentum m + xi, U -= lr m; adam (method 1, t = the step number after increment):
 * m = beta1 m + (1 - beta1) xi, v = beta2 v + (1 - beta2) xi^2, U -= lr mhat / (sqrt(vhat) + eps);
 * then retract (retraction 0 = qr, 1 = polar).
 */
export function stiefelStep(U: usize, G: usize, M: usize, V: usize, n: i32, D: i32, dims: usize, K: i32,
                            method: i32, lr: f64, momentum: f64, beta1: f64, beta2: f64, eps: f64, t: f64,
                            retraction: i32): void {
  const N = <usize>n, DD = <usize>D;
  const c1 = 1 - Math.pow(beta1, t);
  const c2 = 1 - Math.pow(beta2, t);
  let off: usize = 0;
  for (let k = 0; k < K; k++) {
    const d = <usize>load<i32>(dims + (<usize>k << 2));
    // Row-major float64 copies of the block: Y = U_k, X = G_k (becomes xi).
    const Y = work(SLOT_F64_A, (N * d) << 3);
    const X = work(SLOT_F64_D, (N * d) << 3);
    loadBlock(U, N, DD, off, d, Y);
    loadBlock(G, N, DD, off, d, X);
    // S = U_k^T G_k, then xi = G + U (-(S + S^T) / 2).
    const S = work(SLOT_F64_C, (d * d) << 3);
    gramT(Y, X, N, d, S);
    for (let a: usize = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        const sym = -0.5 * (load<f64>(S + ((a * d + b) << 3)) + load<f64>(S + ((b * d + a) << 3)));
        store<f64>(S + ((a * d + b) << 3), sym);
        store<f64>(S + ((b * d + a) << 3), sym);
      }
    }
    mulRight(Y, N, d, S, X, true);
    update(Y, X, M + (off << 2), V + (off << 2), N, d, DD, method, lr, momentum, beta1, beta2, eps, c1, c2);
    retractRows(Y, n, <i32>d, retraction);
    storeBlock(Y, N, DD, off, d, U);
    off += d;
  }
}
