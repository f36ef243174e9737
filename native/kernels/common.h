// Shared definitions of the native kernels: index type, instruction-set dispatch, multi-versioning.
//
// The kernels are plain C++17 (no N-API). Vector code is compiled per function for three instruction
// sets (baseline x86-64 / any other CPU, AVX2+FMA, AVX-512) with `__attribute__((target))`, never with
// `-march=native`; one variant is chosen at load time from CPUID + XGETBV (isa.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace molrg {

/** Signed index type of every kernel loop (sizes are validated by the binding). */
using idx = std::ptrdiff_t;

/** Instruction-set levels, ordered. */
enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2 };

/** Name used by the binding and MOLRG_MAX_ISA: "scalar", "avx2", "avx512". */
const char* isaName(Isa isa);
/** Parse an ISA name; false when unknown. */
bool parseIsa(const std::string& name, Isa* out);
/** ISAs this CPU and OS support, capped by MOLRG_MAX_ISA, ascending. */
const std::vector<Isa>& availableIsas();
/** The ISA in use (the best available at load, unless changed by setIsa). */
Isa currentIsa();
/** Switch the ISA in use; false (and no change) when it is not available. */
bool setIsa(Isa isa);

}  // namespace molrg

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define MOLRG_X86 1
#define MOLRG_AVX2 __attribute__((target("avx2,fma")))
#if defined(__clang__)
// clang rejects `prefer-vector-width` in a target attribute (and would then drop the whole attribute).
#define MOLRG_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#else
#define MOLRG_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")))
#endif
#else
#define MOLRG_X86 0
#endif

#define MOLRG_INLINE inline __attribute__((always_inline))

/**
 * Runtime dispatch between three compilations of one body: defines `name` that calls `onScalar`,
 * `onAvx2` or `onAvx512` (always-inline bodies, each compiled with that ISA's target attribute) for the
 * ISA in use. Off x86 only the scalar body exists.
 */
#if MOLRG_X86
#define MOLRG_DISPATCH(ret, name, params, args, onScalar, onAvx2, onAvx512) \
  static ret name##_scalar params { return onScalar args; }              \
  MOLRG_AVX2 static ret name##_avx2 params { return onAvx2 args; }       \
  MOLRG_AVX512 static ret name##_avx512 params { return onAvx512 args; } \
  ret name params {                                                    \
    switch (::molrg::currentIsa()) {                                   \
      case ::molrg::Isa::avx512: return name##_avx512 args;            \
      case ::molrg::Isa::avx2: return name##_avx2 args;                \
      default: return name##_scalar args;                              \
    }                                                                  \
  }
#else
#define MOLRG_DISPATCH(ret, name, params, args, onScalar, onAvx2, onAvx512) \
  ret name params { return onScalar args; }
#endif

/**
 * Multi-versioning of a plain loop body: `MOLRG_MULTIVERSION(ret, name, (params), (args))` expects an
 * always-inline `name##_body` (the compiler vectorises the inlined body with each ISA's registers).
 */
#define MOLRG_MULTIVERSION(ret, name, params, args) \
  MOLRG_DISPATCH(ret, name, params, args, name##_body, name##_body, name##_body)

/**
 * The same, for a body templated on the number of doubles per vector register (2 baseline, 4 AVX2,
 * 8 AVX-512): `name##_body<W>`.
 */
#define MOLRG_MULTIVERSION_W(ret, name, params, args) \
  MOLRG_DISPATCH(ret, name, params, args, name##_body<2>, name##_body<4>, name##_body<8>)
