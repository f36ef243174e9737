#include <algorithm>
#include <cmath>
#include <vector>

#include "model.h"
#include "parallel.h"

namespace molrg {

void sampleConstants(const Blocks& bl, const Prior& pr, double s, double sigma, double* phi,
                     double* bias, double* h, double* a0) {
  const double gamma = s * sigma, delta2 = pr.delta * pr.delta;
  const double beta = s * s * delta2 + gamma * gamma;
  *a0 = s * delta2 / beta;
  // Where every component has the same d_k and lambda_k (the paper's case) the log-determinant term
  // -(d_k / 2) log1p(alpha_k / beta) is the same shift of every z_k and cancels in the softmax, so it
  // is left out: log1p was a third of the per-sample cost of lossGrad at n = 48.
  bool common = true;
  for (idx k = 1; k < bl.K; k++) common = common && bl.dims[k] == bl.dims[0] && pr.lambda[k] == pr.lambda[0];
  double logRatio = 0.0;  // log1p(alpha / beta), computed again only where lambda_k changes
  for (idx k = 0; k < bl.K; k++) {
    const double alpha = s * s * pr.lambda[k];
    if (!common && (k == 0 || !(pr.lambda[k] == pr.lambda[k - 1]))) logRatio = std::log1p(alpha / beta);
    phi[k] = alpha / (2.0 * beta * (alpha + beta));
    bias[k] = pr.logPi[k] - 0.5 * static_cast<double>(bl.dims[k]) * logRatio;
    h[k] = s * (pr.lambda[k] + delta2) / (alpha + beta) - *a0;
  }
}

// z_k = bias_k + phi_k ||p_k||^2, w = softmax(z); the max is subtracted for stability only (phi
// reaches 1e8 at small sigma).
void gateRow(const Blocks& bl, const float* p, const double* bias, const double* phi, double* w) {
  double zmax = -INFINITY;
  for (idx k = 0; k < bl.K; k++) {
    double e = 0.0;
    const float* pk = p + bl.off[k];
    for (idx j = 0; j < bl.dims[k]; j++) e += static_cast<double>(pk[j]) * pk[j];
    w[k] = bias[k] + phi[k] * e;
    zmax = std::max(zmax, w[k]);
  }
  // exp(0) = 1 and exp(< -746) = 0 exactly; both skip the call, and the second libm's slow underflow
  // path (most terms underflow at small sigma, where phi is large).
  double sum = 0.0;
  for (idx k = 0; k < bl.K; k++) {
    const double z = w[k] - zmax;
    sum += (w[k] = z == 0.0 ? 1.0 : z < -746.0 ? 0.0 : std::exp(z));
  }
  for (idx k = 0; k < bl.K; k++) w[k] /= sum;
}

// P [B, D], bias [B, K], phi [B, K] -> w [B, K].
void gate(const float* P, idx B, const Blocks& bl, const double* bias, const double* phi, float* w) {
  parallelFor(B, static_cast<double>(B) * (bl.D + 32 * bl.K), [&](idx b0, idx b1) {
    std::vector<double> wd(static_cast<size_t>(bl.K));
    for (idx b = b0; b < b1; b++) {
      gateRow(bl, P + b * bl.D, bias + b * bl.K, phi + b * bl.K, wd.data());
      for (idx k = 0; k < bl.K; k++) w[b * bl.K + k] = static_cast<float>(wd[k]);
    }
  });
}

}  // namespace molrg
