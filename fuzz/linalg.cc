// libFuzzer harness: gemm, svd, eigh, nearest with fuzz-chosen shapes, values, ISA and threads.
#include <algorithm>
#include <limits>

#include "../native/kernels/eigh.h"
#include "../native/kernels/gemm.h"
#include "../native/kernels/nearest.h"
#include "../native/kernels/svd.h"
#include "harness.h"

using fuzz::Array;
using fuzz::idx;
using fuzz::Input;

namespace {

// Shapes reach the kernels' block sizes (GEMM KC = 256 and the parallel threshold 2^18 m n k, the
// randomized SVD route at min(m, n) >= 64, nearest's 1024-reference blocks) with bounded work.
constexpr double kMaxWork = 1 << 21;

void gemm(Input& in) {
  const bool tA = in.flag(), tB = in.flag();
  const idx m = in.size(0, 300), n = in.size(0, 300), k = in.size(0, 600);
  if (static_cast<double>(m) * n * k > kMaxWork) return;
  const float alphas[] = {1.0f, -1.0f, 2.0f, 0.5f, 0.0f};
  const float alpha = in.finite() ? alphas[in.range<int>(0, 4)] : in.value();
  const float beta = in.finite() ? alphas[in.range<int>(0, 4)] : in.value();
  Array<float> A = in.floats(m * k), B = in.floats(k * n), C = in.floats(m * n);
  // beta = 0 must not read C: poison it.
  if (beta == 0.0f) {
    for (idx i = 0; i < m * n; i++) C[i] = NAN;
  }
  Array<float> C0(m * n);
  for (idx i = 0; i < m * n; i++) C0[i] = C[i];
  molrg::sgemm(tA, tB, m, n, k, alpha, A.data(), tA ? m : k, B.data(), tB ? k : n, beta, C.data(), n);
  if (in.mode() != fuzz::Mode::ternary) {
    if (in.finite()) FUZZ_CHECK(fuzz::allFinite(C.data(), m * n), "gemm m=%td n=%td k=%td", m, n, k);
    return;
  }
  // Integer data: every partial sum is an exact small integer, so the result is exact in any order.
  for (idx i = 0; i < m; i++) {
    for (idx j = 0; j < n; j++) {
      double s = 0.0;
      for (idx p = 0; p < k; p++) s += static_cast<double>(tA ? A[p * m + i] : A[i * k + p]) * (tB ? B[j * k + p] : B[p * n + j]);
      const double want = alpha * s + (beta == 0.0f ? 0.0 : beta * static_cast<double>(C0[i * n + j]));
      FUZZ_CHECK(C[i * n + j] == static_cast<float>(want), "gemm tA=%d tB=%d m=%td n=%td k=%td alpha=%g beta=%g: C[%td, %td] = %g, want %g",
                 tA, tB, m, n, k, alpha, beta, i, j, C[i * n + j], want);
    }
  }
}

/** Unit columns (within tol) of row-major `Q [rows, cols]`. */
bool unitColumns(const float* Q, idx rows, idx cols, double tol) {
  for (idx j = 0; j < cols; j++) {
    double s = 0.0;
    for (idx i = 0; i < rows; i++) s += static_cast<double>(Q[i * cols + j]) * Q[i * cols + j];
    if (!(std::fabs(s - 1.0) <= tol)) return false;
  }
  return true;
}

void svd(Input& in) {
  // A quarter of the inputs are large with few triplets: the randomized route (min(m, n) >= 64, 4 r <= min(m, n)).
  const bool large = in.range<int>(0, 3) == 0;
  const idx batch = large ? in.range<idx>(0, 1) : in.size(0, 10), m = large ? in.range<idx>(64, 100) : in.size(1, 96),
            n = large ? in.range<idx>(64, 100) : in.size(1, 96);
  const idx r = in.range<idx>(1, large ? std::min(m, n) / 4 : std::min(m, n));
  if (static_cast<double>(batch) * m * n * std::min(m, n) > kMaxWork / 2) return;
  Array<float> A = in.floats(batch * m * n), U(batch * m * r), S(batch * r), V(batch * n * r);
  molrg::svdBatched(A.data(), batch, m, n, r, U.data(), S.data(), V.data());
  if (!in.finite()) return;
  for (idx b = 0; b < batch; b++) {
    const float* s = S.data() + b * r;
    for (idx j = 0; j < r; j++) {
      FUZZ_CHECK(std::isfinite(s[j]) && s[j] >= 0.0f && (j == 0 || s[j] <= s[j - 1]), "svd m=%td n=%td r=%td: S[%td] = %g", m, n, r, j, s[j]);
    }
    FUZZ_CHECK(unitColumns(U.data() + b * m * r, m, r, 1e-3) && unitColumns(V.data() + b * n * r, n, r, 1e-3),
               "svd m=%td n=%td r=%td: singular vectors not of unit norm", m, n, r);
  }
}

void eigh(Input& in) {
  const idx batch = in.size(0, 10), n = in.size(1, 96);
  if (static_cast<double>(batch) * n * n * n > kMaxWork / 8) return;
  Array<float> A = in.floats(batch * n * n), values(batch * n), vectors(batch * n * n);
  molrg::eighBatched(A.data(), batch, n, values.data(), vectors.data());
  if (!in.finite()) return;
  for (idx b = 0; b < batch; b++) {
    const float* v = values.data() + b * n;
    for (idx j = 0; j < n; j++) {
      FUZZ_CHECK(std::isfinite(v[j]) && (j == 0 || v[j] <= v[j - 1]), "eigh n=%td: values[%td] = %g", n, j, v[j]);
    }
    FUZZ_CHECK(unitColumns(vectors.data() + b * n * n, n, n, 1e-3), "eigh n=%td: eigenvectors not of unit norm", n);
  }
}

void nearest(Input& in) {
  const idx M = in.size(0, 200), N = in.size(1, 2100), n = in.size(1, 64);
  if (static_cast<double>(M) * N * n > kMaxWork) return;
  Array<float> q = in.floats(M * n), refs = in.floats(N * n), dist(M);
  Array<int32_t> index(M);
  molrg::nearest(q.data(), M, refs.data(), N, n, index.data(), dist.data());
  for (idx i = 0; i < M; i++) {
    FUZZ_CHECK(index[i] >= 0 && index[i] < N, "nearest M=%td N=%td n=%td: index[%td] = %d", M, N, n, i, index[i]);
    if (!in.finite()) continue;
    // The exact answer: lowest index of the smallest float64 distance (the kernel's own formula).
    idx best = 0;
    double bestD = std::numeric_limits<double>::infinity();
    for (idx r = 0; r < N; r++) {
      double s = 0.0;
      for (idx j = 0; j < n; j++) {
        const double d = static_cast<double>(q[i * n + j]) - refs[r * n + j];
        s += d * d;
      }
      if (s < bestD) {
        bestD = s;
        best = r;
      }
    }
    FUZZ_CHECK(index[i] == best && dist[i] == static_cast<float>(std::sqrt(bestD)),
               "nearest M=%td N=%td n=%td: query %td -> %d (%g), brute force %td (%g)", M, N, n, i, index[i], dist[i], best,
               std::sqrt(bestD));
  }
}

const char* const kNames[] = {"gemm", "svd", "eigh", "nearest"};
void (*const kTargets[])(Input&) = {gemm, svd, eigh, nearest};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::dispatch(data, size, kNames, kTargets);
}
