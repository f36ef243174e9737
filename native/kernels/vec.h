// Float64 vector helpers of the small dense linear algebra (Jacobi, Gram-Schmidt), multi-versioned
// per ISA, plus the float32-by-float64 products of the randomized SVD.
#pragma once

#include "common.h"

namespace molrg {

/** `sum_i x[i] y[i]` with 16 interleaved partial sums (fixed order on every ISA); inline form for bodies. */
MOLRG_INLINE double dotInline(const double* x, const double* y, idx n) {
  double acc[16] = {};
  idx i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int j = 0; j < 16; j++) acc[j] += x[i + j] * y[i + j];
  }
  for (int j = 0; i < n; i++, j++) acc[j] += x[i] * y[i];
  for (int w = 8; w >= 1; w /= 2) {
    for (int j = 0; j < w; j++) acc[j] += acc[j + w];
  }
  return acc[0];
}

/** Plane rotation `x' = c x - s y`, `y' = s x + c y`; inline form for bodies. */
MOLRG_INLINE void rotInline(double* x, double* y, idx n, double c, double s) {
  for (idx i = 0; i < n; i++) {
    const double xi = x[i], yi = y[i];
    x[i] = c * xi - s * yi;
    y[i] = s * xi + c * yi;
  }
}

/** `sum_i x[i] y[i]`, the dispatched form of dotInline. */
double ddot(const double* x, const double* y, idx n);
/** `y += a x`. */
void daxpy(double a, const double* x, double* y, idx n);
/** Plane rotation: `x' = c x - s y`, `y' = s x + c y`. */
void drot(double* x, double* y, idx n, double c, double s);
/**
 * `Y [m, l] = op(A) X`, `A` float32 `[m, k]` (stored `[k, m]` when tA, leading dimension lda),
 * `X [k, l]` and `Y` float64 row-major. Used for products with a few (l) vectors.
 */
void mixedGemm(bool tA, idx m, idx k, idx l, const float* A, idx lda, const double* X, double* Y);

/** `S [d, e] = X^T Y` for row-major `X [n, d]`, `Y [n, e]` (float64). */
void dgramT(const double* X, const double* Y, idx n, idx d, idx e, double* S);
/** `Y [n, e] = X [n, d] M [d, e]` (row-major float64), added to Y when `accumulate`. */
void dmulRight(const double* X, idx n, idx d, const double* M, idx e, double* Y, bool accumulate);

}  // namespace molrg
