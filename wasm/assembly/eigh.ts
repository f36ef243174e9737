// eigh: symmetric eigendecomposition of a batch, A [batch, n, n] -> values [batch, n] (descending),
// vectors [batch, n, n] (eigenvector j in column j). Cyclic Jacobi in float64 on (A + A^T) / 2;
// sign convention: the largest-magnitude entry of each vector is positive (the first on ties).
import { rot } from './vec64';
import { work, SLOT_F64_A, SLOT_F64_B, SLOT_F64_C, SLOT_MISC } from './scratch';

/**
 * Cyclic Jacobi on the symmetric float64 matrix `a` [n, n] (row-major, destroyed). Writes the
 * eigenvalues, descending, to `values` [n] and the eigenvectors to the columns of the row-major
 * `vectors` [n, n], sign-normalised. `order` is n i32 of scratch.
 */
export function jacobiEigh(a: usize, n: i32, values: usize, vectors: usize, order: usize, tmp: usize): void {
  const N = <usize>n;
  memory.fill(tmp, 0, (N * N) << 3);
  for (let i: usize = 0; i < N; i++) store<f64>(tmp + ((i * N + i) << 3), 1.0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off: f64 = 0, diag: f64 = 0;
    for (let p: usize = 0; p < N; p++) {
      diag += load<f64>(a + ((p * N + p) << 3)) * load<f64>(a + ((p * N + p) << 3));
      for (let q = p + 1; q < N; q++) {
        const x = load<f64>(a + ((p * N + q) << 3));
        off += x * x;
      }
    }
    if (off == 0 || off <= 1e-32 * diag) break;
    for (let p: usize = 0; p < N; p++) {
      for (let q = p + 1; q < N; q++) {
        const apq = load<f64>(a + ((p * N + q) << 3));
        if (apq == 0) continue;
        const app = load<f64>(a + ((p * N + p) << 3));
        const aqq = load<f64>(a + ((q * N + q) << 3));
        // Rotation that annihilates a[p, q] (Rutishauser's stable form). A stays symmetric, so the
        // contiguous row rotation also gives the columns; the 2 x 2 block is set directly.
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1.0 : -1.0) / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        const rp = a + ((p * N) << 3), rq = a + ((q * N) << 3);
        rot(rp, rq, c, s, N);
        for (let k: usize = 0; k < N; k++) {
          store<f64>(a + ((k * N + p) << 3), load<f64>(rp + (k << 3)));
          store<f64>(a + ((k * N + q) << 3), load<f64>(rq + (k << 3)));
        }
        store<f64>(a + ((p * N + p) << 3), app - t * apq);
        store<f64>(a + ((q * N + q) << 3), aqq + t * apq);
        store<f64>(a + ((p * N + q) << 3), 0);
        store<f64>(a + ((q * N + p) << 3), 0);
        // Eigenvectors are accumulated as the rows of tmp (row j = vector j), also contiguous.
        rot(tmp + ((p * N) << 3), tmp + ((q * N) << 3), c, s, N);
      }
    }
  }
  // Sort descending (stable insertion sort on indices), then normalise signs.
  for (let i: usize = 0; i < N; i++) store<i32>(order + (i << 2), <i32>i);
  for (let i: usize = 1; i < N; i++) {
    const oi = load<i32>(order + (i << 2));
    const vi = load<f64>(a + ((<usize>oi * N + <usize>oi) << 3));
    let j = i;
    while (j > 0) {
      const oj = load<i32>(order + ((j - 1) << 2));
      if (load<f64>(a + ((<usize>oj * N + <usize>oj) << 3)) >= vi) break;
      store<i32>(order + (j << 2), oj);
      j--;
    }
    store<i32>(order + (j << 2), oi);
  }
  for (let j: usize = 0; j < N; j++) {
    const src = <usize>load<i32>(order + (j << 2));
    store<f64>(values + (j << 3), load<f64>(a + ((src * N + src) << 3)));
    let big: f64 = -1, sign: f64 = 1;
    for (let k: usize = 0; k < N; k++) {
      const x = load<f64>(tmp + ((src * N + k) << 3));
      if (Math.abs(x) > big) { big = Math.abs(x); sign = x < 0 ? -1.0 : 1.0; }
    }
    for (let k: usize = 0; k < N; k++) {
      store<f64>(vectors + ((k * N + j) << 3), sign * load<f64>(tmp + ((src * N + k) << 3)));
    }
  }
}

/** A [batch, n, n] -> values [batch, n], vectors [batch, n, n] (float32 in and out). */
export function eigh(A: usize, batch: i32, n: i32, values: usize, vectors: usize): void {
  const N = <usize>n;
  const a = work(SLOT_F64_A, (N * N) << 3);
  const vals = work(SLOT_F64_B, N << 3);
  const vecs = work(SLOT_F64_C, (N * N) << 3);
  const tmp = work(SLOT_MISC, ((N * N) << 3) + (N << 2));
  const order = tmp + ((N * N) << 3);
  for (let b = 0; b < batch; b++) {
    const src = A + ((<usize>b * N * N) << 2);
    for (let i: usize = 0; i < N; i++) {
      for (let j: usize = 0; j < N; j++) {
        const x = (<f64>load<f32>(src + ((i * N + j) << 2)) + <f64>load<f32>(src + ((j * N + i) << 2))) * 0.5;
        store<f64>(a + ((i * N + j) << 3), x);
      }
    }
    jacobiEigh(a, n, vals, vecs, order, tmp);
    for (let i: usize = 0; i < N; i++) {
      store<f32>(values + ((<usize>b * N + i) << 2), <f32>load<f64>(vals + (i << 3)));
    }
    const dst = vectors + ((<usize>b * N * N) << 2);
    for (let i: usize = 0; i < N * N; i++) store<f32>(dst + (i << 2), <f32>load<f64>(vecs + (i << 3)));
  }
}
