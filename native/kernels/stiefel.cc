#include <algorithm>
#include <cmath>
#include <vector>

#include "linalg.h"
#include "model.h"
#include "parallel.h"
#include "vec.h"

namespace molrg {

namespace {

// Columns off .. off + d - 1 of X [n, ld] <-> a row-major float64 [n, d] copy.
MOLRG_INLINE void loadColumns_body(const float* X, idx n, idx ld, idx off, idx d, double* out) {
  for (idx i = 0; i < n; i++) {
    for (idx a = 0; a < d; a++) out[i * d + a] = X[i * ld + off + a];
  }
}

MOLRG_INLINE void storeColumns_body(const double* in, idx n, idx ld, idx off, idx d, float* X) {
  for (idx i = 0; i < n; i++) {
    for (idx a = 0; a < d; a++) X[i * ld + off + a] = static_cast<float>(in[i * d + a]);
  }
}

MOLRG_MULTIVERSION(void, loadColumns, (const float* X, idx n, idx ld, idx off, idx d, double* out),
                   (X, n, ld, off, d, out))
MOLRG_MULTIVERSION(void, storeColumns, (const double* in, idx n, idx ld, idx off, idx d, float* X),
                   (in, n, ld, off, d, X))

// Block k of X [n, D] <-> a row-major float64 [n, d] copy.
void loadBlock(const Blocks& bl, const float* X, idx k, double* out) {
  loadColumns(X, bl.n, bl.D, bl.off[k], bl.dims[k], out);
}

void storeBlock(const Blocks& bl, const double* in, idx k, float* X) {
  storeColumns(in, bl.n, bl.D, bl.off[k], bl.dims[k], X);
}

// Float64 work arrays of one thread, kept between calls (thread_local in `scratch()`): a step would
// otherwise allocate, zero and fault in about 100 KB per block of a large model.
struct Scratch {
  std::vector<double> U, Gb, S, G, R, Y, rows, h, lam, Vt, mv;
  double* get(std::vector<double>& v, idx n) {
    if (static_cast<idx>(v.size()) < n) v.resize(static_cast<size_t>(n));
    return v.data();
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The reference: Gram-Schmidt twice with the completion (docs/kernels.md `retract`).
void qrReference(double* Y, idx n, idx d, Scratch& s) {
  double* rows = s.get(s.rows, d * n);
  double* h = s.get(s.h, 2 * d);
  for (idx i = 0; i < n; i++) {
    for (idx a = 0; a < d; a++) rows[a * n + i] = Y[i * d + a];
  }
  orthonormalizeRows(rows, d, n, nullptr, 1e-6, h);
  for (idx i = 0; i < n; i++) {
    for (idx a = 0; a < d; a++) Y[i * d + a] = rows[a * n + i];
  }
}

// Q of a thin QR with positive diag(R) of Y [n, d], in place. Cholesky QR gives the same Q as
// Gram-Schmidt for a block whose columns are far from dependent (every Cholesky pivot above 1e-5 of
// its column's norm) at a fraction of the cost; other blocks take the reference path. Its loss of
// orthogonality is about eps cond(Y)^2, so a second pass runs unless the Gram matrix was already
// within 1e-2 of the identity (the usual case after an optimiser step).
void qrRows(double* Y, idx n, idx d, Scratch& s) {
  double* G = s.get(s.G, d * d);
  double* R = s.get(s.R, d * d);
  double* Z = s.get(s.Y, n * d);
  for (int pass = 0; pass < 2; pass++) {
    dgramT(Y, Y, n, d, d, G);
    double dev = 0.0;
    for (idx a = 0; a < d; a++) {
      for (idx b = 0; b < d; b++) dev = std::max(dev, std::fabs(G[a * d + b] - (a == b ? 1.0 : 0.0)));
    }
    std::fill(R, R + d * d, 0.0);  // becomes R^{-1} (upper triangular)
    for (idx j = 0; j < d; j++) {
      double piv = G[j * d + j];
      for (idx l = 0; l < j; l++) piv -= G[l * d + j] * G[l * d + j];
      if (!(piv > 1e-10 * G[j * d + j])) {
        qrReference(Y, n, d, s);
        return;
      }
      const double rjj = std::sqrt(piv);
      G[j * d + j] = rjj;  // G's upper triangle becomes the Cholesky factor, row by row
      for (idx c = j + 1; c < d; c++) {
        double v = G[j * d + c];
        for (idx l = 0; l < j; l++) v -= G[l * d + j] * G[l * d + c];
        G[j * d + c] = v / rjj;
      }
    }
    for (idx j = 0; j < d; j++) {  // R^{-1} column j: solve R x = e_j (back substitution)
      for (idx i = j; i >= 0; i--) {
        double v = i == j ? 1.0 : 0.0;
        for (idx l = i + 1; l <= j; l++) v -= G[i * d + l] * R[l * d + j];
        R[i * d + j] = v / G[i * d + i];
      }
    }
    dmulRight(Y, n, d, R, d, Z, false);
    std::copy(Z, Z + n * d, Y);
    if (dev < 1e-2) return;
  }
}

// Polar factor Y (Y^T Y)^(-1/2) via the eigen-decomposition of the Gram matrix; QR when it is
// numerically singular (smallest eigenvalue <= 1e-12 of the largest).
void polarRows(double* Y, idx n, idx d, Scratch& s) {
  double* G = s.get(s.G, d * d);
  double* M = s.get(s.R, d * d);
  double* Z = s.get(s.Y, n * d);
  double* lam = s.get(s.lam, d);
  double* Vt = s.get(s.Vt, d * d);
  dgramT(Y, Y, n, d, d, G);
  jacobiEigen(G, d, lam, Vt);
  const double lmax = *std::max_element(lam, lam + d), lmin = *std::min_element(lam, lam + d);
  if (!(lmax > 0.0) || !(lmin > 1e-12 * lmax)) {
    qrRows(Y, n, d, s);
    return;
  }
  for (idx a = 0; a < d; a++) {
    for (idx b = 0; b < d; b++) {
      double sum = 0.0;
      for (idx j = 0; j < d; j++) sum += Vt[j * d + a] * Vt[j * d + b] / std::sqrt(lam[j]);
      M[a * d + b] = sum;
    }
  }
  dmulRight(Y, n, d, M, d, Z, false);
  std::copy(Z, Z + n * d, Y);
}

void retractRows(double* Y, idx n, idx d, bool polar, Scratch& s) {
  if (polar) {
    polarRows(Y, n, d, s);
  } else {
    qrRows(Y, n, d, s);
  }
}

// The optimiser update of one block, element-wise: U [n, d] (float64 copy), xi [n, d]; the moments
// m, v are the block's columns of the [n, D] arrays (row stride ld). Adam takes the new moments into
// `mv [2 n d]` and then steps over the contiguous block in one flat loop: with rows of d = 4 the
// per-row loop ran scalar, two divisions and a square root per element.
MOLRG_INLINE void update_body(double* U, const double* xi, float* m, float* v, idx n, idx d, idx ld,
                              const StiefelOptions* o, double c1, double c2, double* mv) {
  if (o->adam) {
    const double b1 = o->beta1, b2 = o->beta2, lr = o->lr, eps = o->eps;
    double* M = mv;
    double* V = mv + n * d;
    for (idx i = 0; i < n; i++) {
      const double* g = xi + i * d;
      float* mi = m + i * ld;
      float* vi = v + i * ld;
      for (idx a = 0; a < d; a++) {
        const double mm = b1 * mi[a] + (1.0 - b1) * g[a];
        const double vv = b2 * vi[a] + (1.0 - b2) * g[a] * g[a];
        mi[a] = static_cast<float>(mm);
        vi[a] = static_cast<float>(vv);
        M[i * d + a] = mm;
        V[i * d + a] = vv;
      }
    }
    for (idx e = 0; e < n * d; e++) U[e] -= lr * (M[e] / c1) / (std::sqrt(V[e] / c2) + eps);
    return;
  }
  const double mu = o->momentum, lr = o->lr;
  for (idx i = 0; i < n; i++) {
    double* u = U + i * d;
    const double* g = xi + i * d;
    float* mi = m + i * ld;
    for (idx a = 0; a < d; a++) {
      const double mm = mu * mi[a] + g[a];
      mi[a] = static_cast<float>(mm);
      u[a] -= lr * mm;
    }
  }
}

MOLRG_MULTIVERSION(void, update,
                   (double* U, const double* xi, float* m, float* v, idx n, idx d, idx ld, const StiefelOptions* o,
                    double c1, double c2, double* mv),
                   (U, xi, m, v, n, d, ld, o, c1, c2, mv))

// Work of a per-block pass over `U [n, D]` with d x d products: about n sum_k d_k (d_k + 10).
double blockWork(const Blocks& bl) {
  double w = 0.0;
  for (idx k = 0; k < bl.K; k++) w += static_cast<double>(bl.n) * bl.dims[k] * (bl.dims[k] + 10);
  return 4.0 * w;
}

}  // namespace

void retract(const Blocks& bl, float* U, bool polar) {
  parallelFor(bl.K, blockWork(bl), [&](idx k0, idx k1) {
    Scratch& s = scratch();
    for (idx k = k0; k < k1; k++) {
      double* Y = s.get(s.U, bl.n * bl.dims[k]);
      loadBlock(bl, U, k, Y);
      retractRows(Y, bl.n, bl.dims[k], polar, s);
      storeBlock(bl, Y, k, U);
    }
  });
}

// Per block: S = U^T G, xi = G - U (S + S^T) / 2, the SGD-momentum or Adam update of U (moments in
// the ambient space), then the retraction.
void stiefelStep(const Blocks& bl, float* U, const float* G, float* m, float* v, double t,
                 const StiefelOptions& o) {
  const idx n = bl.n;
  const double c1 = 1.0 - std::pow(o.beta1, t), c2 = 1.0 - std::pow(o.beta2, t);
  parallelFor(bl.K, blockWork(bl), [&](idx k0, idx k1) {
    Scratch& s = scratch();
    for (idx k = k0; k < k1; k++) {
      const idx d = bl.dims[k], off = bl.off[k];
      double* Ub = s.get(s.U, n * d);
      double* Gb = s.get(s.Gb, n * d);
      double* S = s.get(s.S, d * d);
      loadBlock(bl, U, k, Ub);
      loadBlock(bl, G, k, Gb);
      dgramT(Ub, Gb, n, d, d, S);
      for (idx a = 0; a < d; a++) {
        for (idx b = a; b < d; b++) S[a * d + b] = S[b * d + a] = -0.5 * (S[a * d + b] + S[b * d + a]);
      }
      dmulRight(Ub, n, d, S, d, Gb, true);  // Gb becomes xi
      update(Ub, Gb, m + off, v + off, n, d, bl.D, &o, c1, c2, s.get(s.mv, 2 * n * d));
      retractRows(Ub, n, d, o.polar, s);
      storeBlock(bl, Ub, k, U);
    }
  });
}

}  // namespace molrg
