#include "philox.h"

#include <algorithm>
#include <cmath>

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

// Block b of stream (seed, stream): counter (b mod 2^32, floor(b / 2^32), stream, 0).
inline void streamBlock(uint64_t seed, uint32_t stream, uint64_t b, uint32_t out[4]) {
  const uint32_t ctr[4] = {static_cast<uint32_t>(b), static_cast<uint32_t>(b >> 32), stream, 0};
  block(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), out);
}

// Box-Muller in float64 on one pair of words.
inline void boxMuller(uint32_t a, uint32_t b, float* z0, float* z1) {
  const double twoPow32 = 4294967296.0, twoPi = 6.283185307179586;
  const double u1 = (static_cast<double>(a) + 1.0) / twoPow32, u2 = static_cast<double>(b) / twoPow32;
  const double r = std::sqrt(-2.0 * std::log(u1));
  *z0 = static_cast<float>(r * std::cos(twoPi * u2));
  *z1 = static_cast<float>(r * std::sin(twoPi * u2));
}

// Calls emit(i, word) for every stream word i in [offset, offset + count), in parallel over blocks.
template <class Emit>
void forEachWord(idx count, uint64_t seed, uint32_t stream, uint64_t offset, const Emit& emit) {
  const idx chunk = 4096;
  parallelFor((count + chunk - 1) / chunk, [&](idx c0, idx c1) {
    for (idx i = c0 * chunk, end = std::min<idx>(count, c1 * chunk); i < end;) {
      const uint64_t w = offset + static_cast<uint64_t>(i);
      uint32_t words[4];
      streamBlock(seed, stream, w >> 2, words);
      for (uint64_t j = w & 3; j < 4 && i < end; j++, i++) emit(i, words[j]);
    }
  });
}

}  // namespace

void philox(const uint32_t* counters, idx M, const uint32_t key[2], uint32_t* out) {
  for (idx i = 0; i < M; i++) block(counters + 4 * i, key[0], key[1], out + 4 * i);
}

void randomU32(uint32_t* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset) {
  forEachWord(count, seed, stream, offset, [&](idx i, uint32_t w) { out[i] = w; });
}

void uniforms(float* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset) {
  forEachWord(count, seed, stream, offset, [&](idx i, uint32_t w) {
    out[i] = static_cast<float>((static_cast<double>(w) + 0.5) / 4294967296.0);
  });
}

void normals(float* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset) {
  // Element i pairs the words (2 floor(i/2), 2 floor(i/2) + 1) of its block.
  const idx chunk = 2048;
  parallelFor((count + chunk - 1) / chunk, [&](idx c0, idx c1) {
    const idx end = std::min<idx>(count, c1 * chunk);
    for (idx i = c0 * chunk; i < end;) {
      const uint64_t e = offset + static_cast<uint64_t>(i);
      uint32_t words[4];
      streamBlock(seed, stream, e >> 2, words);
      const uint64_t pair = (e & 3) >> 1;
      float z[2];
      boxMuller(words[2 * pair], words[2 * pair + 1], &z[0], &z[1]);
      for (uint64_t j = e & 1; j < 2 && i < end; j++, i++) out[i] = z[j];
      if (pair == 0 && i < end) {
        boxMuller(words[2], words[3], &z[0], &z[1]);
        for (int j = 0; j < 2 && i < end; j++, i++) out[i] = z[j];
      }
    }
  });
}

}  // namespace molrg
