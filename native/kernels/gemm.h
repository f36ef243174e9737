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

/** A right operand `op(B) [k, n]` packed once (packRight) for several products (sgemmPacked). */
struct PackedRight {
  const float* data;
  idx k, n;
  Isa isa;  // the micro-kernel it was packed for
};

/** Floats that packRight may write for `op(B) [k, n]` (any ISA). */
size_t packedRightSize(idx k, idx n);

/** Packs `op(B) [k, n]` (`B` is `[n, k]` when tB) into `buf` (packedRightSize floats), for the ISA in use. */
PackedRight packRight(bool tB, idx k, idx n, const float* B, idx ldb, float* buf);

/**
 * sgemm with a packed right operand: `C [m, n] = alpha op(A) B + beta C`, the same results as sgemm.
 * Parallel over output rows only.
 */
void sgemmPacked(bool tA, idx m, float alpha, const float* A, idx lda, const PackedRight& B, float beta, float* C,
                 idx ldc);

}  // namespace molrg
