/**
 * Float64 Gram-Schmidt helpers shared by `retract` and `svd` (docs/kernels.md): columns are stored
 * as separate Float64Arrays so that the algorithms read like the math.
 */

/** v -= (q . v) q for every q in qs, twice ("twice is enough" for orthogonality to working precision). */
export function orthogonalize(v: Float64Array, qs: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const q of qs) {
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += q[i] * v[i];
      for (let i = 0; i < v.length; i++) v[i] -= dot * q[i];
    }
  }
}

export function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * The deterministic completion: the standard basis vector e_i whose residual against the
 * orthonormal qs is largest (lowest i on ties), orthogonalised and normalised.
 */
export function completion(length: number, qs: readonly Float64Array[]): Float64Array {
  let best: Float64Array | null = null;
  let bestNorm = -1;
  for (let i = 0; i < length; i++) {
    const e = new Float64Array(length);
    e[i] = 1;
    orthogonalize(e, qs);
    const r = norm(e);
    if (r > bestNorm) { best = e; bestNorm = r; }
  }
  const out = best as Float64Array;
  for (let i = 0; i < length; i++) out[i] /= bestNorm;
  return out;
}

/** +1, or -1 when the largest-magnitude entry of v (the first such on ties) is negative. */
export function signOf(v: Float64Array): number {
  let at = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[at])) at = i;
  return v[at] < 0 ? -1 : 1;
}

/**
 * Thin QR with positive diag(R): the columns of `cols` made orthonormal in order, in place.
 * A column whose residual is <= 1e-6 of its original norm is replaced by the completion.
 */
export function gramSchmidt(cols: Float64Array[]): void {
  const done: Float64Array[] = [];
  for (const c of cols) {
    const before = norm(c);
    orthogonalize(c, done);
    const after = norm(c);
    if (after === 0 || after <= 1e-6 * before) c.set(completion(c.length, done));
    else for (let i = 0; i < c.length; i++) c[i] /= after;
    done.push(c);
  }
}
