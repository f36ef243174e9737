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

// Four doubles, and four floats widened to them.
typedef double v4d __attribute__((vector_size(32), aligned(8)));
typedef float v4f __attribute__((vector_size(16), aligned(4)));

MOLRG_INLINE v4d widen4(const float* p) {
  v4f v;
  __builtin_memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, v4d);
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

// The per-sample path for narrow models, the same algebra as the GEMM path below: everything of one
// sample (x_t, P, the residual g, Q) stays in L1 and registers, and dL/dU accumulates the rank-2 update
// g^T A + x_t^T C sample by sample, in order (serial: the sum over b is the reduction). The model is
// copied zero-padded to DV * 8 columns, `Up [n, DV * 8]` (the padding columns stay zero throughout),
// and transposed, `Ut [D, n]`; the gradient accumulates in `Gp [n, DV * 8]`. `buf` holds 2 n + 3 DV * 8
// floats.
template <int DV>
MOLRG_INLINE double lossGradRows(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                                 const float* weight, const Blocks* bl, const float* Up, const float* Ut,
                                 const Prior* pr, float* Gp, float* buf) {
  constexpr idx DP = DV * 8;
  const idx n = bl->n, D = bl->D, K = bl->K;
  float* xt = buf;
  float* g = xt + n;  // the posterior mean, then the residual term 2 weight r
  float* p = g + n;
  float* pc = p + DP;  // A = P o (w h)
  float* q = pc + DP;  // Q = g U, then C
  double phi[kRowsMaxD], bias[kRowsMaxD], h[kRowsMaxD], w[kRowsMaxD], a[kRowsMaxD];
  std::fill(Gp, Gp + n * DP, 0.0f);
  std::fill(pc, pc + DP, 0.0f);
  std::fill(q, q + DP, 0.0f);
  double L = 0.0;
  for (idx b = 0; b < B; b++) {
    const float* xb = x0 + b * n;
    const float* eb = eps + b * n;
    const double sb = s[b], sig = sigma[b];
    for (idx i = 0; i < n; i++) xt[i] = static_cast<float>(sb * (static_cast<double>(xb[i]) + sig * eb[i]));
    rowTimes<DV>(xt, Up, n, p);
    double a0;
    sampleConstants(*bl, *pr, sb, sig, phi, bias, h, &a0);
    gateRow(*bl, p, bias, phi, w);
    for (idx k = 0; k < K; k++) {
      const double c = w[k] * h[k];
      for (idx j = bl->off[k]; j < bl->off[k] + bl->dims[k]; j++) pc[j] = static_cast<float>(c * p[j]);
    }
    for (idx i = 0; i < n; i++) g[i] = static_cast<float>(a0 * xt[i]);
    idx i = 0;
    for (; i + 16 <= n; i += 16) {  // two row chunks, two partial sums each: four independent chains
      v8 acc0 = load8(g + i), acc1 = load8(g + i + 8), acc2 = splat8(0.0f), acc3 = splat8(0.0f);
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
      v8 acc = load8(g + i);
      for (idx j = 0; j < D; j++) acc += splat8(pc[j]) * load8(Ut + j * n + i);
      store8(g + i, acc);
    }
    for (; i < n; i++) {
      for (idx j = 0; j < D; j++) g[i] += pc[j] * Ut[j * n + i];
    }
    // Residual in float64, four partial sums of r^2.
    const double wt = weight[b];
    v4d l4 = {0.0, 0.0, 0.0, 0.0};
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const v4d r = widen4(g + i) - widen4(xb + i), t = (2.0 * wt) * r;
      l4 += r * r;
      for (int e = 0; e < 4; e++) g[i + e] = static_cast<float>(t[e]);
    }
    double l = (l4[0] + l4[1]) + (l4[2] + l4[3]);
    for (; i < n; i++) {
      const double r = static_cast<double>(g[i]) - xb[i];
      l += r * r;
      g[i] = static_cast<float>(2.0 * wt * r);
    }
    L += wt * l;
    rowTimes<DV>(g, Up, n, q);
    double abar = 0.0;
    for (idx k = 0; k < K; k++) {
      double dot = 0.0;
      for (idx j = bl->off[k]; j < bl->off[k] + bl->dims[k]; j++) dot += static_cast<double>(q[j]) * p[j];
      a[k] = h[k] * dot;
      abar += w[k] * a[k];
    }
    for (idx k = 0; k < K; k++) {
      const double cq = w[k] * h[k], cp = 2.0 * phi[k] * w[k] * (a[k] - abar);
      for (idx j = bl->off[k]; j < bl->off[k] + bl->dims[k]; j++) q[j] = static_cast<float>(cq * q[j] + cp * p[j]);
    }
    v8 A[DV], C[DV];
    for (int v = 0; v < DV; v++) {
      A[v] = load8(pc + 8 * v);
      C[v] = load8(q + 8 * v);
    }
    for (idx r = 0; r < n; r++) {
      const v8 gi = splat8(g[r]), xi = splat8(xt[r]);
      float* gr = Gp + r * DP;
      for (int v = 0; v < DV; v++) store8(gr + 8 * v, load8(gr + 8 * v) + gi * A[v] + xi * C[v]);
    }
  }
  return L;
}

