// lossGrad: fused diffusion loss and gradient (SPEC section 4, docs/kernels.md) for a minibatch.
// x0 [B, n], eps [B, n], s, sigma, weight [B], U [n, D] -> L = sum_b weight_b ||E[x0 | x_t] - x0_b||^2
// and G [n, D] = dL/dU. Backward: g = 2 weight r, Q = g U, a_k = h_k q_k . p_k, abar = sum_k w_k a_k,
// A[b, j] = w_k h_k p_j, C[b, j] = w_k h_k q_j + 2 phi_k w_k (a_k - abar) p_j, G = g^T A + x_t^T C.
// The two final GEMMs are one: [g; x_t]^T [A; C] with inner dimension 2B. Nothing of size B n D exists.
import { gemm } from './gemm';
import { forward, ck, CK_PHI, CK_H, CK_W, CK_STRIDE } from './denoise';
import { work, SLOT_F32_A, SLOT_F32_B, SLOT_F32_C, SLOT_F32_D, SLOT_F32_E, SLOT_F64_A, SLOT_F64_B } from './scratch';

export function lossGrad(x0: usize, eps: usize, B: i32, n: i32, s: usize, sigma: usize, weight: usize,
                         U: usize, D: i32, dims: usize, K: i32, logPi: usize, lambda: usize, delta: f64,
                         G: usize): f64 {
  const BN = <usize>(B * n), BD = <usize>(B * D);
  const XG = work(SLOT_F32_C, BN << 3); // rows 0..B-1: g, rows B..2B-1: x_t
  const xt = XG + (BN << 2);
  const out = work(SLOT_F32_D, BN << 2);
  const AC = work(SLOT_F32_E, BD << 3); // rows 0..B-1: A, rows B..2B-1: C
  const P = work(SLOT_F32_A, BD << 2);
  const Q = work(SLOT_F32_B, BD << 2); // PC scratch of the forward pass, then Q
  const CK = work(SLOT_F64_A, <usize>(B * K * CK_STRIDE) << 3);
  const a0 = work(SLOT_F64_B, <usize>B << 3);
  for (let b = 0; b < B; b++) {
    const sb = load<f32>(s + (<usize>b << 2)), sg = load<f32>(sigma + (<usize>b << 2));
    const row = <usize>(b * n) << 2;
    for (let i = 0; i < n; i++) {
      const at = row + (<usize>i << 2);
      store<f32>(xt + at, <f32>(<f64>sb * (<f64>load<f32>(x0 + at) + <f64>sg * <f64>load<f32>(eps + at))));
    }
  }
  forward(xt, B, n, U, D, dims, K, logPi, lambda, delta, s, sigma, out, P, Q, CK, a0);
  let L: f64 = 0;
  for (let b = 0; b < B; b++) {
    const wb = <f64>load<f32>(weight + (<usize>b << 2));
    const row = <usize>(b * n) << 2;
    let rr: f64 = 0;
    const g2 = <f32>(2 * wb);
    for (let i = 0; i < n; i++) {
      const at = row + (<usize>i << 2);
      const r = load<f32>(out + at) - load<f32>(x0 + at);
      rr += <f64>r * <f64>r;
      store<f32>(XG + at, g2 * r);
    }
    L += wb * rr;
  }
  gemm(false, false, B, D, n, 1, XG, U, 0, Q);
  const C = AC + (BD << 2);
  for (let b = 0; b < B; b++) {
    const row = <usize>(b * D) << 2;
    // a_k = h_k q_k . p_k; abar = sum_k w_k a_k (a_k kept in the CK slot 3).
    let abar: f64 = 0;
    let j = 0;
    for (let k = 0; k < K; k++) {
      const d = load<i32>(dims + (<usize>k << 2));
      let qp: f64 = 0;
      for (let c = 0; c < d; c++) {
        const at = row + (<usize>(j + c) << 2);
        qp += <f64>load<f32>(Q + at) * <f64>load<f32>(P + at);
      }
      const a = load<f64>(ck(CK, K, b, k, CK_H)) * qp;
      store<f64>(ck(CK, K, b, k, 3), a);
      abar += load<f64>(ck(CK, K, b, k, CK_W)) * a;
      j += d;
    }
    j = 0;
    for (let k = 0; k < K; k++) {
      const d = load<i32>(dims + (<usize>k << 2));
      const w = load<f64>(ck(CK, K, b, k, CK_W));
      const wh = <f32>(w * load<f64>(ck(CK, K, b, k, CK_H)));
      const t = <f32>(2 * load<f64>(ck(CK, K, b, k, CK_PHI)) * w * (load<f64>(ck(CK, K, b, k, 3)) - abar));
      for (let c = 0; c < d; c++) {
        const at = row + (<usize>(j + c) << 2);
        const p = load<f32>(P + at);
        store<f32>(AC + at, wh * p);
        store<f32>(C + at, wh * load<f32>(Q + at) + t * p);
      }
      j += d;
    }
  }
  gemm(true, false, n, D, 2 * B, 1, XG, AC, 0, G);
  return L;
}
