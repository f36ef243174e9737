#include <vector>

#include "buffer.h"
#include "gemm.h"
#include "model.h"
#include "parallel.h"

namespace molrg {

void gateRows(const float* P, idx ld, idx b0, idx b1, const Blocks& bl, const Prior& pr, const float* s,
              const float* sigma, float* PC, double* phi, double* h, double* w, double* a0, double* bias) {
  const idx K = bl.K;
  for (idx b = b0; b < b1; b++) {
    double *phib = phi + b * K, *hb = h + b * K, *wb = w + b * K;
    sampleConstants(bl, pr, s[b], sigma[b], phib, bias, hb, a0 + b);
    gateRow(bl, P + b * ld, bias, phib, wb);
    for (idx k = 0; k < K; k++) {
      const double c = wb[k] * hb[k];
      for (idx j = bl.off[k]; j < bl.off[k] + bl.dims[k]; j++) PC[b * ld + j] = static_cast<float>(c * P[b * ld + j]);
    }
  }
}

// x [B, n] -> out [B, n] = a0 x + (P o C) U^T, P = x U [B, D], C[b, j] = w_k h_k.
void denoise(const float* x, idx B, const Blocks& bl, const float* U, const Prior& pr, const float* s,
             const float* sigma, float* out, float* w) {
  const idx n = bl.n, D = bl.D;
  const size_t BD = static_cast<size_t>(B * D), BK = static_cast<size_t>(B * bl.K);
  thread_local Workspace<float> floats;
  thread_local Workspace<double> doubles;
  float* P = floats.get(2 * BD);
  float* PC = P + BD;
  double* phi = doubles.get(3 * BK + static_cast<size_t>(B));
  double* wd = phi + 2 * BK;
  double* a0 = wd + BK;
  sgemm(false, false, B, D, n, 1.0f, x, n, U, D, 0.0f, P, D);
  parallelFor(B, static_cast<double>(B) * (n + D + 32 * bl.K), [&](idx b0, idx b1) {
    std::vector<double> bias(static_cast<size_t>(bl.K));
    gateRows(P, D, b0, b1, bl, pr, s, sigma, PC, phi, phi + BK, wd, a0, bias.data());
    for (idx b = b0; b < b1; b++) {
      for (idx i = 0; i < n; i++) out[b * n + i] = static_cast<float>(a0[b] * x[b * n + i]);
    }
  });
  sgemm(false, true, B, n, D, 1.0f, PC, D, U, D, 1.0f, out, n);
  if (w) {
    for (size_t i = 0; i < BK; i++) w[i] = static_cast<float>(wd[i]);
  }
}

}  // namespace molrg
