#include "nearest.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gemm.h"
#include "parallel.h"

namespace molrg {

namespace {

double sqnorm(const float* x, idx n) {
  double s = 0.0;
  for (idx i = 0; i < n; i++) s += static_cast<double>(x[i]) * x[i];
  return s;
}

double sqdist(const float* x, const float* y, idx n) {
  double s = 0.0;
  for (idx i = 0; i < n; i++) {
    const double d = static_cast<double>(x[i]) - y[i];
    s += d * d;
  }
  return s;
}

struct Candidate {
  idx ref;
  double lower;
};

}  // namespace

void nearest(const float* queries, idx M, const float* refs, idx N, idx n, int32_t* index, float* dist) {
  constexpr idx kRefBlock = 1024;
  // |fl(q.r) - q.r| <= gamma_n ||q|| ||r|| for any summation order (Higham); doubled for the
  // float32 rounding of the stored product, plus the float64 norms' own error.
  const double bound = 2.0 * (static_cast<double>(n) + 2.0) * std::ldexp(1.0, -24) / (1.0 - (n + 2) * std::ldexp(1.0, -24));
  std::vector<double> rn(static_cast<size_t>(N));
  parallelFor(N, [&](idx r0, idx r1) {
    for (idx r = r0; r < r1; r++) rn[r] = sqnorm(refs + r * n, n);
  });
  const idx qBlock = std::max<idx>(1, std::min<idx>(128, (M + threadCount() - 1) / threadCount()));
  const idx blocks = (M + qBlock - 1) / qBlock;
  parallelFor(blocks, [&](idx blk0, idx blk1) {
    std::vector<float> dots(static_cast<size_t>(qBlock * kRefBlock));
    std::vector<double> qn(static_cast<size_t>(qBlock)), upper(static_cast<size_t>(qBlock));
    std::vector<std::vector<Candidate>> cand(static_cast<size_t>(qBlock));
    for (idx blk = blk0; blk < blk1; blk++) {
      const idx q0 = blk * qBlock, qb = std::min(qBlock, M - q0);
      for (idx q = 0; q < qb; q++) {
        qn[q] = sqnorm(queries + (q0 + q) * n, n);
        upper[q] = std::numeric_limits<double>::infinity();
        cand[q].clear();
      }
      for (idx r0 = 0; r0 < N; r0 += kRefBlock) {
        const idx rb = std::min(kRefBlock, N - r0);
        sgemm(false, true, qb, rb, n, 1.0f, queries + q0 * n, n, refs + r0 * n, n, 0.0f, dots.data(), rb);
        for (idx q = 0; q < qb; q++) {
          auto& list = cand[q];
          const double before = upper[q];
          for (idx j = 0; j < rb; j++) {
            const double approx = qn[q] + rn[r0 + j] - 2.0 * dots[q * rb + j];
            const double margin = 2.0 * bound * std::sqrt(qn[q] * rn[r0 + j]) + 1e-300;
            const double lo = approx - margin;
            if (lo > upper[q]) continue;
            list.push_back({r0 + j, lo});
            upper[q] = std::min(upper[q], approx + margin);
          }
          if (upper[q] < before) {  // prune candidates that can no longer win
            list.erase(std::remove_if(list.begin(), list.end(), [&](const Candidate& c) { return c.lower > upper[q]; }),
                       list.end());
          }
        }
      }
      for (idx q = 0; q < qb; q++) {
        const float* x = queries + (q0 + q) * n;
        idx best = 0;
        double bestD = std::numeric_limits<double>::infinity();
        for (const Candidate& c : cand[q]) {  // ascending ref index: strict < keeps the lowest on ties
          if (c.lower > upper[q]) continue;
          const double d2 = sqdist(x, refs + c.ref * n, n);
          if (d2 < bestD) {
            bestD = d2;
            best = c.ref;
          }
        }
        index[q0 + q] = static_cast<int32_t>(best);
        dist[q0 + q] = static_cast<float>(std::sqrt(bestD));
      }
    }
  });
}

}  // namespace molrg
