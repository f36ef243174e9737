import { signOf } from './orthonormal.js';

/**
 * Symmetric eigendecomposition of one n x n matrix by cyclic Jacobi in float64 (docs/kernels.md):
 * `S` (row-major, symmetric, overwritten) -> values descending, vectors as columns.
 */
export function jacobiEigen(S: Float64Array, n: number): { values: Float64Array; vectors: Float64Array[] } {
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let p = 0; p < n; p++) {
      diag += S[p * n + p] * S[p * n + p];
      for (let q = p + 1; q < n; q++) off += S[p * n + q] * S[p * n + q];
    }
    if (off <= 1e-32 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = S[p * n + q];
        if (apq === 0) continue;
        // Rotation that zeroes S[p, q]: t = tan(theta), the smaller root for stability.
        const theta = (S[q * n + q] - S[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const skp = S[k * n + p], skq = S[k * n + q];
          S[k * n + p] = c * skp - s * skq;
          S[k * n + q] = s * skp + c * skq;
        }
        for (let k = 0; k < n; k++) {
          const spk = S[p * n + k], sqk = S[q * n + k];
          S[p * n + k] = c * spk - s * sqk;
          S[q * n + k] = s * spk + c * sqk;
        }
        S[p * n + q] = 0;
        S[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => S[b * n + b] - S[a * n + a] || a - b);
  const values = new Float64Array(n);
  const vectors: Float64Array[] = [];
  order.forEach((j, r) => {
    values[r] = S[j * n + j];
    const v = new Float64Array(n);
    for (let k = 0; k < n; k++) v[k] = V[k * n + j];
    const sign = signOf(v);
    for (let k = 0; k < n; k++) v[k] *= sign;
    vectors.push(v);
  });
  return { values, vectors };
}

/** Batched eigh: `A [batch, n, n]` -> `values [batch, n]` descending, `vectors [batch, n, n]` (columns). */
export function eigh(A: Float32Array, batch: number, n: number, values: Float32Array, vectors: Float32Array): void {
  for (let b = 0; b < batch; b++) {
    const S = new Float64Array(n * n);
    const a = b * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) S[i * n + j] = 0.5 * (A[a + i * n + j] + A[a + j * n + i]);
    }
    const r = jacobiEigen(S, n);
    for (let j = 0; j < n; j++) {
      values[b * n + j] = r.values[j];
      for (let i = 0; i < n; i++) vectors[a + i * n + j] = r.vectors[j][i];
    }
  }
}
