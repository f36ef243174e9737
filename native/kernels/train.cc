// T training steps in one call (SPEC section 4; docs/kernels.md "trainSteps"). At small sizes (n = 48,
// B = 128) a lossGrad and a stiefelStep take ~35 us together, and crossing into the addon twice per
// step with 13- and 14-argument calls cost as much again (docs/performance.md): the trainer hands over
// the draws of many steps at once instead.
#include <algorithm>
#include <cmath>

#include "model.h"

namespace molrg {

namespace {

// True when every entry is finite: x * 0 is 0 for finite x and NaN for +-Inf and NaN.
bool allFinite(const float* x, idx len) {
  float acc = 0.0f;
  for (idx i = 0; i < len; i++) acc += x[i] * 0.0f;
  return acc == 0.0f;
}

}  // namespace

idx trainSteps(const float* x0, const float* eps, idx B, idx T, const float* s, const float* sigma,
               const float* weight, const Blocks& bl, float* U, const Prior& pr, float* G, float* m, float* v,
               double t, StiefelOptions o, const double* lr, double* losses) {
  const idx n = bl.n;
  for (idx step = 0; step < T; step++) {
    const idx first = step * B;
    losses[step] = lossGrad(x0 + first * n, eps + first * n, B, s + first, sigma + first, weight + first, bl, U,
                            pr, G);
    if (!std::isfinite(losses[step]) || !allFinite(G, n * bl.D)) return step;
    if (lr[step] > 0.0) {
      if (o.adam) t += 1.0;
      o.lr = lr[step];
      stiefelStep(bl, U, G, m, v, o.adam ? t : std::max(t, 1.0), o);
    }
  }
  return T;
}

}  // namespace molrg
