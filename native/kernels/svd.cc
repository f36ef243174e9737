#include "svd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
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
constexpr int kSweeps = 60;

// Batched Jacobi (docs/kernels.md `svd`): a float32 pass on kGroup matrices, one per lane, then float64
// on kLanes at a time. Its results only ever become float32 outputs, so the float64 pass stops at
// kOrthTolFloat32 rather than kOrthTol: |u_i . u_j| <= 1e-10 is far below float32 rounding, singular
// values move by second-order amounts, and the vectors' errors against a float64 SVD stayed those of
// kOrthTol up to 200 x 200 (1e-9 let them grow to 1.6e-7 there; docs/performance.md). Saves most of a
// sweep.
constexpr int kLanes = 8;
constexpr int kGroup = 16;
constexpr double kOrthTolFloat32 = 1e-10;
// The float32 pass rotates pairs with |w_i . w_j| > kOrthTol32 ||w_i|| ||w_j|| and stops after a sweep
// that rotated at most 1/8 of the pairs (the float64 pass needs a sweep from any float32 start anyway:
// V_0 is only good to float32 rounding times the condition number), or after kSweeps32 sweeps.
constexpr float kOrthTol32 = 1e-5f;
constexpr int kSweeps32 = 20;
// Rows whose norm is below 1e-6 of the largest (a few times float32 rounding of it) carry no direction
// in float32: the float32 pass leaves their pairs to the float64 pass (kNoise32: squared, relative).
// Without this, a rank-deficient matrix kept the float32 pass busy for all its sweeps.
constexpr float kNoise32 = 1e-12f;
// Pair order: the 2 b columns (of W and V) rotated together in a block pair should fit in L1.
constexpr double kBlockBytes = 32768.0;
constexpr int kMaxBlock = 8;
// Float32 power iterations before the float64 Rayleigh-Ritz loop: one brings the residual to the
// float32 floor (~1e-7 s_1); more cannot save a float64 round.
constexpr int kFloatRounds = 1;

// Round-robin tournament of n players: rounds of disjoint pairs (i < j), `pair(i, j)` for each pair
// and `endRound()` after each round.
template <typename Pair, typename End>
void roundRobin(idx n, Pair&& pair, End&& endRound) {
  const idx np = n + (n & 1), players = np - 1;
  for (idx round = 0; round < players; round++) {
    for (idx slot = 0; slot < np / 2; slot++) {
      idx i = slot == 0 ? round : (round + slot) % players;
      idx j = slot == 0 ? players : (round + players - slot) % players;
      if (i > j) std::swap(i, j);
      if (j < n) pair(i, j);
    }
    endRound();
  }
}

// The order of one Jacobi sweep over c columns, as rounds of disjoint pairs (so that the rotation
// angles of a round are computed together and their latencies overlap). For cache reuse the columns
// form blocks of b: first the pairs inside each block, block by block; then, for each pair of blocks
// (round-robin order), their cross pairs along diagonals, while those 2b columns stay in L1.
struct PairOrder {
  std::vector<idx> pairs;  // i, j of each pair
  std::vector<idx> ends;   // end of each round, in pairs
};

const PairOrder& pairOrder(idx c, idx b) {
  thread_local PairOrder o;
  o.pairs.clear();
  o.ends.clear();
  auto push = [&](idx i, idx j) {
    o.pairs.push_back(i);
    o.pairs.push_back(j);
  };
  auto end = [&] {
    const idx n = static_cast<idx>(o.pairs.size() / 2);
    if (n > (o.ends.empty() ? 0 : o.ends.back())) o.ends.push_back(n);
  };
  const idx blocks = (c + b - 1) / b;
  auto size = [&](idx B) { return std::min(b, c - B * b); };
  for (idx B = 0; B < blocks; B++) {
    roundRobin(size(B), [&](idx i, idx j) { push(B * b + i, B * b + j); }, end);
  }
  roundRobin(blocks, [&](idx I, idx J) {
    // Diagonal t pairs column k of the smaller block with column (k + t) mod |larger| of the other.
    const bool swap = size(I) > size(J);
    const idx p = swap ? J : I, q = swap ? I : J, np = size(p), nq = size(q);
    for (idx t = 0; t < nq; t++) {
      for (idx k = 0; k < np; k++) {
        const idx x = p * b + k, y = q * b + (k + t) % nq;
        push(std::min(x, y), std::max(x, y));
      }
      end();
    }
  }, [] {});
  return o;
}

