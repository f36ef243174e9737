#include "buffer.h"
#include "gemm.h"
#include "model.h"
#include "parallel.h"

namespace molrg {

// Forward as denoise on x_t = s (x0 + sigma eps); r = out - x0, g = 2 weight r; Q = g U;
// A = P o (w h), C = Q o (w h) + 2 phi w (a_k - abar) P; dL/dU = [g; x_t]^T [A; C] (one GEMM with
// inner dimension 2B, parallel over the n output rows). Nothing of size B n D is formed.
double lossGrad(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                const float* weight, const Blocks& bl, const float* U, const Prior& pr, float* grad) {
  const idx n = bl.n, D = bl.D, K = bl.K;
  const size_t Bn = static_cast<size_t>(B * n), BD = static_cast<size_t>(B * D), BK = static_cast<size_t>(B * K);
  Buffer<float> GX(2 * Bn);  // rows 0..B-1: g, rows B..2B-1: x_t
  Buffer<float> AC(2 * BD);  // rows 0..B-1: A, rows B..2B-1: C
  Buffer<float> P(BD), out(Bn);
  Buffer<double> phi(BK), h(BK), w(BK), loss(static_cast<size_t>(B));
  float* G = GX.data();
  float* xt = GX.data() + B * n;
  float* A = AC.data();
  float* C = AC.data() + B * D;
  parallelFor(B, [&](idx b0, idx b1) {
    for (idx b = b0; b < b1; b++) {
      const double sb = s[b], sig = sigma[b];
      for (idx i = 0; i < n; i++) {
        xt[b * n + i] = static_cast<float>(sb * (static_cast<double>(x0[b * n + i]) + sig * eps[b * n + i]));
      }
    }
  });
  forward(xt, B, bl, U, pr, s, sigma, out.data(), P.data(), A, phi.data(), h.data(), w.data());
  parallelFor(B, [&](idx b0, idx b1) {
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
  parallelFor(B, [&](idx b0, idx b1) {
    Buffer<double> a(static_cast<size_t>(K));
    for (idx b = b0; b < b1; b++) {
      const double* wb = w.data() + b * K;
      const double* hb = h.data() + b * K;
      const double* phib = phi.data() + b * K;
      const float* p = P.data() + b * D;
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
  sgemm(true, false, n, D, 2 * B, 1.0f, GX.data(), n, AC.data(), D, 0.0f, grad, D);
  double L = 0.0;
  for (idx b = 0; b < B; b++) L += loss[b];
  return L;
}

}  // namespace molrg
