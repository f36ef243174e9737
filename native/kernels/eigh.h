// Batched symmetric eigendecomposition (docs/kernels.md `eigh`).
#pragma once

#include "common.h"

namespace molrg {

/**
 * `A [batch, n, n]` (only (A + A^T) / 2 is used) -> `values [batch, n]` descending,
 * `vectors [batch, n, n]` with eigenvector j in column j, largest-|.| entry positive. Float64: cyclic
 * Jacobi up to n = 32, Householder tridiagonalisation + implicit QL above; parallel over the batch.
 */
void eighBatched(const float* A, idx batch, idx n, float* values, float* vectors);

}  // namespace molrg
