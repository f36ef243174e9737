// libFuzzer harness: the MoLRG kernels on stacked bases (project, gate, denoise, lossGrad,
// stiefelStep, retract, trainSteps) with fuzz-chosen n, dims, batch, values, prior, ISA and threads.
#include <cmath>
#include <vector>

#include "../native/kernels/model.h"
#include "harness.h"

using fuzz::Array;
using fuzz::idx;
using fuzz::Input;

namespace {

constexpr double kMaxWork = 1 << 20;

/** n and dims [K] as the binding accepts them (K >= 1, 1 <= d_k <= n), bounded work. */
struct Shape {
  idx n;
  std::vector<int32_t> dims;
  Shape(Input& in, idx maxN) : n(in.size(1, maxN)) {
    const idx K = in.size(1, 12);
    for (idx k = 0; k < K; k++) dims.push_back(static_cast<int32_t>(in.range<idx>(1, std::min<idx>(n, 24))));
  }
  molrg::Blocks blocks() const { return molrg::Blocks(n, dims.data(), static_cast<idx>(dims.size())); }
};

/** The prior: finite modes give a proper one (lambda > 0, delta >= 0); the others anything finite where the binding requires it. */
struct PriorArrays {
  Array<double> logPi, lambda;
  molrg::Prior pr;
  PriorArrays(Input& in, idx K) : logPi(K), lambda(K) {
    for (idx k = 0; k < K; k++) {
      logPi[k] = in.finite() ? -in.scalar(0.0f, 5.0f) : in.value();
      lambda[k] = in.finite() ? in.scalar(1e-3f, 10.0f) : in.value();
    }
    float delta = in.finite() ? in.scalar(0.0f, 1.0f) : in.value();
    if (!std::isfinite(delta)) delta = 0.5f;  // the binding rejects a non-finite delta
    pr = {logPi.data(), lambda.data(), delta};
  }
};

/** Per-sample levels s [B], sigma [B]: finite modes in a moderate range. */
Array<float> levels(Input& in, idx B, float lo, float hi) {
  Array<float> a(B);
  for (idx b = 0; b < B; b++) a[b] = in.scalar(lo, hi);
  return a;
}

bool rowsSumToOne(const float* w, idx B, idx K) {
  for (idx b = 0; b < B; b++) {
    double s = 0.0;
    for (idx k = 0; k < K; k++) {
      if (!(w[b * K + k] >= 0.0f && w[b * K + k] <= 1.0f)) return false;
      s += w[b * K + k];
    }
    if (!(std::fabs(s - 1.0) <= 1e-5 * static_cast<double>(K))) return false;
  }
  return true;
}

void project(Input& in) {
  const Shape sh(in, 200);
  const molrg::Blocks bl = sh.blocks();
  const idx B = in.size(0, 300);
  if (static_cast<double>(B) * sh.n * bl.D > kMaxWork) return;
  Array<float> x = in.floats(B * sh.n), U = in.floats(sh.n * bl.D), P(B * bl.D);
  molrg::project(x.data(), B, bl, U.data(), P.data());
  if (in.finite()) FUZZ_CHECK(fuzz::allFinite(P.data(), B * bl.D), "project n=%td D=%td B=%td", sh.n, bl.D, B);
}

void gate(Input& in) {
  const Shape sh(in, 64);
  const molrg::Blocks bl = sh.blocks();
  const idx B = in.size(0, 300);
  if (static_cast<double>(B) * bl.D > kMaxWork) return;
  Array<float> P = in.floats(B * bl.D), w(B * bl.K);
  Array<double> bias = in.doubles(B * bl.K), phi = in.doubles(B * bl.K);
  molrg::gate(P.data(), B, bl, bias.data(), phi.data(), w.data());
  if (in.finite()) FUZZ_CHECK(rowsSumToOne(w.data(), B, bl.K), "gate K=%td D=%td B=%td: weights not a distribution", bl.K, bl.D, B);
}

void denoise(Input& in) {
  const Shape sh(in, 160);
  const molrg::Blocks bl = sh.blocks();
  const idx B = in.size(0, 64);
  if (static_cast<double>(B) * sh.n * bl.D > kMaxWork) return;
  Array<float> x = in.floats(B * sh.n), U = in.floats(sh.n * bl.D), out(B * sh.n);
  const PriorArrays p(in, bl.K);
  Array<float> s = levels(in, B, 0.1f, 2.0f), sigma = levels(in, B, 1e-2f, 100.0f);
  const bool withW = in.flag();
  Array<float> w(withW ? B * bl.K : 0);
  molrg::denoise(x.data(), B, bl, U.data(), p.pr, s.data(), sigma.data(), out.data(), withW ? w.data() : nullptr);
  if (!in.finite()) return;
  FUZZ_CHECK(fuzz::allFinite(out.data(), B * sh.n), "denoise n=%td D=%td K=%td B=%td: non-finite output", sh.n, bl.D, bl.K, B);
  if (withW) FUZZ_CHECK(rowsSumToOne(w.data(), B, bl.K), "denoise n=%td K=%td B=%td: weights", sh.n, bl.K, B);
}

void lossGrad(Input& in) {
  const Shape sh(in, 160);
  const molrg::Blocks bl = sh.blocks();
  const idx B = in.size(0, 64);
  if (static_cast<double>(B) * sh.n * bl.D > kMaxWork) return;
  Array<float> x0 = in.floats(B * sh.n), eps = in.floats(B * sh.n), U = in.floats(sh.n * bl.D), grad(sh.n * bl.D);
  const PriorArrays p(in, bl.K);
  Array<float> s = levels(in, B, 0.1f, 2.0f), sigma = levels(in, B, 1e-2f, 100.0f), weight = levels(in, B, 0.0f, 2.0f);
  const double L = molrg::lossGrad(x0.data(), eps.data(), B, s.data(), sigma.data(), weight.data(), bl, U.data(), p.pr, grad.data());
  if (!in.finite()) return;
  FUZZ_CHECK(std::isfinite(L) && L >= 0.0, "lossGrad n=%td D=%td B=%td: loss %g", sh.n, bl.D, B, L);
  FUZZ_CHECK(fuzz::allFinite(grad.data(), sh.n * bl.D), "lossGrad n=%td D=%td B=%td: non-finite gradient", sh.n, bl.D, B);
}

/** Finite modes: every block of `U [n, D]` orthonormal after the retraction. */
void checkOrthonormal(Input& in, const molrg::Blocks& bl, const float* U, const char* what) {
  if (!in.finite()) return;
  FUZZ_CHECK(fuzz::allFinite(U, bl.n * bl.D), "%s n=%td D=%td: non-finite U", what, bl.n, bl.D);
  for (idx k = 0; k < bl.K; k++) {
    const double e = fuzz::orthonormalityError(U, bl.n, bl.D, bl.off[k], bl.dims[k]);
    FUZZ_CHECK(e <= 1e-4, "%s n=%td d_%td=%td: |U^T U - I| = %g", what, bl.n, k, bl.dims[k], e);
  }
}

void stiefelStep(Input& in) {
  const Shape sh(in, 200);
  const molrg::Blocks bl = sh.blocks();
  const idx nD = sh.n * bl.D;
  Array<float> U = in.floats(nD), G = in.floats(nD), m = in.floats(nD), v = in.floats(nD);
  if (in.finite()) {
    for (idx i = 0; i < nD; i++) v[i] = std::fabs(v[i]);  // Adam's second moment
  }
  molrg::StiefelOptions o;
  o.adam = in.flag();
  o.polar = in.flag();
  auto finiteOr = [](float x, double fallback) { return std::isfinite(x) ? static_cast<double>(x) : fallback; };
  o.lr = finiteOr(in.scalar(1e-4f, 1.0f), 1e-2);
  o.momentum = finiteOr(in.scalar(0.0f, 0.99f), 0.9);
  o.beta1 = finiteOr(in.scalar(0.0f, 0.99f), 0.9);
  o.beta2 = finiteOr(in.scalar(0.5f, 0.9999f), 0.999);
  o.eps = finiteOr(in.scalar(1e-8f, 1e-3f), 1e-8);
  const double t = static_cast<double>(in.range<int64_t>(1, (int64_t{1} << 53) - 1));
  molrg::stiefelStep(bl, U.data(), G.data(), m.data(), v.data(), t, o);
  checkOrthonormal(in, bl, U.data(), "stiefelStep");
}

/**
 * trainSteps: fuzz-chosen indices into the data (in [0, N), as the binding guarantees), the noise
 * drawn by the kernel (on a helper thread when the settings give the pool two or three) or given.
 */
void trainSteps(Input& in) {
  const Shape sh(in, 64);
  const molrg::Blocks bl = sh.blocks();
  const idx B = in.size(0, 16), T = in.size(0, 8), N = in.size(1, 24), nD = sh.n * bl.D;
  if (static_cast<double>(T) * B * sh.n * bl.D > kMaxWork) return;
  Array<float> X = in.floats(N * sh.n), U = in.floats(nD), G(nD), m = in.floats(nD), v = in.floats(nD);
  for (idx i = 0; i < nD; i++) v[i] = std::fabs(v[i]);  // Adam's second moment
  Array<int32_t> index(T * B);
  for (idx j = 0; j < T * B; j++) index[j] = static_cast<int32_t>(in.range<idx>(0, N - 1));
  const bool given = in.flag();
  Array<float> eps = in.floats(given ? T * B * sh.n : 0);
  const molrg::TrainDraws d{X.data(), index.data(), given ? eps.data() : nullptr, in.range<uint64_t>(0, 1000),
                            in.range<uint32_t>(0, 7), in.range<uint64_t>(0, uint64_t{1} << 40)};
  const PriorArrays p(in, bl.K);
  Array<float> s = levels(in, T * B, 0.1f, 2.0f), sigma = levels(in, T * B, 1e-2f, 100.0f), weight = levels(in, T * B, 0.0f, 2.0f);
  molrg::StiefelOptions o{in.flag(), 0.0, 0.9, 0.9, 0.999, 1e-8, in.flag()};
  Array<double> lr(T), losses(T);
  for (idx t = 0; t < T; t++) lr[t] = in.flag() ? 1e-2 : 0.0;
  const idx done = molrg::trainSteps(d, B, T, s.data(), sigma.data(), weight.data(), bl, U.data(), p.pr, G.data(), m.data(),
                                     v.data(), 0.0, o, lr.data(), losses.data());
  FUZZ_CHECK(done >= 0 && done <= T, "trainSteps T=%td: returned %td", T, done);
  if (!in.finite()) return;
  FUZZ_CHECK(done == T, "trainSteps n=%td D=%td B=%td T=%td: stopped at step %td (loss %g)", sh.n, bl.D, B, T, done, losses[done]);
}

void retract(Input& in) {
  const Shape sh(in, 200);
  const molrg::Blocks bl = sh.blocks();
  Array<float> U = in.floats(sh.n * bl.D);
  molrg::retract(bl, U.data(), in.flag());
  checkOrthonormal(in, bl, U.data(), "retract");
}

const char* const kNames[] = {"project", "gate", "denoise", "lossGrad", "stiefelStep", "retract", "trainSteps"};
void (*const kTargets[])(Input&) = {project, gate, denoise, lossGrad, stiefelStep, retract, trainSteps};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::dispatch(data, size, kNames, kTargets);
}
