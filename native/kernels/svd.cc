#include "svd.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gemm.h"
#include "linalg.h"
#include "parallel.h"
#include "philox.h"
#include "vec.h"

namespace molrg {

namespace {

constexpr double kDegenerate = 1e-12;  // s_j <= 1e-12 s_1 counts as zero
constexpr double kOrthTol = 1e-13;     // one-sided Jacobi: |w_i . w_j| <= tol ||w_i|| ||w_j||

constexpr int kLanes = 8;  // matrices rotated side by side, one per vector lane
// Float32 power iterations before the float64 Rayleigh-Ritz loop: one brings the residual to the
// float32 floor (~1e-7 s_1); more cannot save a float64 round.
constexpr int kFloatRounds = 1;

// One-sided (Hestenes) Jacobi on kLanes matrices at once, stored interleaved: row i of matrix l is
// W[(i len + k) kLanes + l]. V [c, c] (same interleaving) accumulates the rotations, so that afterwards
// M v_j = w_j for each matrix M whose columns were the rows of W. Every lane takes exactly the
// rotations it would take alone (a lane that needs none rotates by the identity), so a matrix's result
// does not depend on its neighbours; zero lanes never rotate. Squared norms are updated with each
// rotation and recomputed every sweep. Compiled per ISA: the lane loops are the vector loops.
MOLRG_INLINE void jacobiLanes_body(double* W, idx c, idx len, double* V, double* nrm) {
  constexpr int L = kLanes;
  std::fill(V, V + c * c * L, 0.0);
  for (idx i = 0; i < c; i++) {
    for (int l = 0; l < L; l++) V[(i * c + i) * L + l] = 1.0;
  }
  const double tol2 = kOrthTol * kOrthTol;
  for (int sweep = 0; sweep < 60; sweep++) {
    for (idx i = 0; i < c; i++) {
      double acc[L] = {};
      const double* w = W + i * len * L;
      for (idx k = 0; k < len; k++) {
        for (int l = 0; l < L; l++) acc[l] += w[k * L + l] * w[k * L + l];
      }
      for (int l = 0; l < L; l++) nrm[i * L + l] = acc[l];
    }
    bool any = false;
    // Round-robin ordering: each round is c'/2 disjoint pairs, so consecutive pairs are independent
    // and the latency of one pair's rotation angle (divisions, square roots) overlaps the next.
    const idx cp = c + (c & 1), players = cp - 1;
    for (idx round = 0; round < players; round++) {
      for (idx slot = 0; slot < cp / 2; slot++) {
        idx i = slot == 0 ? round : (round + slot) % players;
        idx j = slot == 0 ? players : (round + players - slot) % players;
        if (i > j) std::swap(i, j);
        if (j >= c) continue;
        double* wi = W + i * len * L;
        double* wj = W + j * len * L;
        double g4[4][L] = {};  // four partial sums: the FMA latency chain is the bottleneck otherwise
        idx k = 0;
        for (; k + 4 <= len; k += 4) {
          for (int q = 0; q < 4; q++) {
            for (int l = 0; l < L; l++) g4[q][l] += wi[(k + q) * L + l] * wj[(k + q) * L + l];
          }
        }
        for (; k < len; k++) {
          for (int l = 0; l < L; l++) g4[0][l] += wi[k * L + l] * wj[k * L + l];
        }
        double g[L];
        for (int l = 0; l < L; l++) g[l] = (g4[0][l] + g4[1][l]) + (g4[2][l] + g4[3][l]);
        // Branch-free per lane (so that it vectorises); a lane with nothing to do gets t = 0, the identity.
        double cs[L], sn[L], active[L];
        for (int l = 0; l < L; l++) {
          const double a = nrm[i * L + l], b = nrm[j * L + l], gl = g[l];
          const bool act = gl * gl > tol2 * a * b;
          // t = sign(zeta) / (|zeta| + sqrt(1 + zeta^2)), zeta = (b - a) / (2 g), without dividing twice.
          const double diff = b - a;
          const double t = (diff >= 0.0 ? 2.0 * gl : -2.0 * gl) / (std::fabs(diff) + std::sqrt(diff * diff + 4.0 * gl * gl));
          const double tt = act ? t : 0.0;
          const double c0 = 1.0 / std::sqrt(1.0 + tt * tt);
          cs[l] = c0;
          sn[l] = c0 * tt;
          active[l] = act ? 1.0 : 0.0;
          nrm[i * L + l] = a - tt * gl;
          nrm[j * L + l] = b + tt * gl;
        }
        double count = 0.0;
        for (int l = 0; l < L; l++) count += active[l];
        if (count == 0.0) continue;
        any = true;
        for (idx k = 0; k < len; k++) {
          for (int l = 0; l < L; l++) {
            const double x = wi[k * L + l], y = wj[k * L + l];
            wi[k * L + l] = cs[l] * x - sn[l] * y;
            wj[k * L + l] = sn[l] * x + cs[l] * y;
          }
        }
        double* vi = V + i * c * L;
        double* vj = V + j * c * L;
        for (idx k = 0; k < c; k++) {
          for (int l = 0; l < L; l++) {
            const double x = vi[k * L + l], y = vj[k * L + l];
            vi[k * L + l] = cs[l] * x - sn[l] * y;
            vj[k * L + l] = sn[l] * x + cs[l] * y;
          }
        }
      }
    }
    if (!any) break;
  }
}

MOLRG_MULTIVERSION(void, jacobiLanes, (double* W, idx c, idx len, double* V, double* nrm), (W, c, len, V, nrm))

// The same on one matrix with the vector loops along the rows, for a lone matrix (a group of one would
// rotate seven empty lanes: 3x slower at 32 x 32, 1.5x at 16 x 16, measured).
MOLRG_INLINE void jacobiRows_body(double* W, idx c, idx len, double* V, double* nrm) {
  std::fill(V, V + c * c, 0.0);
  for (idx i = 0; i < c; i++) V[i * c + i] = 1.0;
  const double tol2 = kOrthTol * kOrthTol;
  for (int sweep = 0; sweep < 60; sweep++) {
    for (idx i = 0; i < c; i++) nrm[i] = dotInline(W + i * len, W + i * len, len);
    bool any = false;
    for (idx i = 0; i < c; i++) {
      double* wi = W + i * len;
      for (idx j = i + 1; j < c; j++) {
        double* wj = W + j * len;
        const double a = nrm[i], b = nrm[j], g = dotInline(wi, wj, len);
        if (!(g * g > tol2 * a * b)) continue;
        any = true;
        const double zeta = (b - a) / (2.0 * g);
        const double t = std::copysign(1.0 / (std::fabs(zeta) + std::sqrt(1.0 + zeta * zeta)), zeta);
        const double cs = 1.0 / std::sqrt(1.0 + t * t), sn = cs * t;
        rotInline(wi, wj, len, cs, sn);
        rotInline(V + i * c, V + j * c, c, cs, sn);
        nrm[i] = a - t * g;
        nrm[j] = b + t * g;
      }
    }
    if (!any) break;
  }
}

MOLRG_MULTIVERSION(void, jacobiRows, (double* W, idx c, idx len, double* V, double* nrm), (W, c, len, V, nrm))

// Thread-local scratch, grown on demand.
struct Work {
  std::vector<double> a, b, c, d, e, f, g, h;
  std::vector<float> xf, yf;
  template <typename T>
  static T* get(std::vector<T>& v, idx n) {
    if (static_cast<idx>(v.size()) < n) v.resize(static_cast<size_t>(n));
    return v.data();
  }
};

Work& work() {
  thread_local Work w;
  return w;
}

// svdRows' own scratch (it runs inside svdRandomized, which holds the Work buffers).
struct RowsWork {
  std::vector<double> W, nrm, V, R, M;
  std::vector<idx> order;
};

// The output step shared by every algorithm: `s` descending, candidate vectors as rows of
// `Urows [>= r, m]`, `Vrows [>= r, n]`; degenerate triplets take the completion; sign convention.
void emitTriplets(const double* s, double* Urows, double* Vrows, idx r, idx m, idx n, float* U,
                  float* S, float* V, double* h) {
  const double s1 = s[0];
  for (idx j = 0; j < r; j++) {
    double* u = Urows + j * m;
    double* v = Vrows + j * n;
    const bool degenerate = !(s1 > 0.0) || !(s[j] > kDegenerate * s1);
    if (degenerate) {
      completion(u, Urows, j, m, h);
      completion(v, Vrows, j, n, h);
    }
    if (needsFlip(u, m)) {
      for (idx i = 0; i < m; i++) u[i] = -u[i];
      for (idx i = 0; i < n; i++) v[i] = -v[i];
    }
    S[j] = static_cast<float>(degenerate ? 0.0 : s[j]);
    for (idx i = 0; i < m; i++) U[i * r + j] = static_cast<float>(u[i]);
    for (idx i = 0; i < n; i++) V[i * r + j] = static_cast<float>(v[i]);
  }
}

// Up to kLanes consecutive matrices of a batch by Jacobi, each on its orientation with fewer columns.
void svdJacobiGroup(const float* A, int lanes, idx m, idx n, idx r, float* U, float* S, float* V) {
  Work& wk = work();
  const bool tall = m >= n;
  const idx c = tall ? n : m, len = tall ? m : n;
  double* W = Work::get(wk.a, lanes * c * len);
  double* s = Work::get(wk.b, lanes * c);
  double* left = Work::get(wk.c, lanes * c * len);
  double* right = Work::get(wk.d, lanes * c * c);
  double* h = Work::get(wk.h, 2 * std::max(m, n) + 2 * c);
  double *Wp[kLanes] = {}, *sp[kLanes] = {}, *lp[kLanes] = {}, *rp[kLanes] = {};
  for (int l = 0; l < lanes; l++) {
    const float* a = A + l * m * n;
    Wp[l] = W + l * c * len;
    sp[l] = s + l * c;
    lp[l] = left + l * c * len;
    rp[l] = right + l * c * c;
    for (idx i = 0; i < m; i++) {
      for (idx j = 0; j < n; j++) {
        if (tall) {
          Wp[l][j * len + i] = a[i * n + j];
        } else {
          Wp[l][i * len + j] = a[i * n + j];
        }
      }
    }
  }
  svdRowsGroup(Wp, lanes, c, len, sp, lp, rp);
  for (int l = 0; l < lanes; l++) {
    float *Ul = U + l * m * r, *Sl = S + l * r, *Vl = V + l * n * r;
    if (tall) {
      emitTriplets(sp[l], lp[l], rp[l], r, m, n, Ul, Sl, Vl, h);
    } else {
      emitTriplets(sp[l], rp[l], lp[l], r, m, n, Ul, Sl, Vl, h);
    }
  }
}

void transpose(const double* X, idx rows, idx cols, double* Y) {
  for (idx i = 0; i < rows; i++) {
    for (idx j = 0; j < cols; j++) Y[j * rows + i] = X[i * cols + j];
  }
}

// Columns of the float32 `Y [rows, l]` orthonormalised (Gram-Schmidt twice, float64) in place; `Q [l, rows]`
// and `h` scratch.
void orthonormalizeColumnsF(float* Y, idx rows, idx l, double* Q, double* h) {
  for (idx i = 0; i < rows; i++) {
    for (idx j = 0; j < l; j++) Q[j * rows + i] = Y[i * l + j];
  }
  orthonormalizeRows(Q, l, rows, nullptr, 0.0, h);
  for (idx i = 0; i < rows; i++) {
    for (idx j = 0; j < l; j++) Y[i * l + j] = static_cast<float>(Q[j * rows + i]);
  }
}

// A few triplets of a large matrix: randomized subspace iteration with Rayleigh-Ritz. Returns false
// when the residual test fails after the iteration budget (the caller then uses Jacobi).
// The sketch and the first power iteration run in float32 (sgemm); they only choose the starting
// subspace, so their rounding costs nothing in the result: every Rayleigh-Ritz step and residual test
// after them multiplies the exact float32 A in float64 (mixedGemm).
bool svdRandomized(const float* A, idx m, idx n, idx r, float* U, float* S, float* V) {
  Work& wk = work();
  const idx c = std::min(m, n);
  const idx l = std::min(c, r + std::max<idx>(r, 8));
  double* X = Work::get(wk.a, n * l);   // [n, l] right basis
  double* Y = Work::get(wk.b, m * l);   // [m, l] = A X
  double* Q = Work::get(wk.c, l * m);   // [l, m] orthonormal rows
  double* Bt = Work::get(wk.d, n * l);  // [n, l] = A^T Q^T
  double* W = Work::get(wk.e, l * n);   // rows of Bt's columns
  double* sb = Work::get(wk.f, 3 * l + l * l);
  double* h = Work::get(wk.h, 2 * (m + n + l));
  double* Ub = Work::get(wk.g, l * n + l * m);  // right vectors of A (rows [l, n]) then left ([l, m])
  double* Vb = sb + 2 * l;
  {
    float* Xf = Work::get(wk.xf, n * l);
    float* Yf = Work::get(wk.yf, m * l);
    normals(Xf, n * l, 0x6d6f6c7267ull, 0, 0);
    sgemm(false, false, m, l, n, 1.0f, A, n, Xf, l, 0.0f, Yf, l);   // Y = A Omega
    for (int it = 0; it < kFloatRounds; it++) {
      orthonormalizeColumnsF(Yf, m, l, Q, h);
      sgemm(true, false, n, l, m, 1.0f, A, n, Yf, l, 0.0f, Xf, l);  // X = A^T Q
      orthonormalizeColumnsF(Xf, n, l, W, h);
      sgemm(false, false, m, l, n, 1.0f, A, n, Xf, l, 0.0f, Yf, l); // Y = A X
    }
    for (idx i = 0; i < m * l; i++) Y[i] = Yf[i];
  }
  double previous = INFINITY;
  for (int it = 0; it < 24; it++) {
    transpose(Y, m, l, Q);
    orthonormalizeRows(Q, l, m, nullptr, 0.0, h);
    transpose(Q, l, m, Y);                   // Y now holds Q^T [m, l]
    mixedGemm(true, n, m, l, A, n, Y, Bt);   // A^T Q^T = Ub diag(sb) Vb^T
    transpose(Bt, n, l, W);
    svdRows(W, l, n, sb, Ub, Vb);            // Ub rows [l, n], Vb rows [l, l]
    double* Ul = Ub + l * n;                 // u_j = Q^T Vb_j
    for (idx j = 0; j < l; j++) {
      double* u = Ul + j * m;
      std::fill(u, u + m, 0.0);
      for (idx i = 0; i < l; i++) daxpy(Vb[j * l + i], Q + i * m, u, m);
    }
    transpose(Ub, l, n, X);
    mixedGemm(false, m, n, l, A, n, X, Y);   // A v_j, also the next power iterate
    double worst = 0.0;
    for (idx j = 0; j < r; j++) {
      double e = 0.0;
      for (idx i = 0; i < m; i++) {
        const double d = Y[i * l + j] - sb[j] * Ul[j * m + i];
        e += d * d;
      }
      worst = std::max(worst, std::sqrt(e));
    }
    if (!(sb[0] > 0.0) || worst <= 1e-10 * sb[0]) {
      emitTriplets(sb, Ul, Ub, r, m, n, U, S, V, h);
      return true;
    }
    // The residual shrinks like (s_{l+1} / s_r)^2 per iteration: slower than 1/2 cannot finish in
    // the budget (no spectral gap), so Jacobi takes over now.
    if (it >= 2 && worst > 0.5 * previous) return false;
    previous = worst;
  }
  return false;
}

bool randomizedRoute(idx m, idx n, idx r) {
  const idx c = std::min(m, n);
  return c >= 64 && 4 * r <= c;
}

}  // namespace

void svdRowsGroup(double* const* W, int lanes, idx c, idx len, double* const* s, double* const* left,
                  double* const* right) {
  constexpr int L = kLanes;
  thread_local RowsWork wk;
  const bool qr = len >= 2 * c;  // M = Q R: rotate the (c x c) R instead of the long columns
  const idx mlen = qr ? c : len;
  double* W8 = Work::get(wk.W, c * mlen * L);
  double* V8 = Work::get(wk.V, c * c * L);
  double* nrm = Work::get(wk.nrm, c * L + 3 * c);
  double* sv = nrm + c * L;
  double* h = sv + c;
  double* R = Work::get(wk.R, qr ? lanes * c * c : 0);
  if (static_cast<idx>(wk.order.size()) < c) wk.order.resize(static_cast<size_t>(c));
  idx* order = wk.order.data();
  std::fill(W8, W8 + c * mlen * L, 0.0);
  for (int l = 0; l < lanes; l++) {
    if (qr) {
      double* Rl = R + l * c * c;
      orthonormalizeRows(W[l], c, len, Rl, 0.0, h);
      for (idx j = 0; j < c; j++) {
        for (idx i = 0; i < c; i++) W8[(j * mlen + i) * L + l] = Rl[i * c + j];
      }
    } else {
      for (idx j = 0; j < c; j++) {
        for (idx i = 0; i < len; i++) W8[(j * mlen + i) * L + l] = W[l][j * len + i];
      }
    }
  }
  if (lanes > 1) {
    jacobiLanes(W8, c, mlen, V8, nrm);
  } else {  // a lone matrix: de-interleave, rotate, re-interleave (lane 0)
    double* M = Work::get(wk.M, c * mlen + c * c);
    double* Vs = M + c * mlen;
    for (idx i = 0; i < c * mlen; i++) M[i] = W8[i * L];
    jacobiRows(M, c, mlen, Vs, nrm);
    for (idx i = 0; i < c * mlen; i++) W8[i * L] = M[i];
    for (idx i = 0; i < c * c; i++) V8[i * L] = Vs[i];
  }
  for (int l = 0; l < lanes; l++) {
    for (idx j = 0; j < c; j++) {
      double e = 0.0;
      for (idx i = 0; i < mlen; i++) e += W8[(j * mlen + i) * L + l] * W8[(j * mlen + i) * L + l];
      sv[j] = std::sqrt(e);
    }
    orderDescending(sv, c, order);
    for (idx t = 0; t < c; t++) {
      const idx j = order[t];
      s[l][t] = sv[j];
      for (idx i = 0; i < c; i++) right[l][t * c + i] = V8[(j * c + i) * L + l];
      double* u = left[l] + t * len;
      const double inv = sv[j] > 0.0 ? 1.0 / sv[j] : 0.0;
      if (qr) {
        std::fill(u, u + len, 0.0);
        for (idx i = 0; i < c; i++) daxpy(W8[(j * mlen + i) * L + l] * inv, W[l] + i * len, u, len);
      } else {
        for (idx i = 0; i < len; i++) u[i] = W8[(j * mlen + i) * L + l] * inv;
      }
    }
  }
}

void svdRows(double* W, idx c, idx len, double* s, double* left, double* right) {
  svdRowsGroup(&W, 1, c, len, &s, &left, &right);
}

void svdBatched(const float* A, idx batch, idx m, idx n, idx r, float* U, float* S, float* V) {
  if (randomizedRoute(m, n, r)) {
    parallelFor(batch, [&](idx b0, idx b1) {
      for (idx b = b0; b < b1; b++) {
        const float* a = A + b * m * n;
        float *Ub = U + b * m * r, *Sb = S + b * r, *Vb = V + b * n * r;
        if (!svdRandomized(a, m, n, r, Ub, Sb, Vb)) svdJacobiGroup(a, 1, m, n, r, Ub, Sb, Vb);
      }
    });
    return;
  }
  const idx groups = (batch + kLanes - 1) / kLanes;
  parallelFor(groups, [&](idx g0, idx g1) {
    for (idx g = g0; g < g1; g++) {
      const idx b = g * kLanes;
      const int lanes = static_cast<int>(std::min<idx>(kLanes, batch - b));
      svdJacobiGroup(A + b * m * n, lanes, m, n, r, U + b * m * r, S + b * r, V + b * n * r);
    }
  });
}

}  // namespace molrg
