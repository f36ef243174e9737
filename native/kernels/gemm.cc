// Blocked, packed SGEMM in the style of BLIS/GotoBLAS: op(B) is packed into KC x NR slivers (kept in
// L1 by the micro-kernel loop), op(A) into MR x KC slivers (an MC x KC block in L2), and an MR x NR
// register tile accumulates with FMAs. Only the micro-kernel differs per ISA.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "parallel.h"

#if MOLRG_X86
#include <immintrin.h>
#endif

namespace molrg {

namespace {

constexpr idx KC = 256, MC = 120, NC = 2048;  // MC is a multiple of every MR below.
constexpr int kMaxTile = 16 * 32;

using MicroFn = void (*)(idx kc, const float* a, const float* b, float* tile);

struct Micro {
  int mr, nr;
  MicroFn kernel;
};

// Register tile MR x NR over kc steps: tile[i, j] = sum_p a[p, i] b[p, j] (tile row-major, ld = NR).
template <int MR, int NR>
void microScalar(idx kc, const float* a, const float* b, float* tile) {
  float c[MR][NR] = {};
  for (idx p = 0; p < kc; p++, a += MR, b += NR) {
    for (int i = 0; i < MR; i++) {
      for (int j = 0; j < NR; j++) c[i][j] += a[i] * b[j];
    }
  }
  std::memcpy(tile, c, sizeof(c));
}

#if MOLRG_X86
MOLRG_AVX2 void microAvx2(idx kc, const float* a, const float* b, float* tile) {
  constexpr int MR = 6;
  __m256 c[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_ps();
  for (idx p = 0; p < kc; p++, a += MR, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c[i][0] = _mm256_fmadd_ps(ai, b0, c[i][0]);
      c[i][1] = _mm256_fmadd_ps(ai, b1, c[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    _mm256_storeu_ps(tile + 16 * i, c[i][0]);
    _mm256_storeu_ps(tile + 16 * i + 8, c[i][1]);
  }
}

MOLRG_AVX512 void microAvx512(idx kc, const float* a, const float* b, float* tile) {
  constexpr int MR = 12;
  __m512 c[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
  for (idx p = 0; p < kc; p++, a += MR, b += 32) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      c[i][0] = _mm512_fmadd_ps(ai, b0, c[i][0]);
      c[i][1] = _mm512_fmadd_ps(ai, b1, c[i][1]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) {
    _mm512_storeu_ps(tile + 32 * i, c[i][0]);
    _mm512_storeu_ps(tile + 32 * i + 16, c[i][1]);
  }
}
#endif

Micro microFor(Isa isa) {
  switch (isa) {
#if MOLRG_X86
    case Isa::avx512: return {12, 32, microAvx512};
    case Isa::avx2: return {6, 16, microAvx2};
#endif
    default: return {4, 8, microScalar<4, 8>};
  }
}

// A 64-byte aligned scratch buffer per thread, grown on demand.
struct Scratch {
  float* data = nullptr;
  size_t size = 0;
  ~Scratch() { std::free(data); }
  float* get(size_t n) {
    if (n > size) {
      std::free(data);
      data = static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64));
      if (!data) {
        size = 0;
        throw std::bad_alloc();
      }
      size = n;
    }
    return data;
  }
};

struct Operands {
  bool tA, tB;
  idx m, n, k;
  float alpha;
  const float* A;
  idx lda;
  const float* B;
  idx ldb;
  float beta;
  float* C;
  idx ldc;
};

// Rows r0.., k-range p0..p0+kc of op(A) into MR-row slivers (zero padded to MR).
void packA(const Operands& o, idx r0, idx rows, idx p0, idx kc, int mr, float* out) {
  for (idx s = 0; s < rows; s += mr, out += kc * mr) {
    const idx h = std::min<idx>(mr, rows - s);
    if (o.tA) {
      for (idx p = 0; p < kc; p++) {
        const float* src = o.A + (p0 + p) * o.lda + r0 + s;
        float* dst = out + p * mr;
        idx i = 0;
        for (; i < h; i++) dst[i] = src[i];
        for (; i < mr; i++) dst[i] = 0.0f;
      }
    } else {
      // MR row streams read in step, the sliver written contiguously.
      const float* src = o.A + (r0 + s) * o.lda + p0;
      for (idx p = 0; p < kc; p++) {
        float* dst = out + p * mr;
        idx i = 0;
        for (; i < h; i++) dst[i] = src[i * o.lda + p];
        for (; i < mr; i++) dst[i] = 0.0f;
      }
    }
  }
}

// k-range p0..p0+kc, columns c0..c0+cols of op(B) into NR-column slivers (zero padded to NR).
void packB(const Operands& o, idx p0, idx kc, idx c0, idx cols, int nr, float* out) {
  for (idx s = 0; s < cols; s += nr, out += kc * nr) {
    const idx w = std::min<idx>(nr, cols - s);
    if (o.tB) {
      for (idx j = 0; j < w; j++) {
        const float* src = o.B + (c0 + s + j) * o.ldb + p0;
        for (idx p = 0; p < kc; p++) out[p * nr + j] = src[p];
      }
      for (idx j = w; j < nr; j++) {
        for (idx p = 0; p < kc; p++) out[p * nr + j] = 0.0f;
      }
    } else {
      for (idx p = 0; p < kc; p++) {
        const float* src = o.B + (p0 + p) * o.ldb + c0 + s;
        float* dst = out + p * nr;
        idx j = 0;
        for (; j < w; j++) dst[j] = src[j];
        for (; j < nr; j++) dst[j] = 0.0f;
      }
    }
  }
}

// C tile update, the same scalar code for full and edge tiles (so that results do not depend on
// how rows are split between threads).
void update(const Operands& o, const float* tile, int nr, idx r, idx c, idx h, idx w, bool first) {
  for (idx i = 0; i < h; i++) {
    float* dst = o.C + (r + i) * o.ldc + c;
    const float* t = tile + i * nr;
    if (!first) {
      for (idx j = 0; j < w; j++) dst[j] += o.alpha * t[j];
    } else if (o.beta == 0.0f) {
      for (idx j = 0; j < w; j++) dst[j] = o.alpha * t[j];
    } else {
      for (idx j = 0; j < w; j++) dst[j] = o.alpha * t[j] + o.beta * dst[j];
    }
  }
}

void scaleC(const Operands& o, idx r0, idx r1) {
  for (idx i = r0; i < r1; i++) {
    float* dst = o.C + i * o.ldc;
    if (o.beta == 0.0f) {
      std::fill(dst, dst + o.n, 0.0f);
    } else {
      for (idx j = 0; j < o.n; j++) dst[j] *= o.beta;
    }
  }
}

// The serial driver on the output block rows [r0, r1) x columns [c0, c1).
void gemmBlock(const Operands& o, const Micro& mk, idx r0, idx r1, idx c0, idx c1) {
  thread_local Scratch aBuf, bBuf;
  alignas(64) float tile[kMaxTile];
  const int mr = mk.mr, nr = mk.nr;
  for (idx jc = c0; jc < c1; jc += NC) {
    const idx nc = std::min(NC, c1 - jc);
    const idx ncPad = (nc + nr - 1) / nr * nr;
    for (idx pc = 0; pc < o.k; pc += KC) {
      const idx kc = std::min(KC, o.k - pc);
      float* bp = bBuf.get(static_cast<size_t>(kc * ncPad));
      packB(o, pc, kc, jc, nc, nr, bp);
      for (idx ic = r0; ic < r1; ic += MC) {
        const idx mc = std::min(MC, r1 - ic);
        float* ap = aBuf.get(static_cast<size_t>(kc * MC));
        packA(o, ic, mc, pc, kc, mr, ap);
        for (idx jr = 0; jr < nc; jr += nr) {
          const float* bs = bp + (jr / nr) * kc * nr;
          const idx w = std::min<idx>(nr, nc - jr);
          for (idx ir = 0; ir < mc; ir += mr) {
            mk.kernel(kc, ap + (ir / mr) * kc * mr, bs, tile);
            update(o, tile, nr, ic + ir, jc + jr, std::min<idx>(mr, mc - ir), w, pc == 0);
          }
        }
      }
    }
  }
}

}  // namespace

void sgemm(bool tA, bool tB, idx m, idx n, idx k, float alpha, const float* A, idx lda,
           const float* B, idx ldb, float beta, float* C, idx ldc) {
  if (m <= 0 || n <= 0) return;
  const Operands o{tA, tB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc};
  const bool parallel = static_cast<double>(m) * n * k >= 262144.0;
  if (k <= 0 || alpha == 0.0f) {
    if (parallel) {
      parallelFor(m, [&](idx r0, idx r1) { scaleC(o, r0, r1); });
    } else {
      scaleC(o, 0, m);
    }
    return;
  }
  const Micro mk = microFor(currentIsa());
  if (!parallel) {
    gemmBlock(o, mk, 0, m, 0, n);
  } else if (m >= n) {
    const idx units = (m + mk.mr - 1) / mk.mr;
    parallelFor(units, [&](idx u0, idx u1) {
      gemmBlock(o, mk, u0 * mk.mr, std::min(m, u1 * mk.mr), 0, n);
    });
  } else {
    const idx units = (n + mk.nr - 1) / mk.nr;
    parallelFor(units, [&](idx u0, idx u1) {
      gemmBlock(o, mk, 0, m, u0 * mk.nr, std::min(n, u1 * mk.nr));
    });
  }
}

}  // namespace molrg
