// Shared parts of the libFuzzer harnesses of native/kernels (fuzz/*.cc): decoding shapes, data and
// settings from the fuzz input, exact-size arrays, and invariant checks.
//
// The harnesses call the kernels the way native/binding.cc does after its checks: every array has
// exactly the length the binding requires (heap-allocated, so AddressSanitizer sees one element past
// the end), a zero-length array is passed as nullptr (as the binding does), sizes lie in the ranges
// the binding accepts. Everything else (values, shapes within those ranges, ISA, thread count) is the
// fuzzer's choice. Checks are invariants of the contract only (docs/kernels.md); a failed check
// aborts, which libFuzzer reports as a crash and saves the input.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "../native/kernels/common.h"
#include "../native/kernels/parallel.h"

namespace fuzz {

using molrg::idx;

#define FUZZ_CHECK(cond, ...)                                                     \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d): ", #cond, __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                                          \
      std::fprintf(stderr, "\n");                                                 \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

/** An array of exactly n elements on the heap; data() is nullptr when n == 0 (as in the binding). */
template <class T>
struct Array {
  explicit Array(idx n_) : n(n_), p(n_ > 0 ? new T[static_cast<size_t>(n_)] : nullptr) {}
  T* data() const { return p.get(); }
  T& operator[](idx i) const { return p[static_cast<size_t>(i)]; }
  idx n;
  std::unique_ptr<T[]> p;
};

/**
 * How array values are drawn. `moderate`: uniform in [-4, 4]; `ternary`: -1, 0 or 1 (exact integer
 * arithmetic, ties, rank deficiency); `raw`: any float32 bit pattern (NaN, Inf, subnormals);
 * `special`: a mix of extreme values. Only the first two promise finite results.
 */
enum class Mode { moderate = 0, ternary = 1, raw = 2, special = 3 };

class Input {
 public:
  Input(const uint8_t* data, size_t size) : fdp_(data, size) {
    mode_ = static_cast<Mode>(fdp_.ConsumeIntegralInRange<int>(0, 3));
    rng_ = fdp_.ConsumeIntegral<uint64_t>() | 1;
  }

  Mode mode() const { return mode_; }
  /** Whether the drawn values are finite and bounded (so finite results are promised). */
  bool finite() const { return mode_ == Mode::moderate || mode_ == Mode::ternary; }

  /**
   * An integer in [lo, hi]: from the fuzz bytes while they last, then from the generator seeded by the
   * input (so that short inputs still reach every shape).
   */
  template <class T>
  T range(T lo, T hi) {
    if (fdp_.remaining_bytes() > 0) return fdp_.ConsumeIntegralInRange<T>(lo, hi);
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    return static_cast<T>(static_cast<uint64_t>(lo) + (span == UINT64_MAX ? next() : next() % (span + 1)));
  }

  /** A size in [lo, hi], small values more likely. */
  idx size(idx lo, idx hi) {
    if (range<int>(0, 3) < 3) return range<idx>(lo, std::min<idx>(hi, lo + 16));
    return range<idx>(lo, hi);
  }

  bool flag() { return range<int>(0, 1) == 1; }

  /** Selects the ISA and thread count the kernels use for this input. */
  void settings() {
    const auto& isas = molrg::availableIsas();
    molrg::setIsa(isas[range<size_t>(0, isas.size() - 1)]);
    molrg::setThreadCount(range<int>(1, 3));
  }

  /** One value of the current mode: fuzz bytes while they last, then a generator seeded by the input. */
  float value() {
    static const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, 1e-45f, -1e-38f, 1e-20f, 3.4e38f, -3.4e38f,
                                     1e19f, INFINITY, -INFINITY, NAN, 1e-6f, 1e6f, 0.5f};
    switch (mode_) {
      case Mode::moderate: return static_cast<float>((next() >> 11) * 0x1.0p-53 * 8.0 - 4.0);
      case Mode::ternary: return static_cast<float>(static_cast<int>(bits() % 3) - 1);
      case Mode::raw: {
        const uint32_t b = bits();
        float f;
        std::memcpy(&f, &b, 4);
        return f;
      }
      default: return specials[bits() % 16];
    }
  }

  /** A float32 array of n values of the current mode. */
  Array<float> floats(idx n) {
    Array<float> a(n);
    for (idx i = 0; i < n; i++) a[i] = value();
    return a;
  }

  /** A float64 array of n values of the current mode (raw mode: float32 values widened). */
  Array<double> doubles(idx n) {
    Array<double> a(n);
    for (idx i = 0; i < n; i++) a[i] = value();
    return a;
  }

  /** A value in [lo, hi] (finite modes) or anything (the others). */
  float scalar(float lo, float hi) {
    if (!finite()) return value();
    return lo + (hi - lo) * static_cast<float>((next() >> 11) * 0x1.0p-53);
  }

 private:
  uint64_t next() {  // xorshift64*
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545F4914F6CDD1Dull;
  }
  uint32_t bits() {
    if (fdp_.remaining_bytes() >= 4) return fdp_.ConsumeIntegral<uint32_t>();
    return static_cast<uint32_t>(next() >> 32);
  }

  FuzzedDataProvider fdp_;
  Mode mode_;
  uint64_t rng_;
};

template <class T>
bool allFinite(const T* a, idx n) {
  for (idx i = 0; i < n; i++) {
    if (!std::isfinite(a[i])) return false;
  }
  return true;
}

/** Max |(Q^T Q - I)_{ij}| over the columns c0 .. c0 + d - 1 of row-major `Q [rows, ld]`. */
inline double orthonormalityError(const float* Q, idx rows, idx ld, idx c0, idx d) {
  double worst = 0.0;
  for (idx a = 0; a < d; a++) {
    for (idx b = a; b < d; b++) {
      double s = 0.0;
      for (idx i = 0; i < rows; i++) s += static_cast<double>(Q[i * ld + c0 + a]) * Q[i * ld + c0 + b];
      worst = std::max(worst, std::fabs(s - (a == b ? 1.0 : 0.0)));
    }
  }
  return worst;
}

/** Per-target execution counts, printed at exit (how often each kernel was reached). */
struct Counts {
  static constexpr int kMax = 16;
  const char* names[kMax] = {};
  long long runs[kMax] = {};
  int n = 0;
  static Counts& get() {
    static Counts c;
    return c;
  }
  static void print() {
    Counts& c = get();
    std::fprintf(stderr, "kernel calls:");
    for (int i = 0; i < c.n; i++) std::fprintf(stderr, " %s=%lld", c.names[i], c.runs[i]);
    std::fprintf(stderr, "\n");
  }
};

/** Dispatches one input to `targets[first byte % count]` and counts it. */
template <size_t N>
int dispatch(const uint8_t* data, size_t size, const char* const (&names)[N], void (*const (&targets)[N])(Input&)) {
  Counts& c = Counts::get();
  if (c.n == 0) {
    c.n = static_cast<int>(N);
    for (size_t i = 0; i < N; i++) c.names[i] = names[i];
    std::atexit(Counts::print);
  }
  if (size < 1) return 0;
  const size_t which = data[0] % N;
  Input in(data + 1, size - 1);
  in.settings();
  targets[which](in);
  c.runs[which]++;
  return 0;
}

}  // namespace fuzz
