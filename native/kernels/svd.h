// Batched thin SVD, top r triplets (docs/kernels.md `svd`).
#pragma once

#include "common.h"

namespace molrg {

/**
 * `A [batch, m, n]` -> `U [batch, m, r]`, `S [batch, r]` (descending), `V [batch, n, r]`; the
 * largest-|.| entry of each u_j is positive, v_j follows; triplets with s_j <= 1e-12 s_1 take the
 * completion. One-sided Jacobi (a float32 pass, then float64, for batches; float64 for a lone matrix),
 * or for a few triplets of a large matrix a randomized subspace iteration with Rayleigh-Ritz checked
 * against its residual (Jacobi when it does not converge). Parallel over the batch.
 */
void svdBatched(const float* A, idx batch, idx m, idx n, idx r, float* U, float* S, float* V);

/**
 * Full SVD of the matrix whose columns are the rows of `W [c, len]` (c <= len; W is destroyed):
 * `s [c]` descending, `left [c, len]` the left vectors (rows; meaningless where s_j is 0),
 * `right [c, c]` the right vectors (rows). Float64 throughout.
 */
void svdRows(double* W, idx c, idx len, double* s, double* left, double* right);

/**
 * svdRows on up to 16 matrices of one shape at once, one per vector lane: a float32 Jacobi pass, then
 * float64 Jacobi to a tolerance meant for float32 outputs (a matrix's result does not depend on the
 * other lanes; a lone matrix takes svdRows' float64-only path).
 */
void svdRowsGroup(double* const* W, int lanes, idx c, idx len, double* const* s, double* const* left,
                  double* const* right);

}  // namespace molrg
