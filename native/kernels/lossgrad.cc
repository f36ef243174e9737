#include <algorithm>

#include "buffer.h"
#include "gemm.h"
#include "model.h"
#include "parallel.h"

namespace molrg {

namespace {

// Models this narrow take the per-sample path (and the stack arrays of the per-component constants
// hold every K, as K <= D).
constexpr idx kRowsMaxD = 32;
// ... when the batch is also small enough for one core: beyond this the GEMM path's threads pay.
constexpr double kRowsMaxWork = 4194304.0;
// Samples per block of the per-sample path: x_t and g of a block stay in L1 up to n ~ 256.
constexpr idx kRowsBlock = 16;

#pragma GCC diagnostic ignored "-Wpsabi"

// Eight floats: one YMM register on AVX2 / AVX-512, two XMM registers on the baseline.
typedef float v8 __attribute__((vector_size(32), aligned(4)));

MOLRG_INLINE v8 load8(const float* p) {
  v8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

MOLRG_INLINE void store8(float* p, v8 v) { __builtin_memcpy(p, &v, sizeof v); }

MOLRG_INLINE v8 splat8(float x) { return v8{} + x; }

// Eight doubles, and eight floats widened to them or rounded from them.
typedef double v8d __attribute__((vector_size(64), aligned(8)));

MOLRG_INLINE v8d widen8(const float* p) { return __builtin_convertvector(load8(p), v8d); }

MOLRG_INLINE void round8(float* p, v8d v) { store8(p, __builtin_convertvector(v, v8)); }

// x_t = s (x0 + sigma eps) of one sample, in float64, rounded to float32.
MOLRG_INLINE void noisyRow(const float* x0, const float* eps, double s, double sigma, idx n, float* xt) {
  idx i = 0;
  for (; i + 8 <= n; i += 8) round8(xt + i, s * (widen8(x0 + i) + sigma * widen8(eps + i)));
  for (; i < n; i++) xt[i] = static_cast<float>(s * (static_cast<double>(x0[i]) + sigma * eps[i]));
}

// The residual of one sample in float64, r = lr + a0 x_t - x0 with `lr` the low-rank part of the
// posterior mean (sum_k w_k h_k U_k p_k); g = 2 weight r rounded to float32 (g may be lr). Returns
// ||r||^2: eight partial sums, added in a fixed order.
MOLRG_INLINE double residualRow(const float* lr, const float* xt, const float* x0, double a0, double wt, idx n,
                                float* g) {
  v8d l8 = {};
  idx i = 0;
  for (; i + 8 <= n; i += 8) {
    const v8d r = widen8(lr + i) + a0 * widen8(xt + i) - widen8(x0 + i);
    l8 += r * r;
    round8(g + i, (2.0 * wt) * r);
  }
  double l = ((l8[0] + l8[1]) + (l8[2] + l8[3])) + ((l8[4] + l8[5]) + (l8[6] + l8[7]));
  for (; i < n; i++) {
    const double r = static_cast<double>(lr[i]) + a0 * xt[i] - x0[i];
    l += r * r;
    g[i] = static_cast<float>(2.0 * wt * r);
  }
  return l;
}

// The backward coefficients of one sample: a_k = h_k q_k . p_k, abar = sum_k w_k a_k, and q (= g U on
// entry) becomes C = Q o (w h) + 2 phi w (a_k - abar) P. `a [K]` scratch.
MOLRG_INLINE void backwardRow(const Blocks& bl, const float* p, const double* phi, const double* h, const double* w,
                              double* a, float* q) {
  double abar = 0.0;
  for (idx k = 0; k < bl.K; k++) {
    double dot = 0.0;
    for (idx j = bl.off[k]; j < bl.off[k] + bl.dims[k]; j++) dot += static_cast<double>(q[j]) * p[j];
    a[k] = h[k] * dot;
    abar += w[k] * a[k];
  }
  for (idx k = 0; k < bl.K; k++) {
    const double cq = w[k] * h[k], cp = 2.0 * phi[k] * w[k] * (a[k] - abar);
    for (idx j = bl.off[k]; j < bl.off[k] + bl.dims[k]; j++) q[j] = static_cast<float>(cq * q[j] + cp * p[j]);
  }
}

// y [DV * 8] = x [n] Up [n, DV * 8]: four rows per iteration into independent register accumulators.
template <int DV>
MOLRG_INLINE void rowTimes(const float* x, const float* Up, idx n, float* y) {
  constexpr idx DP = DV * 8;
  v8 acc[4][DV];
  for (int t = 0; t < 4; t++) {
    for (int v = 0; v < DV; v++) acc[t][v] = splat8(0.0f);
  }
  idx i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int t = 0; t < 4; t++) {
      const v8 xi = splat8(x[i + t]);
      for (int v = 0; v < DV; v++) acc[t][v] += xi * load8(Up + (i + t) * DP + 8 * v);
    }
  }
  for (; i < n; i++) {
    const v8 xi = splat8(x[i]);
    for (int v = 0; v < DV; v++) acc[0][v] += xi * load8(Up + i * DP + 8 * v);
  }
  for (int v = 0; v < DV; v++) store8(y + 8 * v, (acc[0][v] + acc[1][v]) + (acc[2][v] + acc[3][v]));
}

// The low-rank part of the posterior mean of one sample, g [n] = A Ut with A = P o (w h) [D] and
// Ut = U^T [D, n].
MOLRG_INLINE void lowRankRow(const float* pc, const float* Ut, idx n, idx D, float* g) {
  idx i = 0;
  for (; i + 16 <= n; i += 16) {  // two row chunks, two partial sums each: four independent chains
    v8 acc0 = splat8(0.0f), acc1 = splat8(0.0f), acc2 = splat8(0.0f), acc3 = splat8(0.0f);
    idx j = 0;
    for (; j + 2 <= D; j += 2) {
      const v8 c0 = splat8(pc[j]), c1 = splat8(pc[j + 1]);
      acc0 += c0 * load8(Ut + j * n + i);
      acc1 += c0 * load8(Ut + j * n + i + 8);
      acc2 += c1 * load8(Ut + (j + 1) * n + i);
      acc3 += c1 * load8(Ut + (j + 1) * n + i + 8);
    }
    for (; j < D; j++) {
      acc0 += splat8(pc[j]) * load8(Ut + j * n + i);
      acc1 += splat8(pc[j]) * load8(Ut + j * n + i + 8);
    }
    store8(g + i, acc0 + acc2);
    store8(g + i + 8, acc1 + acc3);
  }
  for (; i + 8 <= n; i += 8) {
    v8 acc = splat8(0.0f);
    for (idx j = 0; j < D; j++) acc += splat8(pc[j]) * load8(Ut + j * n + i);
    store8(g + i, acc);
  }
  for (; i < n; i++) {
    float acc = 0.0f;
    for (idx j = 0; j < D; j++) acc += pc[j] * Ut[j * n + i];
    g[i] = acc;
  }
}

// The per-sample path for narrow models, the same algebra as the GEMM path below: the batch passes in
// blocks of kRowsBlock samples, each block in four phases (x_t and P; the constants and the gating;
// the residual g, Q and C; the gradient), so that the samples of a phase are independent and overlap
// in the core, where one sample's chain of dependent steps (projection, exp, division, projection)
// left most of it idle. A block (x_t, g, P, A, C) stays in L1. dL/dU accumulates the rank-2 updates
// g^T A + x_t^T C sample by sample, in order (serial: the sum over b is the reduction), four rows at a
// time in registers over a block. The model is copied zero-padded to DV * 8 columns, `Up [n, DV * 8]`
// (the padding columns stay zero throughout), and transposed, `Ut [D, n]`; the gradient accumulates
// in `Gp [n, DV * 8]`. `buf` holds kRowsBlock (2 n + 3 DV * 8) floats, `dbuf` kRowsBlock (3 K + 1)
// doubles.
template <int DV>
MOLRG_INLINE double lossGradRows(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                                 const float* weight, const Blocks* bl, const float* Up, const float* Ut,
                                 const Prior* pr, float* Gp, float* buf, double* dbuf) {
  constexpr idx DP = DV * 8, SB = kRowsBlock;
  const idx n = bl->n, D = bl->D, K = bl->K;
  float* xt = buf;         // [SB, n]
  float* g = xt + SB * n;  // [SB, n]: the low-rank part of the posterior mean, then the residual term 2 weight r
  float* p = g + SB * n;   // [SB, DP]
  float* pc = p + SB * DP;  // A = P o (w h)
  float* q = pc + SB * DP;  // Q = g U, then C
  double* phi = dbuf;  // [SB, K] each
  double* h = phi + SB * K;
  double* w = h + SB * K;
  double* a0 = w + SB * K;  // [SB]
  double bias[kRowsMaxD], a[kRowsMaxD];
  std::fill(Gp, Gp + n * DP, 0.0f);
  std::fill(pc, pc + SB * DP, 0.0f);
  std::fill(q, q + SB * DP, 0.0f);
  double L = 0.0;
  for (idx b0 = 0; b0 < B; b0 += SB) {
    const idx nb = std::min(SB, B - b0);
    for (idx r = 0; r < nb; r++) {
      const idx b = b0 + r;
      noisyRow(x0 + b * n, eps + b * n, s[b], sigma[b], n, xt + r * n);
      rowTimes<DV>(xt + r * n, Up, n, p + r * DP);
    }
    gateRows(p, DP, 0, nb, *bl, *pr, s + b0, sigma + b0, pc, phi, h, w, a0, bias);
    for (idx r = 0; r < nb; r++) {
      const idx b = b0 + r;
      float* gr = g + r * n;
      lowRankRow(pc + r * DP, Ut, n, D, gr);
      const double wt = weight[b];
      L += wt * residualRow(gr, xt + r * n, x0 + b * n, a0[r], wt, n, gr);
      rowTimes<DV>(gr, Up, n, q + r * DP);
      backwardRow(*bl, p + r * DP, phi + r * K, h + r * K, w + r * K, a, q + r * DP);
    }
    idx i = 0;
    for (; i + 4 <= n; i += 4) {
      v8 acc[4][DV];
      for (int t = 0; t < 4; t++) {
        for (int v = 0; v < DV; v++) acc[t][v] = load8(Gp + (i + t) * DP + 8 * v);
      }
      for (idx r = 0; r < nb; r++) {
        for (int t = 0; t < 4; t++) {
          const v8 gi = splat8(g[r * n + i + t]), xi = splat8(xt[r * n + i + t]);
          for (int v = 0; v < DV; v++) acc[t][v] = acc[t][v] + gi * load8(pc + r * DP + 8 * v) + xi * load8(q + r * DP + 8 * v);
        }
      }
      for (int t = 0; t < 4; t++) {
        for (int v = 0; v < DV; v++) store8(Gp + (i + t) * DP + 8 * v, acc[t][v]);
      }
    }
    for (; i < n; i++) {
      v8 acc[DV];
      for (int v = 0; v < DV; v++) acc[v] = load8(Gp + i * DP + 8 * v);
      for (idx r = 0; r < nb; r++) {
        const v8 gi = splat8(g[r * n + i]), xi = splat8(xt[r * n + i]);
        for (int v = 0; v < DV; v++) acc[v] = acc[v] + gi * load8(pc + r * DP + 8 * v) + xi * load8(q + r * DP + 8 * v);
      }
      for (int v = 0; v < DV; v++) store8(Gp + i * DP + 8 * v, acc[v]);
    }
  }
  return L;
}

MOLRG_INLINE double lossGradNarrow_body(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                                        const float* weight, const Blocks* bl, const float* Up, const float* Ut,
                                        const Prior* pr, float* Gp, float* buf, double* dbuf) {
  switch ((bl->D + 7) / 8) {
    case 1: return lossGradRows<1>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf, dbuf);
    case 2: return lossGradRows<2>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf, dbuf);
    case 3: return lossGradRows<3>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf, dbuf);
    default: return lossGradRows<4>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf, dbuf);
  }
}

