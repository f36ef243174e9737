// Small dense float64 building blocks shared by svd, eigh and stiefel (docs/kernels.md): Gram-Schmidt
// twice, the deterministic completion, the sign convention, and cyclic Jacobi eigen-decomposition.
// Vectors are rows of contiguous arrays (`Q [j, len]` holds j vectors of length len).
#pragma once

#include "common.h"

namespace molrg {

/** `v -= Q^T (Q v)` twice (classical Gram-Schmidt, "twice is enough"); `h [j]` scratch, sums into `coef` if given. */
void orthogonalize2(double* v, const double* Q, idx j, idx len, double* h, double* coef);

/**
 * The completion: the standard basis vector e_i whose residual against the orthonormal rows of
 * `Q [j, len]` is largest (lowest i on ties), orthogonalised twice and normalised, into `out [len]`.
 */
void completion(double* out, const double* Q, idx j, idx len, double* h);

/**
 * Thin QR of the rows of `W [c, len]` in place: afterwards the rows are orthonormal (the Q of a QR
 * with positive diag(R)); `R [c, c]` (upper, R[i, j] = q_i . w_j) is written when not null. A row
 * whose residual is <= relTol times its original norm (or zero) is replaced by the completion.
 * `h [2c]` scratch.
 */
void orthonormalizeRows(double* W, idx c, idx len, double* R, double relTol, double* h);

/** Sign convention: true when the largest-|.| entry of v (the first on ties) is negative. */
bool needsFlip(const double* v, idx len);

/**
 * Cyclic Jacobi on the symmetric `S [n, n]` (destroyed): eigenvalues into `values [n]` (unsorted),
 * eigenvector j into row j of `Vt [n, n]`.
 */
void jacobiEigen(double* S, idx n, double* values, double* Vt);

/** Indices of `values [n]` sorted descending (stable: lowest index first on ties). */
void orderDescending(const double* values, idx n, idx* order);

}  // namespace molrg
