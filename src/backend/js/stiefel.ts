import type { StiefelOptions } from '../types.js';
import type { ArrayBases } from './bases.js';
import { jacobiEigen } from './eigh.js';
import { gramSchmidt } from './orthonormal.js';

/** Columns of block k of a stacked [n, D] array, as float64 vectors. */
function columns(a: Float32Array, bases: ArrayBases, k: number): Float64Array[] {
  const { n, D, off } = bases;
  const cols: Float64Array[] = [];
  for (let j = off[k]; j < off[k + 1]; j++) {
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) c[i] = a[i * D + j];
    cols.push(c);
  }
  return cols;
}

function store(cols: Float64Array[], a: Float32Array, bases: ArrayBases, k: number): void {
  const { n, D, off } = bases;
  cols.forEach((c, t) => { for (let i = 0; i < n; i++) a[i * D + off[k] + t] = c[i]; });
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Polar factor A (A^T A)^(-1/2) of the columns, or null when A^T A is numerically singular. */
function polar(cols: Float64Array[]): Float64Array[] | null {
  const d = cols.length, n = cols[0].length;
  const gram = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) gram[i * d + j] = dot(cols[i], cols[j]);
  const { values, vectors } = jacobiEigen(gram, d);
  if (!(values[d - 1] > 1e-12 * values[0])) return null;
  // (A^T A)^(-1/2) = V diag(1/sqrt(lambda)) V^T, then A times it.
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += (vectors[t][i] * vectors[t][j]) / Math.sqrt(values[t]);
      inv[i * d + j] = s;
    }
  }
  return Array.from({ length: d }, (_, j) => {
    const c = new Float64Array(n);
    for (let i = 0; i < d; i++) for (let r = 0; r < n; r++) c[r] += cols[i][r] * inv[i * d + j];
    return c;
  });
}

function retractBlock(cols: Float64Array[], method: 'qr' | 'polar'): Float64Array[] {
  const p = method === 'polar' ? polar(cols) : null;
  if (p) return p;
  gramSchmidt(cols);
  return cols;
}

/** Make every block of the bases orthonormal (QR with positive diag(R), or polar). */
export function retract(bases: ArrayBases, method: 'qr' | 'polar'): void {
  for (let k = 0; k < bases.K; k++) store(retractBlock(columns(bases.U, bases, k), method), bases.U, bases, k);
}

/** One Riemannian SGD-momentum or Adam step on every block, then retraction (docs/kernels.md). */
export function stiefelStep(bases: ArrayBases, o: StiefelOptions): void {
  if (o.method === 'adam') bases.t += 1;
  const { n, D, off } = bases;
  for (let k = 0; k < bases.K; k++) {
    const U = columns(bases.U, bases, k), G = columns(bases.grad, bases, k);
    const d = U.length;
    // xi = G - U sym(U^T G)
    const S = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) S[i * d + j] = dot(U[i], G[j]);
    const xi = G.map((g, j) => {
      const c = Float64Array.from(g);
      for (let i = 0; i < d; i++) {
        const sym = 0.5 * (S[i * d + j] + S[j * d + i]);
        for (let r = 0; r < n; r++) c[r] -= U[i][r] * sym;
      }
      return c;
    });
    for (let t = 0; t < d; t++) {
      const j = off[k] + t;
      for (let r = 0; r < n; r++) {
        const at = r * D + j;
        let step: number;
        if (o.method === 'adam') {
          const m = o.beta1 * bases.m[at] + (1 - o.beta1) * xi[t][r];
          const v = o.beta2 * bases.v[at] + (1 - o.beta2) * xi[t][r] * xi[t][r];
          bases.m[at] = m;
          bases.v[at] = v;
          const mhat = m / (1 - Math.pow(o.beta1, bases.t)), vhat = v / (1 - Math.pow(o.beta2, bases.t));
          step = mhat / (Math.sqrt(vhat) + o.eps);
        } else {
          const m = o.momentum * bases.m[at] + xi[t][r];
          bases.m[at] = m;
          step = m;
        }
        U[t][r] -= o.lr * step;
      }
    }
    store(retractBlock(U, o.retraction), bases.U, bases, k);
  }
}