MOLRG_MULTIVERSION(double, lossGradNarrow,
                   (const float* x0, const float* eps, idx B, const float* s, const float* sigma, const float* weight,
                    const Blocks* bl, const float* Up, const float* Ut, const Prior* pr, float* Gp, float* buf,
                    double* dbuf),
                   (x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf, dbuf))

// The row passes of the GEMM path, rows b0..b1: x_t, and the residual term g (in place of the
// low-rank part of the posterior mean) with the per-sample losses.
MOLRG_INLINE void noisyRows_body(const float* x0, const float* eps, const float* s, const float* sigma, idx n, idx b0,
                                 idx b1, float* xt) {
  for (idx b = b0; b < b1; b++) noisyRow(x0 + b * n, eps + b * n, s[b], sigma[b], n, xt + b * n);
}

MOLRG_MULTIVERSION(void, noisyRows,
                   (const float* x0, const float* eps, const float* s, const float* sigma, idx n, idx b0, idx b1,
                    float* xt),
                   (x0, eps, s, sigma, n, b0, b1, xt))

MOLRG_INLINE void residualRows_body(const float* xt, const float* x0, const double* a0, const float* weight, idx n,
                                    idx b0, idx b1, float* G, double* loss) {
  for (idx b = b0; b < b1; b++) {
    const double wt = weight[b];
    loss[b] = wt * residualRow(G + b * n, xt + b * n, x0 + b * n, a0[b], wt, n, G + b * n);
  }
}

