import { completion, norm, signOf } from './orthonormal.js';

/**
 * One-sided Jacobi (Hestenes) SVD in float64 of a p x q matrix given as q columns of length p,
 * p >= q (docs/kernels.md). Returns singular values descending with their (unnormalised) left
 * columns and the accumulated right rotations.
 */
function hestenes(W: Float64Array[], p: number): { sigma: Float64Array; left: Float64Array[]; right: Float64Array[] } {
  const q = W.length;
  const V = Array.from({ length: q }, (_, j) => { const v = new Float64Array(q); v[j] = 1; return v; });
  const tol = Math.max(1e-15, 2.3e-16 * p);
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let i = 0; i < q - 1; i++) {
      for (let j = i + 1; j < q; j++) {
        const wi = W[i], wj = W[j];
        let alpha = 0, beta = 0, gamma = 0;
        for (let r = 0; r < p; r++) { alpha += wi[r] * wi[r]; beta += wj[r] * wj[r]; gamma += wi[r] * wj[r]; }
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let r = 0; r < p; r++) { const a = wi[r], b = wj[r]; wi[r] = c * a - s * b; wj[r] = s * a + c * b; }
        const vi = V[i], vj = V[j];
        for (let r = 0; r < q; r++) { const a = vi[r], b = vj[r]; vi[r] = c * a - s * b; vj[r] = s * a + c * b; }
      }
    }
    if (!rotated) break;
  }
  const norms = W.map(norm);
  const order = Array.from({ length: q }, (_, j) => j).sort((a, b) => norms[b] - norms[a] || a - b);
  return {
    sigma: Float64Array.from(order, (j) => norms[j]),
    left: order.map((j) => W[j]),
    right: order.map((j) => V[j]),
  };
}

/** Normalise the columns by sigma; a column with sigma <= 1e-12 sigma_1 comes from the completion. */
function normalizeOrComplete(cols: Float64Array[], sigma: Float64Array): Float64Array[] {
  const out: Float64Array[] = [];
  const floor = 1e-12 * sigma[0];
  cols.forEach((c, j) => {
    if (sigma[j] === 0 || sigma[j] <= floor) out.push(completion(c.length, out));
    else out.push(c.map((x) => x / sigma[j]));
  });
  return out;
}

/** Thin SVD of `A [batch, m, n]`, top r, with the sign convention of docs/kernels.md. */
export function svd(
  A: Float32Array, batch: number, m: number, n: number, r: number,
  U: Float32Array, S: Float32Array, V: Float32Array,
): void {
  for (let b = 0; b < batch; b++) {
    const a = b * m * n;
    const tall = m >= n;
    // Columns of A (tall) or of A^T (wide): q = min(m, n) columns of length p = max(m, n).
    const p = tall ? m : n, q = tall ? n : m;
    const W = Array.from({ length: q }, (_, j) => {
      const c = new Float64Array(p);
      for (let i = 0; i < p; i++) c[i] = tall ? A[a + i * n + j] : A[a + j * n + i];
      return c;
    });
    const h = hestenes(W, p);
    const left = normalizeOrComplete(h.left, h.sigma);
    // Tall: A = left S right^T. Wide: A^T = left S right^T, so A = right S left^T.
    const us = tall ? left : h.right;
    const vs = tall ? h.right : left;
    for (let j = 0; j < r; j++) {
      const sign = signOf(us[j]);
      S[b * r + j] = h.sigma[j];
      for (let i = 0; i < m; i++) U[b * m * r + i * r + j] = sign * us[j][i];
      for (let i = 0; i < n; i++) V[b * n * r + i * r + j] = sign * vs[j][i];
    }
  }
}
