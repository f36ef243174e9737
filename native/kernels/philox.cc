#include "philox.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "parallel.h"

namespace molrg {

namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

// Ten rounds, key bumped between rounds (Random123).
inline void block(const uint32_t in[4], uint32_t k0, uint32_t k1, uint32_t out[4]) {
  uint32_t c0 = in[0], c1 = in[1], c2 = in[2], c3 = in[3];
  for (int round = 0; round < 10; round++) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0, p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// The streams are computed in groups of G consecutive blocks (4 G words), the same code for every
// window of a stream, so a word or normal never depends on where a call starts or ends.
constexpr int G = 16;

// Blocks g G .. g G + G - 1 of (seed, stream), structure of arrays: w[j][l] = word j of block g G + l.
MOLRG_INLINE void groupWords(uint64_t seed, uint32_t stream, uint64_t g, uint32_t w[4][G]) {
  uint32_t c0[G], c1[G], c2[G], c3[G];
  for (int l = 0; l < G; l++) {
    const uint64_t b = g * G + static_cast<uint64_t>(l);
    c0[l] = static_cast<uint32_t>(b);
    c1[l] = static_cast<uint32_t>(b >> 32);
    c2[l] = stream;
    c3[l] = 0;
  }
  const uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int l = 0; l < G; l++) {
    uint32_t x0 = c0[l], x1 = c1[l], x2 = c2[l], x3 = c3[l];
#pragma GCC unroll 10
    for (int round = 0; round < 10; round++) {
      const uint64_t p0 = static_cast<uint64_t>(kM0) * x0, p1 = static_cast<uint64_t>(kM1) * x2;
      const uint32_t r0 = static_cast<uint32_t>(round);
      x0 = static_cast<uint32_t>(p1 >> 32) ^ x1 ^ (k0 + r0 * kW0);
      x2 = static_cast<uint32_t>(p0 >> 32) ^ x3 ^ (k1 + r0 * kW1);
      x1 = static_cast<uint32_t>(p1);
      x3 = static_cast<uint32_t>(p0);
    }
    c0[l] = x0;
    c1[l] = x1;
    c2[l] = x2;
    c3[l] = x3;
  }
  std::memcpy(w[0], c0, sizeof(c0));
  std::memcpy(w[1], c1, sizeof(c1));
  std::memcpy(w[2], c2, sizeof(c2));
  std::memcpy(w[3], c3, sizeof(c3));
}

MOLRG_INLINE double bitsToDouble(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

MOLRG_INLINE uint64_t doubleToBits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

// cond ? a : b through bit masks (if-converted on every ISA, so the loops vectorise).
MOLRG_INLINE double select(bool cond, double a, double b) {
  const uint64_t m = 0 - static_cast<uint64_t>(cond);
  return bitsToDouble((doubleToBits(a) & m) | (doubleToBits(b) & ~m));
}

// Exact uint32 -> double through the 2^52 exponent (vectorises without an unsigned convert).
MOLRG_INLINE double u32ToDouble(uint32_t a) {
  return bitsToDouble(0x4330000000000000ull | a) - 4503599627370496.0;
}

// Box-Muller in float64 on pairs of words (a, b) (SPEC section 8): r = sqrt(-2 ln u1), u1 =
// (a + 1) / 2^32, angle 2 pi u2, u2 = b / 2^32. ln, cos and sin are polynomial (within a few float64
// ulps of libm, far inside the float32 rounding of the result) so that the loop vectorises:
// ln m = 2 atanh((m - 1) / (m + 1)) on m in [sqrt(1/2), sqrt(2)); sin and cos by Taylor series on
// the Cody-Waite reduction of the same float64 angle libm receives.
MOLRG_INLINE void boxMullerGroup(const uint32_t* a, const uint32_t* b, float* z0, float* z1) {
  const double twoPow32inv = 2.3283064365386963e-10, twoPi = 6.283185307179586;
  const double ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10;
  const double piHalfHi = 1.5707963267948966, piHalfLo = 6.123233995736766e-17, twoOverPi = 0.6366197723675814;
  for (int l = 0; l < G; l++) {
    const double u1 = (u32ToDouble(a[l]) + 1.0) * twoPow32inv;  // in (0, 1], normal
    const uint64_t bits = doubleToBits(u1);
    // u1 = 2^e m with m in [1, 2); then m in [sqrt(1/2), sqrt(2)).
    uint64_t mbits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    double e = bitsToDouble(0x4330000000000000ull | (bits >> 52)) - 4503599627370496.0 - 1023.0;
    double m = bitsToDouble(mbits);
    const bool big = m > 1.4142135623730951;
    m = select(big, 0.5 * m, m);
    e = select(big, e + 1.0, e);
    const double f = (m - 1.0) / (m + 1.0), s = f * f;
    double p = 1.0 / 25.0;
    p = p * s + 1.0 / 23.0;
    p = p * s + 1.0 / 21.0;
    p = p * s + 1.0 / 19.0;
    p = p * s + 1.0 / 17.0;
    p = p * s + 1.0 / 15.0;
    p = p * s + 1.0 / 13.0;
    p = p * s + 1.0 / 11.0;
    p = p * s + 1.0 / 9.0;
    p = p * s + 1.0 / 7.0;
    p = p * s + 1.0 / 5.0;
    p = p * s + 1.0 / 3.0;
    const double lnm = 2.0 * f + 2.0 * f * s * p;
    const double ln = e * ln2Hi + (e * ln2Lo + lnm);
    const double r = std::sqrt(-2.0 * ln);

    const double theta = twoPi * (u32ToDouble(b[l]) * twoPow32inv);
    // Nearest quadrant by the 1.5 * 2^52 rounding trick (theta 2 / pi is in [0, 4]).
    const double qd = (theta * twoOverPi + 6755399441055744.0) - 6755399441055744.0;
    const double x = (theta - qd * piHalfHi) - qd * piHalfLo, x2 = x * x;
    double sp = -1.0 / 1307674368000.0;
    sp = sp * x2 + 1.0 / 6227020800.0;
    sp = sp * x2 - 1.0 / 39916800.0;
    sp = sp * x2 + 1.0 / 362880.0;
    sp = sp * x2 - 1.0 / 5040.0;
    sp = sp * x2 + 1.0 / 120.0;
    sp = sp * x2 - 1.0 / 6.0;
    const double sn = x + x * x2 * sp;
    double cp = 1.0 / 20922789888000.0;
    cp = cp * x2 - 1.0 / 87178291200.0;
    cp = cp * x2 + 1.0 / 479001600.0;
    cp = cp * x2 - 1.0 / 3628800.0;
    cp = cp * x2 + 1.0 / 40320.0;
    cp = cp * x2 - 1.0 / 720.0;
    cp = cp * x2 + 1.0 / 24.0;
    const double cs = 1.0 - 0.5 * x2 + x2 * x2 * cp;
    // Quadrant q: (cos, sin) of theta = (cs, sn), (-sn, cs), (-cs, -sn), (sn, -cs).
    const bool odd = (qd == 1.0) | (qd == 3.0);
    const double c = select(odd, sn, cs), sv = select(odd, cs, sn);
    const double cosv = select((qd == 1.0) | (qd == 2.0), -c, c), sinv = select((qd == 2.0) | (qd == 3.0), -sv, sv);
    z0[l] = static_cast<float>(r * cosv);
    z1[l] = static_cast<float>(r * sinv);
  }
}

// Group g of the stream: 4 G normals (element 4 l + 2 p + h from the pair p of block g G + l).
MOLRG_INLINE void normalGroup_body(uint64_t seed, uint32_t stream, uint64_t g, float* out) {
  alignas(64) uint32_t w[4][G];
  alignas(64) float z[4][G];
  groupWords(seed, stream, g, w);
  boxMullerGroup(w[0], w[1], z[0], z[1]);
  boxMullerGroup(w[2], w[3], z[2], z[3]);
  for (int l = 0; l < G; l++) {
    for (int j = 0; j < 4; j++) out[4 * l + j] = z[j][l];
  }
}

MOLRG_MULTIVERSION(void, normalGroup, (uint64_t seed, uint32_t stream, uint64_t g, float* out),
                   (seed, stream, g, out))

// Group g of the stream as 4 G words, in stream order.
MOLRG_INLINE void wordGroup_body(uint64_t seed, uint32_t stream, uint64_t g, uint32_t* out) {
  alignas(64) uint32_t w[4][G];
  groupWords(seed, stream, g, w);
  for (int l = 0; l < G; l++) {
    for (int j = 0; j < 4; j++) out[4 * l + j] = w[j][l];
  }
}

MOLRG_MULTIVERSION(void, wordGroup, (uint64_t seed, uint32_t stream, uint64_t g, uint32_t* out),
                   (seed, stream, g, out))

// Elements [offset, offset + count) of a stream whose group g yields 4 G elements through
// make(g, buf): whole groups straight into out, partial ones through a buffer. Parallel over groups
// when the stream is long enough to pay for waking the pool (an element costs a few multiply-adds).
template <class T, class Make>
void forEachGroup(T* out, idx count, uint64_t offset, const Make& make) {
  constexpr idx E = 4 * G;
  if (count <= 0) return;
  const uint64_t g0 = offset / E, g1 = (offset + static_cast<uint64_t>(count) - 1) / E;
  const idx groups = static_cast<idx>(g1 - g0 + 1);
  const auto run = [&](idx a, idx b) {
    alignas(64) T buf[E];
    for (idx gi = a; gi < b; gi++) {
      const uint64_t g = g0 + static_cast<uint64_t>(gi), first = g * E;
      const uint64_t lo = std::max<uint64_t>(first, offset), hi = std::min<uint64_t>(first + E, offset + count);
      T* dst = out + (lo - offset);
      if (lo == first && hi == first + E) {
        make(g, dst);
      } else {
        make(g, buf);
        std::copy(buf + (lo - first), buf + (hi - first), dst);
      }
    }
  };
  parallelFor(groups, 4.0 * static_cast<double>(count), run);
}

}  // namespace

void philox(const uint32_t* counters, idx M, const uint32_t key[2], uint32_t* out) {
  for (idx i = 0; i < M; i++) block(counters + 4 * i, key[0], key[1], out + 4 * i);
}

void randomU32(uint32_t* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset) {
  forEachGroup(out, count, offset, [&](uint64_t g, uint32_t* dst) { wordGroup(seed, stream, g, dst); });
}

void uniforms(float* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset) {
  forEachGroup(out, count, offset, [&](uint64_t g, float* dst) {
    alignas(64) uint32_t w[4 * G];
    wordGroup(seed, stream, g, w);
    for (int i = 0; i < 4 * G; i++) dst[i] = static_cast<float>((static_cast<double>(w[i]) + 0.5) / 4294967296.0);
  });
}

void normals(float* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset) {
  forEachGroup(out, count, offset, [&](uint64_t g, float* dst) { normalGroup(seed, stream, g, dst); });
}

}  // namespace molrg
