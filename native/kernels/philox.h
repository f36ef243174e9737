// Philox4x32-10 counter-based generator and the streams built on it (SPEC section 8).
#pragma once

#include "common.h"

namespace molrg {

/** Philox4x32-10 of M blocks: `counters [M, 4]`, `key [2]` -> `out [M, 4]`. */
void philox(const uint32_t* counters, idx M, const uint32_t key[2], uint32_t* out);

/** Words `offset .. offset + count - 1` of the stream (seed, stream) (docs/kernels.md). */
void randomU32(uint32_t* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset);
/** Box-Muller normals of the same stream, element i from block floor(i / 4). */
void normals(float* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset);
/** Uniforms `(w + 0.5) / 2^32` of the same stream. */
void uniforms(float* out, idx count, uint64_t seed, uint32_t stream, uint64_t offset);

}  // namespace molrg
