// denoise: the MoLRG posterior mean E[x0 | x_t] of a batch (SPEC section 3, docs/kernels.md).
// x [B, n], U [n, D], dims [K], logPi [K], lambda [K] (float64), delta, s [B], sigma [B] -> out [B, n],
// w [B, K]. Fused: P = x U, gate in float64, out = a0 x + (P o C) U^T with C[b, j] = w_k h_k; nothing
// bigger than [B, max(n, D)] is formed.
import { gemm } from './gemm';
import { energies, softmax } from './gate';
import { work, SLOT_F32_A, SLOT_F32_B, SLOT_F64_A, SLOT_F64_B, SLOT_F64_C } from './scratch';

/** Per (sample, component) float64 values kept by the forward pass, [B, K, CK_STRIDE]. */
export const CK_PHI: i32 = 0;
export const CK_H: i32 = 1;
export const CK_W: i32 = 2;
export const CK_STRIDE: i32 = 4;

// @ts-ignore: decorator
@inline
export function ck(CK: usize, K: i32, b: i32, k: i32, field: i32): usize {
  return CK + (<usize>((b * K + k) * CK_STRIDE + field) << 3);
}

/**
 * The forward pass shared by denoise and lossGrad. Writes P [B, D] (f32), CK [B, K, 4] (phi, h, w),
 * a0 [B] (float64) and out [B, n]; PC [B, D] is scratch.
 */
export function forward(x: usize, B: i32, n: i32, U: usize, D: i32, dims: usize, K: i32, logPi: usize,
                        lambda: usize, delta: f64, s: usize, sigma: usize, out: usize, P: usize, PC: usize,
                        CK: usize, a0: usize): void {
  gemm(false, false, B, D, n, 1, x, U, 0, P);
  const z = work(SLOT_F64_C, <usize>K << 3);
  const delta2 = delta * delta;
  // Where every component has the same d_k and lambda_k (the paper's case) the log-determinant term of
  // the bias is the same shift of every z_k and cancels in the softmax: it is left out (docs/kernels.md);
  // otherwise log1p is taken again only where lambda_k changes.
  let common = true;
  for (let k = 1; k < K; k++) {
    common = common && load<i32>(dims + (<usize>k << 2)) == load<i32>(dims) && load<f64>(lambda + (<usize>k << 3)) == load<f64>(lambda);
  }
  for (let b = 0; b < B; b++) {
    const sb = <f64>load<f32>(s + (<usize>b << 2));
    const gamma = sb * <f64>load<f32>(sigma + (<usize>b << 2));
    const beta = sb * sb * delta2 + gamma * gamma;
    const a0b = sb * delta2 / beta;
    store<f64>(a0 + (<usize>b << 3), a0b);
    energies(P + (<usize>(b * D) << 2), dims, K, z);
    let logRatio: f64 = 0;
    for (let k = 0; k < K; k++) {
      const lam = load<f64>(lambda + (<usize>k << 3));
      const alpha = sb * sb * lam;
      const phi = alpha / (2 * beta * (alpha + beta));
      const d = <f64>load<i32>(dims + (<usize>k << 2));
      if (!common && (k == 0 || lam != load<f64>(lambda + (<usize>(k - 1) << 3)))) logRatio = Math.log1p(alpha / beta);
      const bias = load<f64>(logPi + (<usize>k << 3)) - 0.5 * d * logRatio;
      const h = sb * (lam + delta2) / (alpha + beta) - a0b;
      store<f64>(ck(CK, K, b, k, CK_PHI), phi);
      store<f64>(ck(CK, K, b, k, CK_H), h);
      store<f64>(z + (<usize>k << 3), bias + phi * load<f64>(z + (<usize>k << 3)));
    }
    softmax(z, K);
    let j = 0;
    for (let k = 0; k < K; k++) {
      const w = load<f64>(z + (<usize>k << 3));
      store<f64>(ck(CK, K, b, k, CK_W), w);
      const c = <f32>(w * load<f64>(ck(CK, K, b, k, CK_H)));
      const d = load<i32>(dims + (<usize>k << 2));
      const row = <usize>(b * D + j) << 2;
      for (let c_ = 0; c_ < d; c_++) {
        const at = row + (<usize>c_ << 2);
        store<f32>(PC + at, c * load<f32>(P + at));
      }
      j += d;
    }
    const xr = x + (<usize>(b * n) << 2), orow = out + (<usize>(b * n) << 2);
    const a0f = <f32>a0b;
    for (let i = 0; i < n; i++) store<f32>(orow + (<usize>i << 2), a0f * load<f32>(xr + (<usize>i << 2)));
  }
  gemm(false, true, B, n, D, 1, PC, U, 1, out);
}

/** The posterior mean; w [B, K] is written when the pointer is not 0. */
export function denoise(x: usize, B: i32, n: i32, U: usize, D: i32, dims: usize, K: i32, logPi: usize,
                        lambda: usize, delta: f64, s: usize, sigma: usize, out: usize, w: usize): void {
  const P = work(SLOT_F32_A, <usize>(B * D) << 2);
  const PC = work(SLOT_F32_B, <usize>(B * D) << 2);
  const CK = work(SLOT_F64_A, <usize>(B * K * CK_STRIDE) << 3);
  const a0 = work(SLOT_F64_B, <usize>B << 3);
  forward(x, B, n, U, D, dims, K, logPi, lambda, delta, s, sigma, out, P, PC, CK, a0);
  if (w != 0) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) store<f32>(w + (<usize>(b * K + k) << 2), <f32>load<f64>(ck(CK, K, b, k, CK_W)));
    }
  }
}
