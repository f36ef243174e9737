import type { ArrayBases } from './bases.js';

/** x [B, n], U [n, D] -> P [B, D] = x U, float64 accumulation. */
export function projectRow(x: Float32Array, xo: number, bases: ArrayBases, p: Float64Array): void {
  const { n, D, U } = bases;
  p.fill(0);
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    if (xi === 0) continue;
    for (let j = 0; j < D; j++) p[j] += xi * U[i * D + j];
  }
}

export function project(x: Float32Array, B: number, bases: ArrayBases, P: Float32Array): void {
  const p = new Float64Array(bases.D);
  for (let b = 0; b < B; b++) {
    projectRow(x, b * bases.n, bases, p);
    P.set(p, b * bases.D);
  }
}
