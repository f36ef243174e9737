// nearest: queries [M, n], refs [N, n] -> index [M] (lowest index on ties), dist [M] (not squared).
// Candidates are screened with the GEMM form ||q||^2 + ||r||^2 - 2 q.r in float32 (tiles of queries x
// refs); any reference whose screened distance could, within the float32 error bound, beat the best
// one so far is recomputed directly (sum (q - r)^2 in float64), and only exact distances decide.
import { gemm } from './gemm';
import { work, SLOT_F32_A, SLOT_F64_A, SLOT_F64_B, SLOT_F64_C } from './scratch';

const TQ: i32 = 64;
const TR: i32 = 512;

function exactDist2(q: usize, r: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const d = <f64>load<f32>(q + (<usize>i << 2)) - <f64>load<f32>(r + (<usize>i << 2));
    s += d * d;
  }
  return s;
}

function sqNorms(X: usize, rows: i32, n: i32, out: usize): void {
  for (let i = 0; i < rows; i++) {
    const x = X + (<usize>(i * n) << 2);
    let s: f64 = 0;
    for (let j = 0; j < n; j++) {
      const v = <f64>load<f32>(x + (<usize>j << 2));
      s += v * v;
    }
    store<f64>(out + (<usize>i << 3), s);
  }
}

export function nearest(queries: usize, M: i32, refs: usize, N: i32, n: i32, index: usize, dist: usize): void {
  const qn = work(SLOT_F64_A, <usize>M << 3);
  const rn = work(SLOT_F64_B, <usize>N << 3);
  // Per query: best exact squared distance and its index.
  const best = work(SLOT_F64_C, <usize>M << 4);
  const dots = work(SLOT_F32_A, <usize>(TQ * TR) << 2);
  sqNorms(queries, M, n, qn);
  sqNorms(refs, N, n, rn);
  // Error bound of the float32 screened squared distance: a generous multiple of n u (||q||^2 + ||r||^2).
  const relErr: f64 = 4.0 * (<f64>n + 8.0) * 5.960464477539063e-8;
  for (let i = 0; i < M; i++) {
    store<f64>(best + (<usize>i << 4), Infinity);
    store<i32>(best + (<usize>i << 4), -1, 8);
  }
  for (let r0 = 0; r0 < N; r0 += TR) {
    const nr = min(TR, N - r0);
    for (let q0 = 0; q0 < M; q0 += TQ) {
      const nq = min(TQ, M - q0);
      gemm(false, true, nq, nr, n, 1, queries + (<usize>(q0 * n) << 2), refs + (<usize>(r0 * n) << 2), 0, dots);
      for (let a = 0; a < nq; a++) {
        const qi = q0 + a;
        const slot = best + (<usize>qi << 4);
        const q2 = load<f64>(qn + (<usize>qi << 3));
        let bestD = load<f64>(slot);
        let bestI = load<i32>(slot, 8);
        // Upper bound of the best exact distance: the exact value once one is known.
        for (let c = 0; c < nr; c++) {
          const rj = r0 + c;
          const r2 = load<f64>(rn + (<usize>rj << 3));
          const screened = q2 + r2 - 2.0 * <f64>load<f32>(dots + (<usize>(a * nr + c) << 2));
          const err = relErr * (q2 + r2) + 1e-30;
          if (screened - err > bestD) continue;
          const exact = exactDist2(queries + (<usize>(qi * n) << 2), refs + (<usize>(rj * n) << 2), n);
          if (exact < bestD) {
            bestD = exact;
            bestI = rj;
          }
        }
        store<f64>(slot, bestD);
        store<i32>(slot, bestI, 8);
      }
    }
  }
  for (let i = 0; i < M; i++) {
    const slot = best + (<usize>i << 4);
    store<i32>(index + (<usize>i << 2), load<i32>(slot, 8));
    store<f32>(dist + (<usize>i << 2), <f32>Math.sqrt(load<f64>(slot)));
  }
}
