// libFuzzer harness: philox and the streams (randomU32, normals, uniforms) with fuzz-chosen counts,
// seeds, streams and offsets (including offsets near 2^53 and block indices past 2^32).
#include <cmath>

#include "../native/kernels/philox.h"
#include "harness.h"

using fuzz::Array;
using fuzz::idx;
using fuzz::Input;

namespace {

constexpr uint64_t kMaxSafe = (uint64_t{1} << 53) - 1;

struct Stream {
  idx count;
  uint64_t seed, offset;
  uint32_t stream;
  explicit Stream(Input& in)
      : count(in.size(0, 20000)),
        seed(in.range<uint64_t>(0, kMaxSafe)),
        offset(in.flag() ? in.range<uint64_t>(0, kMaxSafe)
                         : in.range<uint64_t>(0, 1 << 20)),
        stream(in.range<uint32_t>(0, UINT32_MAX)) {}
};

void philox(Input& in) {
  const idx M = in.size(0, 4096);
  Array<uint32_t> counters(4 * M), out(4 * M);
  for (idx i = 0; i < 4 * M; i++) counters[i] = in.range<uint32_t>(0, UINT32_MAX);
  const uint32_t key[2] = {in.range<uint32_t>(0, UINT32_MAX), in.range<uint32_t>(0, UINT32_MAX)};
  molrg::philox(counters.data(), M, key, out.data());
}

// Any window of a stream equals the same slice of a longer window that starts earlier.
void randomU32(Input& in) {
  const Stream st(in);
  const idx lead = std::min<idx>(static_cast<idx>(st.offset), in.size(0, 4096));
  Array<uint32_t> out(st.count), longer(st.count + lead);
  molrg::randomU32(out.data(), st.count, st.seed, st.stream, st.offset);
  molrg::randomU32(longer.data(), st.count + lead, st.seed, st.stream, st.offset - static_cast<uint64_t>(lead));
  for (idx i = 0; i < st.count; i++) {
    FUZZ_CHECK(out[i] == longer[lead + i], "randomU32 offset=%llu count=%td: word %td differs from the longer window",
               static_cast<unsigned long long>(st.offset), st.count, i);
  }
}

void normals(Input& in) {
  const Stream st(in);
  Array<float> out(st.count);
  molrg::normals(out.data(), st.count, st.seed, st.stream, st.offset);
  FUZZ_CHECK(fuzz::allFinite(out.data(), st.count), "normals: non-finite value");
}

// Uniforms are (w + 0.5) / 2^32 of the same words, rounded to float32: in (0, 1].
void uniforms(Input& in) {
  const Stream st(in);
  Array<float> out(st.count);
  Array<uint32_t> words(st.count);
  molrg::uniforms(out.data(), st.count, st.seed, st.stream, st.offset);
  molrg::randomU32(words.data(), st.count, st.seed, st.stream, st.offset);
  for (idx i = 0; i < st.count; i++) {
    const float want = static_cast<float>((static_cast<double>(words[i]) + 0.5) / 4294967296.0);
    FUZZ_CHECK(out[i] == want && out[i] > 0.0f && out[i] <= 1.0f, "uniforms: element %td is %g, want %g", i, out[i], want);
  }
}

const char* const kNames[] = {"philox", "randomU32", "normals", "uniforms"};
void (*const kTargets[])(Input&) = {philox, randomU32, normals, uniforms};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::dispatch(data, size, kNames, kTargets);
}
