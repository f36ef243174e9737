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
// Every tile is whole: a matrix edge is cut into tiles of 4, 2 and 1 (`tiles`), each compiled with its
// own vector width, so that the small blocks of the Stiefel step (d = 1..16) never take a scalar path
// whose accumulators, indexed by run-time bounds, lived on the stack.

// Vectors of at most B doubles: W, or B when the tile is narrower than a register.
template <int W, int B>
constexpr int kWidth = W < B ? W : B;

// Calls f(start, size) over [0, len) in tiles of 8, then at most one each of 4, 2 and 1.
template <class F>
MOLRG_INLINE void tiles(idx len, const F& f) {
  idx s = 0;
  for (; s + 8 <= len; s += 8) f(s, 8);
  if (s + 4 <= len) { f(s, 4); s += 4; }
  if (s + 2 <= len) { f(s, 2); s += 2; }
  if (s < len) f(s, 1);
}

// TA x TB tile of S = X^T Y at (a0, b0).
template <int W, int TA, int TB>
MOLRG_INLINE void gramTile(const double* X, const double* Y, idx n, idx d, idx e, idx a0, idx b0, double* S) {
  using V = Vec<kWidth<W, TB>>;
  constexpr int VW = kWidth<W, TB>, NV = TB / VW;
  typename V::type acc[TA][NV] = {};
  for (idx i = 0; i < n; i++) {
    const double* x = X + i * d + a0;
    typename V::type y[NV];
    for (int v = 0; v < NV; v++) y[v] = V::load(Y + i * e + b0 + v * VW);
    for (int a = 0; a < TA; a++) {
      for (int v = 0; v < NV; v++) acc[a][v] += x[a] * y[v];
    }
  }
  for (int a = 0; a < TA; a++) {
    for (int v = 0; v < NV; v++) V::store(S + (a0 + a) * e + b0 + v * VW, acc[a][v]);
  }
}

// The switches of gramRow and mulRows are written out: one generic lambda taking the size as a
// std::integral_constant was not inlined into the per-ISA bodies, and its tiles ran at the baseline's
// width (stiefelStep at d = 10: 6.5 -> 15 us).
template <int W, int TA>
MOLRG_INLINE void gramRow(const double* X, const double* Y, idx n, idx d, idx e, idx a0, double* S) {
  tiles(e, [&](idx b0, idx tb) {
    switch (tb) {
      case 8: gramTile<W, TA, 8>(X, Y, n, d, e, a0, b0, S); break;
      case 4: gramTile<W, TA, 4>(X, Y, n, d, e, a0, b0, S); break;
      case 2: gramTile<W, TA, 2>(X, Y, n, d, e, a0, b0, S); break;
      default: gramTile<W, TA, 1>(X, Y, n, d, e, a0, b0, S); break;
    }
  });
}

template <int W>
MOLRG_INLINE void dgramT_body(const double* X, const double* Y, idx n, idx d, idx e, double* S) {
  tiles(d, [&](idx a0, idx ta) {
    switch (ta) {
      case 8: gramRow<W, 8>(X, Y, n, d, e, a0, S); break;
      case 4: gramRow<W, 4>(X, Y, n, d, e, a0, S); break;
      case 2: gramRow<W, 2>(X, Y, n, d, e, a0, S); break;
      default: gramRow<W, 1>(X, Y, n, d, e, a0, S); break;
    }
  });
}

// TR x TB tile of Y = X M at rows i0, columns b0.
template <int W, int TR, int TB>
MOLRG_INLINE void mulTile(const double* X, idx d, const double* M, idx e, double* Y, bool accumulate, idx i0, idx b0) {
  using V = Vec<kWidth<W, TB>>;
  constexpr int VW = kWidth<W, TB>, NV = TB / VW;
  typename V::type acc[TR][NV] = {};
  for (idx a = 0; a < d; a++) {
    typename V::type m[NV];
    for (int v = 0; v < NV; v++) m[v] = V::load(M + a * e + b0 + v * VW);
    for (int r = 0; r < TR; r++) {
      const double x = X[(i0 + r) * d + a];
      for (int v = 0; v < NV; v++) acc[r][v] += x * m[v];
    }
  }
  for (int r = 0; r < TR; r++) {
    double* y = Y + (i0 + r) * e + b0;
    for (int v = 0; v < NV; v++) V::store(y + v * VW, accumulate ? V::load(y + v * VW) + acc[r][v] : acc[r][v]);
  }
}

template <int W, int TR>
MOLRG_INLINE void mulRows(const double* X, idx d, const double* M, idx e, double* Y, bool accumulate, idx i0) {
  tiles(e, [&](idx b0, idx tb) {
    switch (tb) {
      case 8: mulTile<W, TR, 8>(X, d, M, e, Y, accumulate, i0, b0); break;
      case 4: mulTile<W, TR, 4>(X, d, M, e, Y, accumulate, i0, b0); break;
      case 2: mulTile<W, TR, 2>(X, d, M, e, Y, accumulate, i0, b0); break;
      default: mulTile<W, TR, 1>(X, d, M, e, Y, accumulate, i0, b0); break;
    }
  });
}

template <int W>
MOLRG_INLINE void dmulRight_body(const double* X, idx n, idx d, const double* M, idx e, double* Y,
                                 bool accumulate) {
  idx i0 = 0;
  for (; i0 + 4 <= n; i0 += 4) mulRows<W, 4>(X, d, M, e, Y, accumulate, i0);
  for (; i0 < n; i0++) mulRows<W, 1>(X, d, M, e, Y, accumulate, i0);
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
