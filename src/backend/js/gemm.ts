/** C [m, n] = alpha op(A) op(B) + beta C, row-major, float64 accumulation (the reference GEMM). */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array,
): void {
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const a = transA ? A[p * m + i] : A[i * k + p];
      if (a === 0) continue;
      if (transB) for (let j = 0; j < n; j++) row[j] += a * B[j * k + p];
      else for (let j = 0, o = p * n; j < n; j++) row[j] += a * B[o + j];
    }
    for (let j = 0; j < n; j++) {
      C[i * n + j] = beta === 0 ? alpha * row[j] : alpha * row[j] + beta * C[i * n + j];
    }
  }
}
