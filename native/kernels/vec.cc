#include "vec.h"

#include <algorithm>

namespace molrg {

namespace {

MOLRG_INLINE double ddot_body(const double* x, const double* y, idx n) { return dotInline(x, y, n); }

MOLRG_INLINE void daxpy_body(double a, const double* x, double* y, idx n) {
  for (idx i = 0; i < n; i++) y[i] += a * x[i];
}

MOLRG_INLINE void drot_body(double* x, double* y, idx n, double c, double s) { rotInline(x, y, n, c, s); }

// These helpers are always inlined into the per-ISA wrappers, so no vector ever crosses a call.
#pragma GCC diagnostic ignored "-Wpsabi"

// W doubles as one vector register (W = 2, 4, 8 for the baseline, AVX2, AVX-512 variants); a tile row
// of eight doubles is 8 / W of them.
template <int W>
struct Vec {
  typedef double type __attribute__((vector_size(8 * W), aligned(8)));
  static MOLRG_INLINE type load(const double* p) {
    type v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  static MOLRG_INLINE void store(double* p, type v) { __builtin_memcpy(p, &v, sizeof v); }
};

// Register tiles: the accumulators stay in registers over the whole reduction (no store-to-load chain).
// TA x TB tile of S = X^T Y at (a0, b0); ta, tb <= TA, TB bound the valid part (edge tiles).
template <int W, int TA, int TB>
MOLRG_INLINE void gramTile(const double* X, const double* Y, idx n, idx d, idx e, idx a0, idx b0, idx ta, idx tb,
                           double* S) {
  using V = Vec<W>;
  constexpr int NV = TB / W;
  if (ta == TA && tb == TB) {
    typename V::type acc[TA][NV] = {};
    for (idx i = 0; i < n; i++) {
      const double* x = X + i * d + a0;
      typename V::type y[NV];
      for (int v = 0; v < NV; v++) y[v] = V::load(Y + i * e + b0 + v * W);
      for (int a = 0; a < TA; a++) {
        for (int v = 0; v < NV; v++) acc[a][v] += x[a] * y[v];
      }
    }
    for (int a = 0; a < TA; a++) {
      for (int v = 0; v < NV; v++) V::store(S + (a0 + a) * e + b0 + v * W, acc[a][v]);
    }
    return;
  }
  double acc[TA][TB] = {};
  {
    for (idx i = 0; i < n; i++) {
      const double* x = X + i * d + a0;
      const double* y = Y + i * e + b0;
      for (idx a = 0; a < ta; a++) {
        for (idx b = 0; b < tb; b++) acc[a][b] += x[a] * y[b];
      }
    }
  }
  for (idx a = 0; a < ta; a++) {
    for (idx b = 0; b < tb; b++) S[(a0 + a) * e + b0 + b] = acc[a][b];
  }
}

// Vectors of at most four doubles, for the 4-wide tiles of blocks with d = 4 (the edge tiles of the
// 8-wide ones run scalar).
template <int W>
constexpr int kHalf = W < 4 ? W : 4;

template <int W>
MOLRG_INLINE void dgramT_body(const double* X, const double* Y, idx n, idx d, idx e, double* S) {
  for (idx a0 = 0; a0 < d; a0 += 8) {
    for (idx b0 = 0; b0 < e; b0 += 8) {
      const idx ta = std::min<idx>(8, d - a0), tb = std::min<idx>(8, e - b0);
      if (ta == 4 && tb == 4) {
        gramTile<kHalf<W>, 4, 4>(X, Y, n, d, e, a0, b0, ta, tb, S);
      } else {
        gramTile<W, 8, 8>(X, Y, n, d, e, a0, b0, ta, tb, S);
      }
    }
  }
}

// TR x TB tile of Y = X M at rows i0, columns b0.
template <int W, int TR, int TB>
MOLRG_INLINE void mulTile(const double* X, idx d, const double* M, idx e, double* Y, bool accumulate, idx i0, idx b0,
                          idx tr, idx tb) {
  using V = Vec<W>;
  constexpr int NV = TB / W;
  if (tr == TR && tb == TB) {
    typename V::type acc[TR][NV] = {};
    for (idx a = 0; a < d; a++) {
      typename V::type m[NV];
      for (int v = 0; v < NV; v++) m[v] = V::load(M + a * e + b0 + v * W);
      for (int r = 0; r < TR; r++) {
        const double x = X[(i0 + r) * d + a];
        for (int v = 0; v < NV; v++) acc[r][v] += x * m[v];
      }
    }
    for (int r = 0; r < TR; r++) {
      double* y = Y + (i0 + r) * e + b0;
      for (int v = 0; v < NV; v++) V::store(y + v * W, accumulate ? V::load(y + v * W) + acc[r][v] : acc[r][v]);
    }
    return;
  }
  double acc[TR][TB] = {};
  {
    for (idx a = 0; a < d; a++) {
      const double* m = M + a * e + b0;
      for (idx r = 0; r < tr; r++) {
        const double x = X[(i0 + r) * d + a];
        for (idx b = 0; b < tb; b++) acc[r][b] += x * m[b];
      }
    }
  }
  for (idx r = 0; r < tr; r++) {
    double* y = Y + (i0 + r) * e + b0;
    for (idx b = 0; b < tb; b++) y[b] = accumulate ? y[b] + acc[r][b] : acc[r][b];
  }
}

template <int W>
MOLRG_INLINE void dmulRight_body(const double* X, idx n, idx d, const double* M, idx e, double* Y,
                                 bool accumulate) {
  for (idx i0 = 0; i0 < n; i0 += 4) {
    for (idx b0 = 0; b0 < e; b0 += 8) {
      const idx tr = std::min<idx>(4, n - i0), tb = std::min<idx>(8, e - b0);
      if (tb == 4) {
        mulTile<kHalf<W>, 4, 4>(X, d, M, e, Y, accumulate, i0, b0, tr, tb);
      } else {
        mulTile<W, 4, 8>(X, d, M, e, Y, accumulate, i0, b0, tr, tb);
      }
    }
  }
}

// Y [m, l] = op(A) X with float32 A and float64 X, Y: TR x TC register tiles (TR TC / W accumulators:
// 24 with AVX-512, 12 with AVX2, 16 baseline). The columns of X are few, so a tile's strip of X
// (k x TC) stays in L1/L2 while the rows of A pass; each A element is converted once per strip.
template <int W, int TR, int TC>
MOLRG_INLINE void mixedTile(bool tA, idx k, idx l, const float* A, idx lda, const double* X, double* Y, idx i0,
                            idx b0, idx tr, idx tb) {
  using V = Vec<W>;
  constexpr int NV = TC / W;
  if (tr == TR && tb == TC) {
    typename V::type acc[TR][NV] = {};
    for (idx p = 0; p < k; p++) {
      typename V::type x[NV];
      for (int v = 0; v < NV; v++) x[v] = V::load(X + p * l + b0 + v * W);
      for (int r = 0; r < TR; r++) {
        const double a = tA ? A[p * lda + i0 + r] : A[(i0 + r) * lda + p];
        for (int v = 0; v < NV; v++) acc[r][v] += a * x[v];
      }
    }
    for (int r = 0; r < TR; r++) {
      for (int v = 0; v < NV; v++) V::store(Y + (i0 + r) * l + b0 + v * W, acc[r][v]);
    }
    return;
  }
  for (idx r = 0; r < tr; r++) {
    double acc[TC] = {};
    for (idx p = 0; p < k; p++) {
      const double a = tA ? A[p * lda + i0 + r] : A[(i0 + r) * lda + p];
      for (idx b = 0; b < tb; b++) acc[b] += a * X[p * l + b0 + b];
    }
    for (idx b = 0; b < tb; b++) Y[(i0 + r) * l + b0 + b] = acc[b];
  }
}

template <int W>
MOLRG_INLINE void mixedGemm_body(bool tA, idx m, idx k, idx l, const float* A, idx lda, const double* X,
                                 double* Y) {
  constexpr int TR = W == 8 ? 6 : W == 4 ? 3 : 4;
  constexpr int TC = W == 8 ? 32 : W == 4 ? 16 : 8;
  idx b0 = 0;
  for (; b0 + TC <= l; b0 += TC) {
    for (idx i0 = 0; i0 < m; i0 += TR) mixedTile<W, TR, TC>(tA, k, l, A, lda, X, Y, i0, b0, std::min<idx>(TR, m - i0), TC);
  }
  for (; b0 < l; b0 += TC / 2) {  // the last columns in half-width strips
    const idx tb = std::min<idx>(TC / 2, l - b0);
    for (idx i0 = 0; i0 < m; i0 += TR) mixedTile<W, TR, TC / 2>(tA, k, l, A, lda, X, Y, i0, b0, std::min<idx>(TR, m - i0), tb);
  }
}

}  // namespace

MOLRG_MULTIVERSION_W(void, dgramT, (const double* X, const double* Y, idx n, idx d, idx e, double* S),
                   (X, Y, n, d, e, S))
MOLRG_MULTIVERSION_W(void, dmulRight,
                   (const double* X, idx n, idx d, const double* M, idx e, double* Y, bool accumulate),
                   (X, n, d, M, e, Y, accumulate))
MOLRG_MULTIVERSION(double, ddot, (const double* x, const double* y, idx n), (x, y, n))
MOLRG_MULTIVERSION(void, daxpy, (double a, const double* x, double* y, idx n), (a, x, y, n))
MOLRG_MULTIVERSION(void, drot, (double* x, double* y, idx n, double c, double s), (x, y, n, c, s))
MOLRG_MULTIVERSION_W(void, mixedGemm,
                   (bool tA, idx m, idx k, idx l, const float* A, idx lda, const double* X, double* Y),
                   (tA, m, k, l, A, lda, X, Y))

}  // namespace molrg
