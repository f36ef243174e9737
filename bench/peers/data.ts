/**
 * Inputs shared by molrg and its peers (written once as raw little-endian files for the Python
 * server, so both sides work on identical data) and the accuracy metric of W5.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussian } from '../../src/random.js';
import type { ArrayFile } from './python.js';

/** A scratch folder for the files exchanged with the Python peers. */
export class Exchange {
  readonly dir = mkdtempSync(join(tmpdir(), 'molrg-peers-'));
  private count = 0;

  /** Writes `data` (float32 or float64, row-major `shape`) and returns its description. */
  write(data: Float32Array | Float64Array, shape: number[]): ArrayFile {
    const path = join(this.dir, `a${this.count++}.bin`);
    writeFileSync(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return { path, dtype: data instanceof Float64Array ? 'float64' : 'float32', shape };
  }

  /** A fresh path in the folder, for the server to write to. */
  path(): string {
    return join(this.dir, `b${this.count++}.bin`);
  }

  /** Reads a float64 file written by the server. */
  readFloat64(path: string): Float64Array {
    const buf = readFileSync(path);
    return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * W5's input: `batch` matrices `[m, n]`, each `L R^T` of rank r (Gaussian factors) plus Gaussian
 * noise whose Frobenius norm is `noise` times that of `L R^T` (in expectation).
 */
export function lowRankPlusNoise(batch: number, m: number, n: number, r: number, noise: number, seed: number): Float32Array {
  const A = new Float32Array(batch * m * n);
  for (let b = 0; b < batch; b++) {
    const L = gaussian(m * r, seed + b, 1), R = gaussian(n * r, seed + b, 2), E = gaussian(m * n, seed + b, 3);
    const clean = new Float64Array(m * n);
    let energy = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let t = 0;
      for (let q = 0; q < r; q++) t += L[i * r + q] * R[j * r + q];
      clean[i * n + j] = t;
      energy += t * t;
    }
    const scale = noise * Math.sqrt(energy / (m * n));
    for (let i = 0; i < m * n; i++) A[b * m * n + i] = clean[i] + scale * E[i];
  }
  return A;
}

/**
 * SPEC section 7's subspace distance `||U U^T - V V^T||_F / sqrt(2 r)` between span(U) and span(V),
 * both `[m, r]` with orthonormal columns, in float64 as `||U - V (V^T U)||_F / sqrt(r)` (the sines of
 * the principal angles; the form `2r - 2 ||U^T V||_F^2` cancels and would floor the error near 4e-5).
 */
export function subspaceError(U: ArrayLike<number>, V: ArrayLike<number>, m: number, r: number): number {
  const VtU = new Float64Array(r * r);
  for (let i = 0; i < m; i++) for (let a = 0; a < r; a++) {
    const v = V[i * r + a];
    for (let c = 0; c < r; c++) VtU[a * r + c] += v * U[i * r + c];
  }
  let s = 0;
  for (let i = 0; i < m; i++) for (let c = 0; c < r; c++) {
    let t = U[i * r + c];
    for (let a = 0; a < r; a++) t -= V[i * r + a] * VtU[a * r + c];
    s += t * t;
  }
  return Math.sqrt(s / r);
}

/** The largest `subspaceError` over a batch of `[m, r]` bases. */
export function maxSubspaceError(U: Float32Array | Float64Array, V: Float64Array, batch: number, m: number, r: number): number {
  let worst = 0;
  for (let b = 0, size = m * r; b < batch; b++) {
    worst = Math.max(worst, subspaceError(U.subarray(b * size, (b + 1) * size), V.subarray(b * size, (b + 1) * size), m, r));
  }
  return worst;
}
