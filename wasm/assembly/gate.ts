// gate: soft-max gating (SPEC section 3). P [B, D], dims [K], bias [B, K], phi [B, K] (float64)
// -> w [B, K] = softmax_k(bias + phi ||P_k||^2), energies accumulated and softmax taken in float64
// with the max subtracted (phi reaches 1e8 at small sigma).

/** Energies e_k = ||P[b, block k]||^2 of one row, float64, into e [K]. */
export function energies(Prow: usize, dims: usize, K: i32, e: usize): void {
  let j: usize = 0;
  for (let k = 0; k < K; k++) {
    const d = <usize>load<i32>(dims + (<usize>k << 2));
    let s: f64 = 0;
    for (let c: usize = 0; c < d; c++) {
      const p = <f64>load<f32>(Prow + ((j + c) << 2));
      s += p * p;
    }
    store<f64>(e + (<usize>k << 3), s);
    j += d;
  }
}

/** In place: z [K] -> softmax(z), float64, max subtracted. */
export function softmax(z: usize, K: i32): void {
  let zmax: f64 = -Infinity;
  for (let k = 0; k < K; k++) zmax = max(zmax, load<f64>(z + (<usize>k << 3)));
  // exp(0) = 1 and exp(< -746) = 0 exactly: both skip the call (most terms underflow at small sigma).
  let sum: f64 = 0;
  for (let k = 0; k < K; k++) {
    const t = load<f64>(z + (<usize>k << 3)) - zmax;
    const e = t == 0 ? 1.0 : t < -746 ? 0.0 : Math.exp(t);
    store<f64>(z + (<usize>k << 3), e);
    sum += e;
  }
  const inv = 1.0 / sum;
  for (let k = 0; k < K; k++) store<f64>(z + (<usize>k << 3), load<f64>(z + (<usize>k << 3)) * inv);
}

/** `z` is K float64 of scratch. */
export function gate(P: usize, B: i32, D: i32, dims: usize, K: i32, bias: usize, phi: usize, w: usize, z: usize): void {
  for (let b = 0; b < B; b++) {
    energies(P + (<usize>(b * D) << 2), dims, K, z);
    const bk = <usize>(b * K);
    for (let k: usize = 0; k < <usize>K; k++) {
      const at = (bk + k) << 3;
      store<f64>(z + (k << 3), load<f64>(bias + at) + load<f64>(phi + at) * load<f64>(z + (k << 3)));
    }
    softmax(z, K);
    for (let k: usize = 0; k < <usize>K; k++) store<f32>(w + ((bk + k) << 2), <f32>load<f64>(z + (k << 3)));
  }
}
