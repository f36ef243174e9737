// Instruction-set detection: CPUID feature bits plus the register state the OS saves (XGETBV), so
// that AVX/AVX-512 code is only chosen where the kernel actually preserves YMM/ZMM registers.
#include <atomic>
#include <cstdlib>

#include "common.h"

#if MOLRG_X86
#include <cpuid.h>
#endif

namespace molrg {

namespace {

#if MOLRG_X86
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

Isa detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::scalar;
  const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !avx) return Isa::scalar;
  const uint64_t xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6) return Isa::scalar;  // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::scalar;
  const bool avx2 = (b >> 5) & 1;
  if (!avx2 || !fma) return Isa::scalar;
  const bool f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
  if (f && dq && bw && vl && (xcr0 & 0xE0) == 0xE0) return Isa::avx512;  // opmask, ZMM_Hi256, Hi16_ZMM
  return Isa::avx2;
}
#else
Isa detect() { return Isa::scalar; }
#endif

std::vector<Isa> computeAvailable() {
  Isa best = detect();
  if (const char* cap = std::getenv("MOLRG_MAX_ISA")) {
    Isa c;
    if (parseIsa(cap, &c) && c < best) best = c;
  }
  std::vector<Isa> out;
  for (int i = 0; i <= static_cast<int>(best); i++) out.push_back(static_cast<Isa>(i));
  return out;
}

std::atomic<int>& current() {
  static std::atomic<int> isa{static_cast<int>(availableIsas().back())};
  return isa;
}

}  // namespace

const char* isaName(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "scalar";
  }
}

bool parseIsa(const std::string& name, Isa* out) {
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (name == isaName(i)) {
      *out = i;
      return true;
    }
  }
  return false;
}

const std::vector<Isa>& availableIsas() {
  static const std::vector<Isa> list = computeAvailable();
  return list;
}

Isa currentIsa() { return static_cast<Isa>(current().load(std::memory_order_relaxed)); }

bool setIsa(Isa isa) {
  for (Isa a : availableIsas()) {
    if (a == isa) {
      current().store(static_cast<int>(isa));
      return true;
    }
  }
  return false;
}

}  // namespace molrg
