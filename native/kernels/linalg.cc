#include "linalg.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vec.h"

namespace molrg {

void orthogonalize2(double* v, const double* Q, idx j, idx len, double* h, double* coef) {
  for (int pass = 0; pass < 2; pass++) {
    for (idx l = 0; l < j; l++) h[l] = ddot(Q + l * len, v, len);
    for (idx l = 0; l < j; l++) daxpy(-h[l], Q + l * len, v, len);
    if (coef) {
      for (idx l = 0; l < j; l++) coef[l] += h[l];
    }
  }
}

void completion(double* out, const double* Q, idx j, idx len, double* h) {
  // ||e_i - Q^T Q e_i||^2 = 1 - sum_l Q[l, i]^2 for orthonormal rows.
  idx best = 0;
  double bestNorm = -1.0;
  for (idx i = 0; i < len; i++) {
    double r = 1.0;
    for (idx l = 0; l < j; l++) r -= Q[l * len + i] * Q[l * len + i];
    if (r > bestNorm) {
      bestNorm = r;
      best = i;
    }
  }
  std::fill(out, out + len, 0.0);
  out[best] = 1.0;
  orthogonalize2(out, Q, j, len, h, nullptr);
  const double nrm = std::sqrt(ddot(out, out, len));
  for (idx i = 0; i < len; i++) out[i] /= nrm;
}

void orthonormalizeRows(double* W, idx c, idx len, double* R, double relTol, double* h) {
  if (R) std::fill(R, R + c * c, 0.0);
  for (idx j = 0; j < c; j++) {
    double* w = W + j * len;
    const double norm0 = std::sqrt(ddot(w, w, len));
    double* coef = nullptr;
    if (R) {
      // Column j of R collects the projection coefficients; use a contiguous temp then scatter.
      coef = h + c;
      std::fill(coef, coef + j, 0.0);
    }
    orthogonalize2(w, W, j, len, h, coef);
    const double norm = std::sqrt(ddot(w, w, len));
    const bool degenerate = norm0 == 0.0 || !(norm > relTol * norm0);
    if (degenerate) {
      completion(w, W, j, len, h);
    } else {
      for (idx i = 0; i < len; i++) w[i] /= norm;
    }
    if (R) {
      for (idx l = 0; l < j; l++) R[l * c + j] = coef[l];
      R[j * c + j] = degenerate ? 0.0 : norm;
    }
  }
}

bool needsFlip(const double* v, idx len) {
  idx best = 0;
  double bestAbs = -1.0;
  for (idx i = 0; i < len; i++) {
    const double a = std::fabs(v[i]);
    if (a > bestAbs) {
      bestAbs = a;
      best = i;
    }
  }
  return v[best] < 0.0;
}

void jacobiEigen(double* S, idx n, double* values, double* Vt) {
  std::fill(Vt, Vt + n * n, 0.0);
  for (idx i = 0; i < n; i++) Vt[i * n + i] = 1.0;
  double total = 0.0;
  for (idx i = 0; i < n * n; i++) total += S[i] * S[i];
  const double tiny = 1e-17 * std::sqrt(total);
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0.0;
    for (idx p = 0; p < n; p++) {
      for (idx q = p + 1; q < n; q++) off += S[p * n + q] * S[p * n + q];
    }
    if (!(off > 1e-30 * total)) break;
    for (idx p = 0; p < n; p++) {
      for (idx q = p + 1; q < n; q++) {
        const double apq = S[p * n + q];
        if (!(std::fabs(apq) > tiny)) continue;
        const double app = S[p * n + p], aqq = S[q * n + q];
        const double theta = (aqq - app) / (2.0 * apq);
        const double t = std::fabs(theta) > 1e150
                              ? 0.5 / theta
                              : std::copysign(1.0, theta) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        drot(S + p * n, S + q * n, n, c, s);  // rows
        for (idx k = 0; k < n; k++) {         // columns
          const double x = S[k * n + p], y = S[k * n + q];
          S[k * n + p] = c * x - s * y;
          S[k * n + q] = s * x + c * y;
        }
        S[p * n + q] = S[q * n + p] = 0.0;
        S[p * n + p] = app - t * apq;
        S[q * n + q] = aqq + t * apq;
        drot(Vt + p * n, Vt + q * n, n, c, s);
      }
    }
  }
  for (idx i = 0; i < n; i++) values[i] = S[i * n + i];
}

void orderDescending(const double* values, idx n, idx* order) {
  std::iota(order, order + n, idx{0});
  std::stable_sort(order, order + n, [&](idx a, idx b) { return values[a] > values[b]; });
}

}  // namespace molrg
