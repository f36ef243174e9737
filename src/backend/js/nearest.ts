/** Nearest reference row of each query row, by direct float64 distances (lowest index on ties). */
export function nearest(
  queries: Float32Array, M: number, refs: Float32Array, N: number, n: number,
  index: Int32Array, dist: Float32Array,
): void {
  for (let i = 0; i < M; i++) {
    let best = -1, bestD = Infinity;
    for (let j = 0; j < N; j++) {
      let d = 0;
      for (let c = 0; c < n; c++) { const t = queries[i * n + c] - refs[j * n + c]; d += t * t; }
      if (d < bestD) { bestD = d; best = j; }
    }
    index[i] = best;
    dist[i] = Math.sqrt(bestD);
  }
}
