// T training steps in one call (SPEC section 4; docs/kernels.md "trainSteps"). At small sizes (n = 48,
// B = 128) a lossGrad and a stiefelStep take ~30 us together, and crossing into the addon twice per
// step with 13- and 14-argument calls cost as much again (docs/performance.md): the trainer hands over
// the draws of many steps at once instead. It hands over sample indices rather than the rows, and a
// noise stream rather than the noise, so that nothing of size T B n is written in JavaScript and read
// back here: the rows are gathered per step, and the noise is drawn here, on a second thread ahead of
// the steps where the steps themselves run on one (the normals cost a third as much as a step).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>

#include "buffer.h"
#include "model.h"
#include "parallel.h"
#include "philox.h"

namespace molrg {

namespace {

// True when every entry is finite: x * 0 is 0 for finite x and NaN for +-Inf and NaN.
bool allFinite(const float* x, idx len) {
  float acc = 0.0f;
  for (idx i = 0; i < len; i++) acc += x[i] * 0.0f;
  return acc == 0.0f;
}

// The noise of the T steps drawn into `eps [T B n]`, step by step, by whichever thread claims a step
// first: the steps (`take`) or a helper running ahead of them (`runAhead`). A step's state goes from
// free to claimed to drawn. `take` never waits: a step the helper is drawing at that moment is drawn
// again into `own [B n]` (the same values), since on a busy machine the helper can lose its core in
// the middle of a step for a whole time slice.
class Noise {
 public:
  Noise(const TrainDraws& d, idx Bn, idx T, float* eps, float* own)
      : d_(d), Bn_(Bn), T_(T), eps_(eps), own_(own), state_(new std::atomic<uint8_t>[static_cast<size_t>(T)]) {
    for (idx t = 0; t < T; t++) state_[t].store(kFree, std::memory_order_relaxed);
  }

  const float* take(idx t) {
    if (claim(t) || state_[t].load(std::memory_order_acquire) == kDrawn) return eps_ + t * Bn_;
    draw(t, own_);
    return own_;
  }

  void runAhead() {
    for (idx t = 0; t < T_ && !stop_.load(std::memory_order_relaxed); t++) claim(t);
  }

  void stop() { stop_.store(true, std::memory_order_relaxed); }

 private:
  static constexpr uint8_t kFree = 0, kClaimed = 1, kDrawn = 2;

  // Draws step t if nobody has claimed it; false when somebody else has.
  bool claim(idx t) {
    uint8_t expected = kFree;
    if (!state_[t].compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel)) return false;
    draw(t, eps_ + t * Bn_);
    state_[t].store(kDrawn, std::memory_order_release);
    return true;
  }

  void draw(idx t, float* out) const {
    normals(out, Bn_, d_.seed, d_.stream, d_.offset + static_cast<uint64_t>(t * Bn_));
  }

  const TrainDraws& d_;
  const idx Bn_, T_;
  float* eps_;
  float* own_;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;
  std::atomic<bool> stop_{false};
};

}  // namespace

idx trainSteps(const TrainDraws& d, idx B, idx T, const float* s, const float* sigma, const float* weight,
               const Blocks& bl, float* U, const Prior& pr, float* G, float* m, float* v, double t, StiefelOptions o,
               const double* lr, double* losses) {
  const idx n = bl.n, Bn = B * n;
  thread_local Workspace<float> rows, drawn;
  float* x0 = d.index ? rows.get(static_cast<size_t>(Bn)) : nullptr;
  std::unique_ptr<Noise> noise;
  if (!d.eps && T > 0 && Bn > 0) {
    float* eps = drawn.get(static_cast<size_t>((T + 1) * Bn));
    noise = std::make_unique<Noise>(d, Bn, T, eps, eps + T * Bn);
  }
  idx done = T;
  const auto steps = [&] {
    for (idx step = 0; step < T; step++) {
      const idx first = step * B;
      const float* x = d.X + first * n;
      if (d.index) {
        for (idx b = 0; b < B; b++) std::memcpy(x0 + b * n, d.X + static_cast<idx>(d.index[first + b]) * n, n * sizeof(float));
        x = x0;
      }
      const float* eps = noise ? noise->take(step) : d.eps + first * n;
      losses[step] = lossGrad(x, eps, B, s + first, sigma + first, weight + first, bl, U, pr, G);
      if (!std::isfinite(losses[step]) || !allFinite(G, n * bl.D)) {
        done = step;
        return;
      }
      if (lr[step] > 0.0) {
        if (o.adam) t += 1.0;
        o.lr = lr[step];
        stiefelStep(bl, U, G, m, v, o.adam ? t : std::max(t, 1.0), o);
      }
    }
  };
  // With the steps on one thread (lossGrad's per-sample path) and a second thread free, that thread
  // draws the noise ahead of the steps; otherwise each step draws its own (in parallel, when lossGrad
  // would be too).
  if (noise && T > 1 && threadCount() > 1 && lossGradSerial(bl, B)) {
    parallelFor(2, [&](idx p0, idx p1) {
      for (idx p = p0; p < p1; p++) {
        if (p == 0) {
          struct Stop {
            Noise& noise;
            ~Stop() { noise.stop(); }
          } stop{*noise};
          steps();
        } else {
          noise->runAhead();
        }
      }
    });
  } else {
    steps();
  }
  return done;
}

}  // namespace molrg
