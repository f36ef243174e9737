#include "eigh.h"

#include <vector>

#include "linalg.h"
#include "parallel.h"

namespace molrg {

void eighBatched(const float* A, idx batch, idx n, float* values, float* vectors) {
  parallelFor(batch, [&](idx b0, idx b1) {
    std::vector<double> S(static_cast<size_t>(n * n)), Vt(static_cast<size_t>(n * n)), w(static_cast<size_t>(n));
    std::vector<idx> order(static_cast<size_t>(n));
    for (idx b = b0; b < b1; b++) {
      const float* a = A + b * n * n;
      for (idx i = 0; i < n; i++) {
        for (idx j = 0; j < n; j++) S[i * n + j] = 0.5 * (static_cast<double>(a[i * n + j]) + a[j * n + i]);
      }
      jacobiEigen(S.data(), n, w.data(), Vt.data());
      orderDescending(w.data(), n, order.data());
      float* val = values + b * n;
      float* vec = vectors + b * n * n;
      for (idx t = 0; t < n; t++) {
        const double* v = Vt.data() + order[t] * n;
        const double sign = needsFlip(v, n) ? -1.0 : 1.0;
        val[t] = static_cast<float>(w[order[t]]);
        for (idx i = 0; i < n; i++) vec[i * n + t] = static_cast<float>(sign * v[i]);
      }
    }
  });
}

}  // namespace molrg
