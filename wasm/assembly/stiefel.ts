// stiefel: one Riemannian optimiser step on every block of the stacked bases, and the retractions
// (SPEC section 4, docs/kernels.md). U, G, m, v are [n, D] float32 in the bases' own memory; block k
// owns columns off_k .. off_k + d_k - 1. The small parts (U^T G, Gram-Schmidt, the d x d polar
// factor) are float64.
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

/** Block k of U [n, D] (columns off .. off + d - 1) -> column-major float64 Q [d][n]. */
function loadBlock(U: usize, n: usize, D: usize, off: usize, d: usize, Q: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const row = U + ((i * D + off) << 2);
    for (let j: usize = 0; j < d; j++) store<f64>(Q + ((j * n + i) << 3), <f64>load<f32>(row + (j << 2)));
  }
}

function storeBlock(Q: usize, n: usize, D: usize, off: usize, d: usize, U: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const row = U + ((i * D + off) << 2);
    for (let j: usize = 0; j < d; j++) store<f32>(row + (j << 2), <f32>load<f64>(Q + ((j * n + i) << 3)));
  }
}

/** Polar factor A (A^T A)^(-1/2) of the column-major Q [d][n] in place; false when A^T A is singular. */
function polar(Q: usize, n: i32, d: i32): bool {
  const N = <usize>n, Dd = <usize>d;
  const gram = work(SLOT_F64_B, (Dd * Dd) << 3);
  const vals = work(SLOT_F64_C, Dd << 3);
  const vecs = work(SLOT_F64_D, (Dd * Dd) << 3);
  const misc = work(SLOT_MISC, ((Dd * Dd) << 3) + (Dd << 2) + ((N * Dd) << 3));
  const order = misc + ((Dd * Dd) << 3);
  const copy = order + (Dd << 2);
  for (let a: usize = 0; a < Dd; a++) {
    for (let b = a; b < Dd; b++) {
      const g = dot64(col(Q, N, a), col(Q, N, b), N);
      store<f64>(gram + ((a * Dd + b) << 3), g);
      store<f64>(gram + ((b * Dd + a) << 3), g);
    }
  }
  jacobiEigh(gram, d, vals, vecs, order, misc);
  const lmax = load<f64>(vals);
  const lmin = load<f64>(vals + ((Dd - 1) << 3));
  if (!(lmax > 0) || lmin <= 1e-12 * lmax) return false;
  // M = V diag(l^-1/2) V^T (reuse gram), then Q <- Q M.
  for (let a: usize = 0; a < Dd; a++) {
    for (let b: usize = 0; b < Dd; b++) {
      let s: f64 = 0;
      for (let l: usize = 0; l < Dd; l++) {
        s += load<f64>(vecs + ((a * Dd + l) << 3)) * load<f64>(vecs + ((b * Dd + l) << 3)) / Math.sqrt(load<f64>(vals + (l << 3)));
      }
      store<f64>(gram + ((a * Dd + b) << 3), s);
    }
  }
  memory.copy(copy, Q, (N * Dd) << 3);
  for (let b: usize = 0; b < Dd; b++) {
    const q = col(Q, N, b);
    for (let i: usize = 0; i < N; i++) {
      let s: f64 = 0;
      for (let a: usize = 0; a < Dd; a++) s += load<f64>(copy + ((a * N + i) << 3)) * load<f64>(gram + ((a * Dd + b) << 3));
      store<f64>(q + (i << 3), s);
    }
  }
  return true;
}

/** Make every block of U [n, D] orthonormal in place: method 0 = qr, 1 = polar. */
export function retract(U: usize, n: i32, D: i32, dims: usize, K: i32, method: i32): void {
  const N = <usize>n;
  let off: usize = 0;
  for (let k = 0; k < K; k++) {
    const d = load<i32>(dims + (<usize>k << 2));
    const Q = work(SLOT_F64_A, (N * <usize>d) << 3);
    loadBlock(U, N, <usize>D, off, <usize>d, Q);
    retractBlock(Q, n, d, method);
    storeBlock(Q, N, <usize>D, off, <usize>d, U);
    off += <usize>d;
  }
}

function retractBlock(Q: usize, n: i32, d: i32, method: i32): void {
  if (method == 1 && polar(Q, n, d)) return;
  const tmp = work(SLOT_F64_B, <usize>n << 3);
  gramSchmidt(Q, n, d, tmp);
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
    // Column-major float64 copies of the block: Q = U_k, X = G_k (becomes xi).
    const Q = work(SLOT_F64_A, (N * d) << 3);
    const X = work(SLOT_F64_D, (N * d) << 3);
    loadBlock(U, N, DD, off, d, Q);
    loadBlock(G, N, DD, off, d, X);
    // S = U_k^T G_k (d x d), then xi = G - U sym(S).
    const S = work(SLOT_F64_C, (d * d) << 3);
    for (let a: usize = 0; a < d; a++) {
      for (let b: usize = 0; b < d; b++) store<f64>(S + ((a * d + b) << 3), dot64(col(Q, N, a), col(X, N, b), N));
    }
    for (let b: usize = 0; b < d; b++) {
      for (let a: usize = 0; a < d; a++) {
        const sym = 0.5 * (load<f64>(S + ((a * d + b) << 3)) + load<f64>(S + ((b * d + a) << 3)));
        axmy(sym, col(Q, N, a), col(X, N, b), N);
      }
    }
    // The optimiser update, element by element (moments stay in the ambient [n, D] layout).
    for (let b: usize = 0; b < d; b++) {
      const q = col(Q, N, b), x = col(X, N, b);
      for (let i: usize = 0; i < N; i++) {
        const at = (i * DD + off + b) << 2;
        const xi = load<f64>(x + (i << 3));
        let step: f64;
        if (method == 0) {
          const m = momentum * <f64>load<f32>(M + at) + xi;
          store<f32>(M + at, <f32>m);
          step = m;
        } else {
          const m = beta1 * <f64>load<f32>(M + at) + (1 - beta1) * xi;
          const v = beta2 * <f64>load<f32>(V + at) + (1 - beta2) * xi * xi;
          store<f32>(M + at, <f32>m);
          store<f32>(V + at, <f32>v);
          step = (m / c1) / (Math.sqrt(v / c2) + eps);
        }
        store<f64>(q + (i << 3), load<f64>(q + (i << 3)) - lr * step);
      }
    }
    retractBlock(Q, n, <i32>d, retraction);
    storeBlock(Q, N, DD, off, d, U);
    off += d;
  }
}
