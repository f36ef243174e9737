// Batched nearest neighbours (docs/kernels.md `nearest`).
#pragma once

#include "common.h"

namespace molrg {

/**
 * `queries [M, n]`, `refs [N, n]` -> `index [M]` (lowest on ties), `dist [M]`. Candidates are
 * screened with the GEMM form `||q||^2 + ||r||^2 - 2 q.r` and a rigorous float32 error bound; the
 * survivors' distances are recomputed directly in float64. Parallel over query blocks.
 */
void nearest(const float* queries, idx M, const float* refs, idx N, idx n, int32_t* index, float* dist);

}  // namespace molrg