// These helpers are always inlined into the per-ISA wrappers, so no vector ever crosses a call.
#pragma GCC diagnostic ignored "-Wpsabi"

// N lanes of T as one register (GCC/clang vector extension; N T fill an SSE2, AVX2 or AVX-512
// register in the respective variant). Explicit vectors, because the vectoriser gives up on the longer
// lane loops (the rotation angles); they must not be wider than the ISA's registers, or the compiler
// keeps them in memory.
template <typename T, int N>
struct Lanes {
  typedef T type __attribute__((vector_size(N * sizeof(T))));
  static MOLRG_INLINE type load(const T* p) {
    type v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  static MOLRG_INLINE void store(T* p, type v) { __builtin_memcpy(p, &v, sizeof v); }
  static MOLRG_INLINE type sqrt(type x) {
    for (int l = 0; l < N; l++) x[l] = std::sqrt(x[l]);
    return x;
  }
};

// Rows x, y [n] of interleaved matrices (stride L), N lanes: x' = x - alpha y, y' = y + beta x (a plane
// rotation with its cosine left out of both rows, see jacobiRun).
template <typename T, int L, int N>
MOLRG_INLINE void rotateLanes(T* x, T* y, idx n, typename Lanes<T, N>::type alpha, typename Lanes<T, N>::type beta) {
  using V = Lanes<T, N>;
  for (idx k = 0; k < n * L; k += L) {
    const typename V::type xv = V::load(x + k), yv = V::load(y + k);
    V::store(x + k, xv - alpha * yv);
    V::store(y + k, yv + beta * xv);
  }
}

// One-sided (Hestenes) Jacobi on L matrices at once, stored interleaved: row i of matrix l is
// W[(i len + k) L + l]. V [c, c] (same interleaving, as given: the identity or a start) accumulates the
// rotations: each rotation of rows i, j of W is applied to rows i, j of V, so W = V W_0 throughout.
// The lanes are processed N at a time (one register; L / N independent runs), and every lane takes
// exactly the rotations it would take alone (a lane that needs none rotates by the identity), so a
// matrix's result does not depend on its neighbours; zero lanes never rotate. Pairs with a row whose
// squared norm is below `noise` times the largest are skipped. A lane stops after a sweep in which it
// rotated at most `quit` pairs (0: converged), the run when all its lanes have stopped or after
// `maxSweeps` sweeps. `nrm [3 c L]` scratch.
//
// Scaled rotations (fast Givens): row i is stored as w_i / d_i (e_i = 1 / d_i). The rotation
// w_i' = cos w_i - sin w_j, w_j' = sin w_i + cos w_j then takes d_i' = cos d_i, d_j' = cos d_j and two
// multiply-adds per entry instead of four (the rotations are most of a sweep). cos >= 1/sqrt(2), so a
// scale halves at worst every two rotations of its row; the scales are folded back into the rows after
// each sweep, and (c > 41) before a rotation in the lanes where one has fallen below kMinScale, so that
// neither float32 nor float64 can overflow or underflow. Squared norms are updated with each rotation
// and recomputed every sweep.
constexpr int kMinScaleLog2 = 20;
constexpr double kMinScale = 1.0 / (1 << kMinScaleLog2);

template <typename T, int L, int N>
MOLRG_INLINE idx jacobiRun(T* W, idx c, idx len, T* Vm, T* nrm, T tol, T noise, int maxSweeps, idx quit) {
  using V = Lanes<T, N>;
  using vec = typename V::type;
  const double colBytes = static_cast<double>((len + c) * L * sizeof(T));
  const idx b = std::max<idx>(2, std::min<idx>(kMaxBlock, static_cast<idx>(kBlockBytes / (2.0 * colBytes))));
  const PairOrder& order = pairOrder(c, b);
  const idx* pairs = order.pairs.data();
  T* d = nrm + c * L;
  T* e = d + c * L;
  const vec zero = {}, one = zero + T(1);
  const bool guard = c - 1 > 2 * kMinScaleLog2;  // c - 1 rotations per sweep can reach kMinScale
  auto fold = [&](idx i, vec pick) {  // the scales of row i into the row, in the lanes where pick != 0
    const auto m = pick != zero;
    const vec di = V::load(d + i * L), f = m ? di : one;
    for (idx k = 0; k < len; k++) V::store(W + (i * len + k) * L, V::load(W + (i * len + k) * L) * f);
    for (idx k = 0; k < c; k++) V::store(Vm + (i * c + k) * L, V::load(Vm + (i * c + k) * L) * f);
    V::store(d + i * L, m ? one : di);
    V::store(e + i * L, m ? one : V::load(e + i * L));
  };
  const vec inf = zero + std::numeric_limits<T>::infinity();
  vec thr = zero + tol * tol;  // +inf for a lane that has stopped
  idx total = 0;
  for (int sweep = 0; sweep < maxSweeps; sweep++) {
    vec big = zero;
    for (idx i = 0; i < c; i++) {
      vec acc = zero;
      for (idx k = 0; k < len; k++) {
        const vec w = V::load(W + (i * len + k) * L);
        acc += w * w;
      }
      V::store(nrm + i * L, acc);
      big = acc > big ? acc : big;
      if (sweep == 0) {
        V::store(d + i * L, one);
        V::store(e + i * L, one);
      }
    }
    const vec least = big * noise;  // rows below this squared norm are left alone
    idx rotated = 0;
    vec count = zero;  // rotations per lane in this sweep
    idx p0 = 0;
    for (const idx p1 : order.ends) {
      // The round's rotation angles first (independent pairs), then its rotations.
      vec alpha[kMaxBlock], beta[kMaxBlock];
      bool rotate[kMaxBlock];
      for (idx p = p0; p < p1; p++) {
        const idx i = pairs[2 * p], j = pairs[2 * p + 1];
        for (const idx f : {i, j}) {
          if (!guard) break;
          const vec df = V::load(d + f * L);
          const auto small = df < T(kMinScale);
          bool any = false;
          for (int l = 0; l < N; l++) any |= small[l] != 0;
          if (any) fold(f, small ? one : zero);
        }
        const T* wi = W + i * len * L;
        const T* wj = W + j * len * L;
        vec g4[4] = {zero, zero, zero, zero};  // four partial sums: the FMA latency chain is the bottleneck otherwise
        idx k = 0;
        for (; k + 4 <= len; k += 4) {
          for (int q = 0; q < 4; q++) g4[q] += V::load(wi + (k + q) * L) * V::load(wj + (k + q) * L);
        }
        for (; k < len; k++) g4[0] += V::load(wi + k * L) * V::load(wj + k * L);
        // A lane with nothing to do gets t = 0, the identity.
        const vec a = V::load(nrm + i * L), bn = V::load(nrm + j * L);
        const vec di = V::load(d + i * L), dj = V::load(d + j * L), ei = V::load(e + i * L), ej = V::load(e + j * L);
        const vec g = ((g4[0] + g4[1]) + (g4[2] + g4[3])) * (di * dj);
        // One comparison (a lane mask the compiler keeps as such): a stopped lane, or a row below
        // `least`, has an infinite threshold.
        const vec th = (a < bn ? a : bn) > least ? thr : inf;
        const auto act = g * g > th * a * bn;
        // t = sign(zeta) / (|zeta| + sqrt(1 + zeta^2)), zeta = (b - a) / (2 g), without dividing twice.
        const vec diff = bn - a;
        const auto up = diff >= zero;
        const vec t = (up ? T(2) * g : T(-2) * g) / ((up ? diff : -diff) + V::sqrt(diff * diff + T(4) * g * g));
        const vec tt = act ? t : zero;
        const vec h = V::sqrt(one + tt * tt), cs = one / h;
        alpha[p - p0] = tt * (dj * ei);
        beta[p - p0] = tt * (di * ej);
        V::store(nrm + i * L, a - tt * g);
        V::store(nrm + j * L, bn + tt * g);
        V::store(d + i * L, cs * di);
        V::store(d + j * L, cs * dj);
        V::store(e + i * L, h * ei);
        V::store(e + j * L, h * ej);
        count += act ? one : zero;
        bool r = false;
        for (int l = 0; l < N; l++) r |= act[l] != 0;
        rotate[p - p0] = r;
      }
      for (idx p = p0; p < p1; p++) {
        if (!rotate[p - p0]) continue;
        rotated++;
        const idx i = pairs[2 * p], j = pairs[2 * p + 1];
        rotateLanes<T, L, N>(W + i * len * L, W + j * len * L, len, alpha[p - p0], beta[p - p0]);
        rotateLanes<T, L, N>(Vm + i * c * L, Vm + j * c * L, c, alpha[p - p0], beta[p - p0]);
      }
      p0 = p1;
    }
    for (idx i = 0; i < c && rotated > 0; i++) fold(i, one);
    total += rotated;
    thr = count > T(quit) ? thr : inf;
    bool live = false;
    for (int l = 0; l < N; l++) live |= count[l] > T(quit);
    if (!live) break;
  }
  return total;
}

// The first `lanes` lanes (the others are padding and are left alone); returns the rotations made.
template <typename T, int L, int N>
MOLRG_INLINE idx jacobiLanesT(T* W, idx c, idx len, T* Vm, T* nrm, int lanes, T tol, T noise, int maxSweeps, idx quit) {
  idx rotations = 0;
  for (int l = 0; l < lanes; l += N) rotations += jacobiRun<T, L, N>(W + l, c, len, Vm + l, nrm + l, tol, noise, maxSweeps, quit);
  return rotations;
}

// W = doubles per register: 2 (baseline), 4 (AVX2), 8 (AVX-512).
template <int W>
MOLRG_INLINE void jacobiLanes_body(double* A, idx c, idx len, double* V, double* nrm, int lanes) {
  jacobiLanesT<double, kLanes, W>(A, c, len, V, nrm, lanes, kOrthTolFloat32, 0.0, kSweeps, 0);
}

MOLRG_MULTIVERSION_W(void, jacobiLanes, (double* A, idx c, idx len, double* V, double* nrm, int lanes),
                     (A, c, len, V, nrm, lanes))

template <int W>
MOLRG_INLINE idx jacobiLanes32_body(float* A, idx c, idx len, float* V, float* nrm, int lanes) {
  return jacobiLanesT<float, kGroup, 2 * W>(A, c, len, V, nrm, lanes, kOrthTol32, kNoise32, kSweeps32, c * (c - 1) / 16);
}

MOLRG_MULTIVERSION_W(idx, jacobiLanes32, (float* A, idx c, idx len, float* V, float* nrm, int lanes),
                     (A, c, len, V, nrm, lanes))

// The float64 start from the float32 pass, for kLanes interleaved matrices: the rows of `V [c, c]`
// (orthonormal to float32 rounding) made orthonormal in float64 by Cholesky QR (V = L Q, L L^T = V V^T;
// one pass suffices since V V^T is within ~1e-6 of I), then `W [c, len] = V M` for the unrotated rows
// `M [c, len]`. `G [c, c]` scratch. N lanes at a time; the products accumulate register tiles.
constexpr int kTileJ = 2, kTileK = 4;

// Tiles of `C [rows, cols]` (interleaved, stride L): fn(j0, k0, tj, tk) for each, tj <= kTileJ, tk <= kTileK.
template <typename F>
MOLRG_INLINE void forTiles(idx rows, idx cols, F&& fn) {
  for (idx j0 = 0; j0 < rows; j0 += kTileJ) {
    for (idx k0 = 0; k0 < cols; k0 += kTileK) fn(j0, k0, std::min<idx>(kTileJ, rows - j0), std::min<idx>(kTileK, cols - k0));
  }
}

template <int N>
MOLRG_INLINE void startRun(const double* M, idx c, idx len, double* Vm, double* W, double* G) {
  constexpr int L = kLanes;
  using V = Lanes<double, N>;
  using vec = typename V::type;
  const vec zero = {};
  auto at = [](auto* X, idx cols, idx i, idx k) { return X + (i * cols + k) * L; };
  // acc[q][r] = sum_i X[j0 + q, i] Y[i, k0 + r] for the rows of X [., inner]; y(i, k) points to Y[i, k].
  auto tile = [&](const double* X, idx inner, auto y, idx j0, idx k0, idx tj, idx tk, vec (&acc)[kTileJ][kTileK]) {
    for (int q = 0; q < kTileJ; q++) {
      for (int r = 0; r < kTileK; r++) acc[q][r] = zero;
    }
    if (tj == kTileJ && tk == kTileK) {
      for (idx i = 0; i < inner; i++) {
        vec x[kTileJ], yv[kTileK];
        for (int q = 0; q < kTileJ; q++) x[q] = V::load(at(X, inner, j0 + q, i));
        for (int r = 0; r < kTileK; r++) yv[r] = V::load(y(i, k0 + r));
        for (int q = 0; q < kTileJ; q++) {
          for (int r = 0; r < kTileK; r++) acc[q][r] += x[q] * yv[r];
        }
      }
      return;
    }
    for (idx i = 0; i < inner; i++) {
      for (idx q = 0; q < tj; q++) {
        for (idx r = 0; r < tk; r++) acc[q][r] += V::load(at(X, inner, j0 + q, i)) * V::load(y(i, k0 + r));
      }
    }
  };
  // G = V V^T (lower triangle), then its Cholesky factor in place; diagonal entries hold 1 / L[j, j].
  forTiles(c, c, [&](idx j0, idx k0, idx tj, idx tk) {
    if (k0 > j0 + tj - 1) return;
    vec acc[kTileJ][kTileK];
    tile(Vm, c, [&](idx i, idx k) { return at(Vm, c, k, i); }, j0, k0, tj, tk, acc);
    for (idx q = 0; q < tj; q++) {
      for (idx r = 0; r < tk; r++) V::store(at(G, c, j0 + q, k0 + r), acc[q][r]);
    }
  });
  for (idx j = 0; j < c; j++) {
    for (idx i = 0; i <= j; i++) {
      vec x = V::load(at(G, c, j, i));
      for (idx k = 0; k < i; k++) x -= V::load(at(G, c, j, k)) * V::load(at(G, c, i, k));
      V::store(at(G, c, j, i), i < j ? x * V::load(at(G, c, i, i)) : (zero + 1.0) / V::sqrt(x));
    }
  }
  // Rows of V <- L^-1 V (forward substitution), kTileK columns at a time.
  auto substitute = [&](idx k0, auto width) {
    constexpr int tk = decltype(width)::value;
    for (idx j = 0; j < c; j++) {
      vec acc[tk];
      for (int r = 0; r < tk; r++) acc[r] = V::load(at(Vm, c, j, k0 + r));
      for (idx i = 0; i < j; i++) {
        const vec lji = V::load(at(G, c, j, i));
        for (int r = 0; r < tk; r++) acc[r] -= lji * V::load(at(Vm, c, i, k0 + r));
      }
      const vec inv = V::load(at(G, c, j, j));
      for (int r = 0; r < tk; r++) V::store(at(Vm, c, j, k0 + r), acc[r] * inv);
    }
  };
  idx k0 = 0;
  for (; k0 + kTileK <= c; k0 += kTileK) substitute(k0, std::integral_constant<int, kTileK>());
  for (; k0 < c; k0++) substitute(k0, std::integral_constant<int, 1>());
  // W = V M.
  forTiles(c, len, [&](idx j0, idx k0, idx tj, idx tk) {
    vec acc[kTileJ][kTileK];
    tile(Vm, c, [&](idx i, idx k) { return at(M, len, i, k); }, j0, k0, tj, tk, acc);
    for (idx q = 0; q < tj; q++) {
      for (idx r = 0; r < tk; r++) V::store(at(W, len, j0 + q, k0 + r), acc[q][r]);
    }
  });
}

template <int W>
MOLRG_INLINE void startLanes_body(const double* M, idx c, idx len, double* V, double* A, double* G, int lanes) {
  for (int l = 0; l < lanes; l += W) startRun<W>(M + l, c, len, V + l, A + l, G + l);
}

MOLRG_MULTIVERSION_W(void, startLanes, (const double* M, idx c, idx len, double* V, double* W, double* G, int lanes),
                     (M, c, len, V, W, G, lanes))

// The same on one matrix with the vector loops along the rows, for a lone matrix (a group of one would
// rotate seven empty lanes: 3x slower at 32 x 32, 1.5x at 16 x 16, measured).
MOLRG_INLINE void jacobiRows_body(double* W, idx c, idx len, double* V, double* nrm) {
  std::fill(V, V + c * c, 0.0);
  for (idx i = 0; i < c; i++) V[i * c + i] = 1.0;
  const double tol2 = kOrthTol * kOrthTol;
  for (int sweep = 0; sweep < kSweeps; sweep++) {
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
  std::vector<double> W, nrm, V, R, M, G, one;
  std::vector<float> W32, V32, nrm32;
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

// Up to kGroup consecutive matrices of a batch by Jacobi, each on its orientation with fewer columns.
void svdJacobiGroup(const float* A, int lanes, idx m, idx n, idx r, float* U, float* S, float* V) {
  Work& wk = work();
  const bool tall = m >= n;
  const idx c = tall ? n : m, len = tall ? m : n;
  double* W = Work::get(wk.a, lanes * c * len);
  double* s = Work::get(wk.b, lanes * c);
  double* left = Work::get(wk.c, lanes * c * len);
  double* right = Work::get(wk.d, lanes * c * c);
  double* h = Work::get(wk.h, 2 * std::max(m, n) + 2 * c);
  double *Wp[kGroup] = {}, *sp[kGroup] = {}, *lp[kGroup] = {}, *rp[kGroup] = {};
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
  constexpr int L = kLanes, G = kGroup;
  thread_local RowsWork wk;
  const bool qr = len >= 2 * c;  // M = Q R: rotate the (c x c) R instead of the long columns
  const idx mlen = qr ? c : len;
  double* M8 = Work::get(wk.M, c * mlen * L);
  double* W8 = Work::get(wk.W, c * mlen * L);
  double* V8 = Work::get(wk.V, c * c * L);
  double* G8 = Work::get(wk.G, c * c * L);
  double* nrm = Work::get(wk.nrm, 3 * c * L + 3 * c);
  double* sv = nrm + 3 * c * L;
  double* h = sv + c;
  double* R = Work::get(wk.R, qr ? 2 * lanes * c * c : 0);
  if (static_cast<idx>(wk.order.size()) < c) wk.order.resize(static_cast<size_t>(c));
  idx* order = wk.order.data();
  // The rows [c, mlen] that Jacobi rotates, per matrix: W itself, or the columns of R.
  const double* rows[kGroup];
  for (int l = 0; l < lanes; l++) {
    if (qr) {
      double* Rl = R + 2 * l * c * c;
      orthonormalizeRows(W[l], c, len, Rl, 0.0, h);
      transpose(Rl, c, c, Rl + c * c);
      rows[l] = Rl + c * c;
    } else {
      rows[l] = W[l];
    }
  }
  const idx size = c * mlen;
  float* V32 = nullptr;
  if (lanes > 1) {
    // Float32 pass on all lanes at once, each matrix scaled by a power of two to a largest entry in
    // [1/2, 1) (exact; keeps the squared norms of any finite float32 input in range). It only finds the
    // start V_0 of the float64 pass, so its rounding costs iterations there, never accuracy.
    float* W32 = Work::get(wk.W32, size * G);
    float* nrm32 = Work::get(wk.nrm32, 3 * c * G);
    V32 = Work::get(wk.V32, c * c * G);
    double scale[G] = {};
    for (int l = 0; l < lanes; l++) {
      double big = 0.0;
      for (idx p = 0; p < size; p++) big = std::max(big, std::fabs(rows[l][p]));
      int e = 0;
      std::frexp(big, &e);
      scale[l] = std::ldexp(1.0, -e);
    }
    for (idx p = 0; p < size; p++) {
      for (int l = 0; l < lanes; l++) W32[p * G + l] = static_cast<float>(rows[l][p] * scale[l]);
      for (int l = lanes; l < G; l++) W32[p * G + l] = 0.0f;
    }
    std::fill(V32, V32 + c * c * G, 0.0f);
    for (idx j = 0; j < c; j++) {
      for (int l = 0; l < G; l++) V32[(j * c + j) * G + l] = 1.0f;
    }
    // Nothing rotated (e.g. orthogonal columns): the float64 pass starts from the identity.
    if (jacobiLanes32(W32, c, mlen, V32, nrm32, lanes) == 0) V32 = nullptr;
  }
  for (int l0 = 0; l0 < lanes; l0 += L) {
    const int ln = std::min(L, lanes - l0);
    for (idx p = 0; p < size; p++) {
      for (int l = 0; l < ln; l++) M8[p * L + l] = rows[l0 + l][p];
      for (int l = ln; l < L; l++) M8[p * L + l] = 0.0;
    }
    if (lanes > 1) {
      if (V32) {
        for (idx p = 0; p < c * c; p++) {
          for (int l = 0; l < L; l++) V8[p * L + l] = V32[p * G + l0 + l];  // padding lanes: the identity
        }
        startLanes(M8, c, mlen, V8, W8, G8, ln);
      } else {
        std::copy(M8, M8 + size * L, W8);
        std::fill(V8, V8 + c * c * L, 0.0);
        for (idx j = 0; j < c; j++) {
          for (int l = 0; l < L; l++) V8[(j * c + j) * L + l] = 1.0;
        }
      }
      jacobiLanes(W8, c, mlen, V8, nrm, ln);
    } else {  // a lone matrix: de-interleave, rotate, re-interleave (lane 0)
      double* Ms = Work::get(wk.one, size + c * c);
      double* Vs = Ms + size;
      for (idx p = 0; p < size; p++) Ms[p] = M8[p * L];
      jacobiRows(Ms, c, mlen, Vs, nrm);
      for (idx p = 0; p < size; p++) W8[p * L] = Ms[p];
      for (idx p = 0; p < c * c; p++) V8[p * L] = Vs[p];
    }
    for (idx j = 0; j < c; j++) {  // squared norms of the rotated rows, all lanes at once
      double e[L] = {};
      for (idx i = 0; i < mlen; i++) {
        for (int l = 0; l < L; l++) e[l] += W8[(j * mlen + i) * L + l] * W8[(j * mlen + i) * L + l];
      }
      for (int l = 0; l < L; l++) nrm[j * L + l] = e[l];
    }
    for (int lo = 0; lo < ln; lo++) {
      const int l = l0 + lo;
      for (idx j = 0; j < c; j++) sv[j] = std::sqrt(nrm[j * L + lo]);
      orderDescending(sv, c, order);
      for (idx t = 0; t < c; t++) {
        const idx j = order[t];
        s[l][t] = sv[j];
        for (idx i = 0; i < c; i++) right[l][t * c + i] = V8[(j * c + i) * L + lo];
        double* u = left[l] + t * len;
        const double inv = sv[j] > 0.0 ? 1.0 / sv[j] : 0.0;
        if (qr) {
          std::fill(u, u + len, 0.0);
          for (idx i = 0; i < c; i++) daxpy(W8[(j * mlen + i) * L + lo] * inv, W[l] + i * len, u, len);
        } else {
          for (idx i = 0; i < len; i++) u[i] = W8[(j * mlen + i) * L + lo] * inv;
        }
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
  // Work per matrix ~ 10 sweeps of c^2 / 2 pairs of ~4 (m + n) multiply-adds each: a batch of tiny
  // matrices stays on the calling thread.
  const idx groups = (batch + kGroup - 1) / kGroup, c = std::min(m, n);
  const double work = 20.0 * static_cast<double>(batch) * static_cast<double>(c * c) * static_cast<double>(m + n);
  parallelFor(groups, work, [&](idx g0, idx g1) {
    for (idx g = g0; g < g1; g++) {
      const idx b = g * kGroup;
      const int lanes = static_cast<int>(std::min<idx>(kGroup, batch - b));
      svdJacobiGroup(A + b * m * n, lanes, m, n, r, U + b * m * r, S + b * r, V + b * n * r);
    }
  });
}

}  // namespace molrg