MOLRG_INLINE double lossGradNarrow_body(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                                        const float* weight, const Blocks* bl, const float* Up, const float* Ut,
                                        const Prior* pr, float* Gp, float* buf) {
  switch ((bl->D + 7) / 8) {
    case 1: return lossGradRows<1>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf);
    case 2: return lossGradRows<2>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf);
    case 3: return lossGradRows<3>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf);
    default: return lossGradRows<4>(x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf);
  }
}

MOLRG_MULTIVERSION(double, lossGradNarrow,
                   (const float* x0, const float* eps, idx B, const float* s, const float* sigma, const float* weight,
                    const Blocks* bl, const float* Up, const float* Ut, const Prior* pr, float* Gp, float* buf),
                   (x0, eps, B, s, sigma, weight, bl, Up, Ut, pr, Gp, buf))

}  // namespace

// Forward as denoise on x_t = s (x0 + sigma eps); r = out - x0, g = 2 weight r; Q = g U;
// A = P o (w h), C = Q o (w h) + 2 phi w (a_k - abar) P; dL/dU = [g; x_t]^T [A; C] (one GEMM with
// inner dimension 2B, parallel over the n output rows). Nothing of size B n D is formed.
double lossGrad(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                const float* weight, const Blocks& bl, const float* U, const Prior& pr, float* grad) {
  const idx n = bl.n, D = bl.D, K = bl.K;
  if (D <= kRowsMaxD && static_cast<double>(B) * n * D <= kRowsMaxWork) {
    const idx DP = (D + 7) / 8 * 8;
    thread_local Workspace<float> scratch;
    float* Up = scratch.get(static_cast<size_t>(2 * n * DP + n * D + 2 * n + 3 * DP));
    float* Gp = Up + n * DP;
    float* Ut = Gp + n * DP;
    for (idx i = 0; i < n; i++) {
      for (idx j = 0; j < DP; j++) Up[i * DP + j] = j < D ? U[i * D + j] : 0.0f;
      for (idx j = 0; j < D; j++) Ut[j * n + i] = U[i * D + j];
    }
    const double L = lossGradNarrow(x0, eps, B, s, sigma, weight, &bl, Up, Ut, &pr, Gp, Ut + n * D);
    for (idx i = 0; i < n; i++) std::copy(Gp + i * DP, Gp + i * DP + D, grad + i * D);
    return L;
  }
  const size_t Bn = static_cast<size_t>(B * n), BD = static_cast<size_t>(B * D), BK = static_cast<size_t>(B * K);
  thread_local Workspace<float> floats;
  thread_local Workspace<double> doubles;
  float* G = floats.get(3 * Bn + 3 * BD);  // rows 0..B-1: g, rows B..2B-1: x_t (one [2B, n] operand)
  float* xt = G + Bn;
  float* A = G + 2 * Bn;  // rows 0..B-1: A, rows B..2B-1: C (one [2B, D] operand)
  float* C = A + BD;
  float* P = C + BD;
  float* out = P + BD;
  double* phi = doubles.get(3 * BK + static_cast<size_t>(B));
  double* h = phi + BK;
  double* w = h + BK;
  double* loss = w + BK;
  const double rowWork = static_cast<double>(B) * n;
  parallelFor(B, rowWork, [&](idx b0, idx b1) {
    for (idx b = b0; b < b1; b++) {
      const double sb = s[b], sig = sigma[b];
      for (idx i = 0; i < n; i++) {
        xt[b * n + i] = static_cast<float>(sb * (static_cast<double>(x0[b * n + i]) + sig * eps[b * n + i]));
      }
    }
  });
  forward(xt, B, bl, U, pr, s, sigma, out, P, A, phi, h, w);
  parallelFor(B, rowWork, [&](idx b0, idx b1) {
    for (idx b = b0; b < b1; b++) {
      double l = 0.0;
      const double wt = weight[b];
      for (idx i = 0; i < n; i++) {
        const double r = static_cast<double>(out[b * n + i]) - x0[b * n + i];
        l += r * r;
        G[b * n + i] = static_cast<float>(2.0 * wt * r);
      }
      loss[b] = wt * l;
    }
  });
  float* Q = C;  // Q = g U lands in C's rows and is turned into C in place
  sgemm(false, false, B, D, n, 1.0f, G, n, U, D, 0.0f, Q, D);
  parallelFor(B, 2.0 * static_cast<double>(B) * D, [&](idx b0, idx b1) {
    Buffer<double> a(static_cast<size_t>(K));
    for (idx b = b0; b < b1; b++) {
      const double* wb = w + b * K;
      const double* hb = h + b * K;
      const double* phib = phi + b * K;
      const float* p = P + b * D;
      float* q = Q + b * D;
      double abar = 0.0;
      for (idx k = 0; k < K; k++) {
        double dot = 0.0;
        for (idx j = bl.off[k]; j < bl.off[k] + bl.dims[k]; j++) dot += static_cast<double>(q[j]) * p[j];
        a[k] = hb[k] * dot;
        abar += wb[k] * a[k];
      }
      for (idx k = 0; k < K; k++) {
        const double cq = wb[k] * hb[k], cp = 2.0 * phib[k] * wb[k] * (a[k] - abar);
        for (idx j = bl.off[k]; j < bl.off[k] + bl.dims[k]; j++) q[j] = static_cast<float>(cq * q[j] + cp * p[j]);
      }
    }
  });
  sgemm(true, false, n, D, 2 * B, 1.0f, G, n, A, D, 0.0f, grad, D);
  double L = 0.0;
  for (idx b = 0; b < B; b++) L += loss[b];
  return L;
}

}  // namespace molrg
