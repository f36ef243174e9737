import type { Bases } from '../types.js';

/** Column offsets of the stacked blocks: off[k] = d_0 + ... + d_{k-1}, off[K] = D. */
export function offsets(dims: Int32Array): Int32Array {
  const off = new Int32Array(dims.length + 1);
  for (let k = 0; k < dims.length; k++) off[k + 1] = off[k] + dims[k];
  return off;
}

/**
 * Bases held in JavaScript-owned typed arrays: `U`, the gradient and the optimiser moments, all
 * `[n, D]`, and the Adam step counter. Used by the `js` backend and, unchanged, by the `native`
 * backend, whose binding reads and writes these arrays in place.
 */
export class ArrayBases implements Bases {
  readonly K: number;
  readonly D: number;
  readonly off: Int32Array;
  readonly U: Float32Array;
  readonly grad: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Adam step counter. */
  t = 0;

  constructor(readonly n: number, readonly dims: Int32Array, U?: Float32Array) {
    this.dims = Int32Array.from(dims);
    this.K = dims.length;
    this.off = offsets(this.dims);
    this.D = this.off[this.K];
    const size = n * this.D;
    this.U = new Float32Array(size);
    if (U) this.U.set(U);
    this.grad = new Float32Array(size);
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  read(): Float32Array { return this.U.slice(); }
  write(U: Float32Array): void { this.U.set(U); }
  readGrad(out?: Float32Array): Float32Array {
    if (!out) return this.grad.slice();
    out.set(this.grad);
    return out;
  }
  resetOptimizer(): void { this.m.fill(0); this.v.fill(0); this.t = 0; }
  dispose(): void { /* garbage-collected memory: nothing to release */ }
}
