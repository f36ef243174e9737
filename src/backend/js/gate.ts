/** w = softmax(z), z[k] given, max subtracted for stability only; writes w[o..o+K-1]. */
export function softmaxInto(z: Float64Array, w: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) max = Math.max(max, z[k]);
  let sum = 0;
  for (let k = 0; k < z.length; k++) { w[k] = Math.exp(z[k] - max); sum += w[k]; }
  for (let k = 0; k < z.length; k++) w[k] /= sum;
}

/** w[b, k] = softmax_k(bias[b, k] + phi[b, k] ||P[b, block k]||^2). P [B, D], dims [K] -> w [B, K]. */
export function gate(
  P: Float32Array, B: number, dims: Int32Array, bias: Float64Array, phi: Float64Array, w: Float32Array,
): void {
  const K = dims.length;
  let D = 0;
  for (let k = 0; k < K; k++) D += dims[k];
  const z = new Float64Array(K), wk = new Float64Array(K);
  for (let b = 0; b < B; b++) {
    let j = b * D;
    for (let k = 0; k < K; k++) {
      let e = 0;
      for (let c = 0; c < dims[k]; c++, j++) e += P[j] * P[j];
      z[k] = bias[b * K + k] + phi[b * K + k] * e;
    }
    softmaxInto(z, wk);
    w.set(wk, b * K);
  }
}
