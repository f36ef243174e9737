#include <vector>

#include "buffer.h"
#include "gemm.h"
#include "model.h"
#include "parallel.h"

namespace molrg {

// x [B, n] -> out [B, n] = a0 x + (P o C) U^T, P = x U [B, D], C[b, j] = w_k h_k.
void forward(const float* x, idx B, const Blocks& bl, const float* U, const Prior& pr, const float* s,
             const float* sigma, float* out, float* P, float* PC, double* phi, double* h, double* w) {
  const idx n = bl.n, D = bl.D, K = bl.K;
  sgemm(false, false, B, D, n, 1.0f, x, n, U, D, 0.0f, P, D);
  parallelFor(B, static_cast<double>(B) * (n + D + 32 * K), [&](idx b0, idx b1) {
    std::vector<double> bias(static_cast<size_t>(K));
    for (idx b = b0; b < b1; b++) {
      double a0;
      double *phib = phi + b * K, *hb = h + b * K, *wb = w + b * K;
      sampleConstants(bl, pr, s[b], sigma[b], phib, bias.data(), hb, &a0);
      gateRow(bl, P + b * D, bias.data(), phib, wb);
      for (idx k = 0; k < K; k++) {
        const double c = wb[k] * hb[k];
        for (idx j = bl.off[k]; j < bl.off[k] + bl.dims[k]; j++) PC[b * D + j] = static_cast<float>(c * P[b * D + j]);
      }
      const float* xb = x + b * n;
      float* ob = out + b * n;
      for (idx i = 0; i < n; i++) ob[i] = static_cast<float>(a0 * xb[i]);
    }
  });
  sgemm(false, true, B, n, D, 1.0f, PC, D, U, D, 1.0f, out, n);
}

void denoise(const float* x, idx B, const Blocks& bl, const float* U, const Prior& pr, const float* s,
             const float* sigma, float* out, float* w) {
  const size_t BD = static_cast<size_t>(B * bl.D), BK = static_cast<size_t>(B * bl.K);
  thread_local Workspace<float> floats;
  thread_local Workspace<double> doubles;
  float* P = floats.get(2 * BD);
  double* phi = doubles.get(3 * BK);
  forward(x, B, bl, U, pr, s, sigma, out, P, P + BD, phi, phi + BK, phi + 2 * BK);
  if (w) {
    for (size_t i = 0; i < BK; i++) w[i] = static_cast<float>(phi[2 * BK + i]);
  }
}

}  // namespace molrg