MOLRG_MULTIVERSION(void, residualRows,
                   (const float* xt, const float* x0, const double* a0, const float* weight, idx n, idx b0, idx b1,
                    float* G, double* loss),
                   (xt, x0, a0, weight, n, b0, b1, G, loss))

// Rows per part of the GEMM path's batch split: a multiple of every GEMM micro-tile height.
constexpr idx kRowUnit = 12;

}  // namespace

bool lossGradSerial(const Blocks& bl, idx B) {
  return bl.D <= kRowsMaxD && static_cast<double>(B) * bl.n * bl.D <= kRowsMaxWork;
}

// x_t = s (x0 + sigma eps); P = x_t U, gating; the low-rank part of the posterior mean (P o w h) U^T,
// r = that + a0 x_t - x0, g = 2 weight r; Q = g U; A = P o (w h), C = Q o (w h) + 2 phi w (a_k - abar) P;
// dL/dU = [g; x_t]^T [A; C] (one GEMM with inner dimension 2B). Everything up to C is per sample, so each
// thread takes its part of the batch through all of it (one parallel region, its GEMMs serial); the
// last GEMM is parallel over the n output rows. Nothing of size B n D is formed.
double lossGrad(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                const float* weight, const Blocks& bl, const float* U, const Prior& pr, float* grad) {
  const idx n = bl.n, D = bl.D, K = bl.K;
  if (lossGradSerial(bl, B)) {
    const idx DP = (D + 7) / 8 * 8;
    thread_local Workspace<float> scratch;
    thread_local Workspace<double> constants;
    float* Up = scratch.get(static_cast<size_t>(2 * n * DP + n * D + kRowsBlock * (2 * n + 3 * DP)));
    float* Gp = Up + n * DP;
    float* Ut = Gp + n * DP;
    for (idx i = 0; i < n; i++) {
      for (idx j = 0; j < DP; j++) Up[i * DP + j] = j < D ? U[i * D + j] : 0.0f;
      for (idx j = 0; j < D; j++) Ut[j * n + i] = U[i * D + j];
    }
    const double L = lossGradNarrow(x0, eps, B, s, sigma, weight, &bl, Up, Ut, &pr, Gp, Ut + n * D,
                                    constants.get(static_cast<size_t>(kRowsBlock * (3 * K + 1))));
    for (idx i = 0; i < n; i++) std::copy(Gp + i * DP, Gp + i * DP + D, grad + i * D);
    return L;
  }
  const size_t Bn = static_cast<size_t>(B * n), BD = static_cast<size_t>(B * D), BK = static_cast<size_t>(B * K);
  const size_t packed = packedRightSize(n, D), packedT = packedRightSize(D, n);
  thread_local Workspace<float> floats;
  thread_local Workspace<double> doubles;
  float* G = floats.get(2 * Bn + 3 * BD + packed + packedT);  // rows 0..B-1: g, rows B..2B-1: x_t
  float* xt = G + Bn;
  float* A = G + 2 * Bn;  // rows 0..B-1: A, rows B..2B-1: C (one [2B, D] operand)
  float* C = A + BD;
  float* P = C + BD;
  // U and U^T packed once for the three products with U of every part.
  const PackedRight Uk = packRight(false, n, D, U, D, P + BD);
  const PackedRight UkT = packRight(true, D, n, U, D, P + BD + packed);
  double* phi = doubles.get(3 * BK + 2 * static_cast<size_t>(B));
  double* h = phi + BK;
  double* w = h + BK;
  double* a0 = w + BK;
  double* loss = a0 + B;
  parallelFor((B + kRowUnit - 1) / kRowUnit, 4.0 * static_cast<double>(B) * n * D, [&](idx u0, idx u1) {
    const idx b0 = u0 * kRowUnit, b1 = std::min(B, u1 * kRowUnit), rows = b1 - b0;
    noisyRows(x0, eps, s, sigma, n, b0, b1, xt);
    sgemmPacked(false, rows, 1.0f, xt + b0 * n, n, Uk, 0.0f, P + b0 * D, D);
    Buffer<double> a(static_cast<size_t>(K));  // bias [K], then a [K] (backwardRow)
    gateRows(P, D, b0, b1, bl, pr, s, sigma, A, phi, h, w, a0, a.data());
    sgemmPacked(false, rows, 1.0f, A + b0 * D, D, UkT, 0.0f, G + b0 * n, n);
    residualRows(xt, x0, a0, weight, n, b0, b1, G, loss);
    sgemmPacked(false, rows, 1.0f, G + b0 * n, n, Uk, 0.0f, C + b0 * D, D);  // Q, turned into C
    for (idx b = b0; b < b1; b++) backwardRow(bl, P + b * D, phi + b * K, h + b * K, w + b * K, a.data(), C + b * D);
  });
  sgemm(true, false, n, D, 2 * B, 1.0f, G, n, A, D, 0.0f, grad, D);
  double L = 0.0;
  for (idx b = 0; b < B; b++) L += loss[b];
  return L;
}

}  // namespace molrg
