// Single-precision GEMM (row-major BLAS semantics) with packed panels and per-ISA register tiles.
#pragma once

#include "common.h"

namespace molrg {

/**
 * `C [m, n] = alpha op(A) op(B) + beta C` with leading dimensions (row strides) lda, ldb, ldc;
 * `A` is `[m, k]` (`[k, m]` when tA), `B` `[k, n]` (`[n, k]` when tB). beta = 0 does not read C.
 * Parallel over output rows (or columns when n > m) on the pool; the k-reduction is never split, so
 * the result does not depend on the number of threads.
 */
void sgemm(bool tA, bool tB, idx m, idx n, idx k, float alpha, const float* A, idx lda,
           const float* B, idx ldb, float beta, float* C, idx ldc);

}  // namespace molrg
