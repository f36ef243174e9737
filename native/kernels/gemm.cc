// Blocked SGEMM in the style of BLIS/GotoBLAS: op(B) is packed into KC x NR slivers (kept in L1 by the
// micro-kernel loop), op(A) is read in place in MC x KC blocks (rows of A or of A^T, both contiguous
// along one index; only an edge sliver of fewer than MR rows is packed), and an MR x NR register tile
// accumulates with FMAs and is stored straight into C. Only the micro-kernels differ per ISA.
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

// Where a register tile goes: `dst = alpha acc (+ beta dst)` on the first k-block (beta = 0 does not
// read dst), `dst += alpha acc` on later ones. Products and sums are rounded separately (never fused),
// so the vector stores of full tiles and the scalar `update` of edge tiles give the same bits.
struct Dest {
  float* c;
  idx ldc;
  float alpha, beta;
  bool first;
};

// A register tile MR x NR over kc steps: acc[i, j] = sum_p a(p, i) b[p, j], b packed (NR per step).
// `a` holds MR consecutive entries per step (a(p, i) = a[p lda + i]: a packed sliver, lda = MR, or
// op(A) = A^T read in place) or, with Rows, MR rows of a row-major A read in place (a(p, i) =
// a[i lda + p]): the same products in the same order either way.
using MicroFn = void (*)(idx kc, const float* a, idx lda, const float* b, const Dest& d);

struct Micro {
  int mr, nr;
  MicroFn steps, rows;
};

template <bool Rows>
MOLRG_INLINE const float* aAt(const float* a, idx lda, idx p, int i) {
  return Rows ? a + i * lda + p : a + p * lda + i;
}

template <int MR, int NR, bool Rows>
void microScalar(idx kc, const float* a, idx lda, const float* b, const Dest& d) {
  float c[MR][NR] = {};
  for (idx p = 0; p < kc; p++, b += NR) {
    for (int i = 0; i < MR; i++) {
      const float ai = *aAt<Rows>(a, lda, p, i);
      for (int j = 0; j < NR; j++) c[i][j] += ai * b[j];
    }
  }
  for (int i = 0; i < MR; i++) {
    float* dst = d.c + i * d.ldc;
    for (int j = 0; j < NR; j++) {
      const float t = d.alpha * c[i][j];
      if (!d.first) {
        dst[j] += t;
      } else if (d.beta == 0.0f) {
        dst[j] = t;
      } else {
        const float u = d.beta * dst[j];
        dst[j] = t + u;
      }
    }
  }
}

#if MOLRG_X86
template <bool Rows>
MOLRG_AVX2 void microAvx2(idx kc, const float* a, idx lda, const float* b, const Dest& d) {
  constexpr int MR = 6;
  __m256 c[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_ps();
  for (idx p = 0; p < kc; p++, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256 ai = _mm256_broadcast_ss(aAt<Rows>(a, lda, p, i));
      c[i][0] = _mm256_fmadd_ps(ai, b0, c[i][0]);
      c[i][1] = _mm256_fmadd_ps(ai, b1, c[i][1]);
    }
  }
  const __m256 alpha = _mm256_set1_ps(d.alpha), beta = _mm256_set1_ps(d.beta);
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    float* dst = d.c + i * d.ldc;
    for (int v = 0; v < 2; v++) {
      __m256 t = _mm256_mul_ps(alpha, c[i][v]);
      if (!d.first) {
        t = _mm256_add_ps(_mm256_loadu_ps(dst + 8 * v), t);
      } else if (d.beta != 0.0f) {
        t = _mm256_add_ps(t, _mm256_mul_ps(beta, _mm256_loadu_ps(dst + 8 * v)));
      }
      _mm256_storeu_ps(dst + 8 * v, t);
    }
  }
}

template <bool Rows>
MOLRG_AVX512 void microAvx512(idx kc, const float* a, idx lda, const float* b, const Dest& d) {
  constexpr int MR = 12;
  __m512 c[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
  for (idx p = 0; p < kc; p++, b += 32) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
      const __m512 ai = _mm512_set1_ps(*aAt<Rows>(a, lda, p, i));
      c[i][0] = _mm512_fmadd_ps(ai, b0, c[i][0]);
      c[i][1] = _mm512_fmadd_ps(ai, b1, c[i][1]);
    }
  }
  const __m512 alpha = _mm512_set1_ps(d.alpha), beta = _mm512_set1_ps(d.beta);
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) {
    float* dst = d.c + i * d.ldc;
    for (int v = 0; v < 2; v++) {
      __m512 t = _mm512_mul_ps(alpha, c[i][v]);
      if (!d.first) {
        t = _mm512_add_ps(_mm512_loadu_ps(dst + 16 * v), t);
      } else if (d.beta != 0.0f) {
        t = _mm512_add_ps(t, _mm512_mul_ps(beta, _mm512_loadu_ps(dst + 16 * v)));
      }
      _mm512_storeu_ps(dst + 16 * v, t);
    }
  }
}
#endif

Micro microFor(Isa isa) {
  switch (isa) {
#if MOLRG_X86
    case Isa::avx512: return {12, 32, microAvx512<false>, microAvx512<true>};
    case Isa::avx2: return {6, 16, microAvx2<false>, microAvx2<true>};
#endif
    default: return {4, 8, microScalar<4, 8, false>, microScalar<4, 8, true>};
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

// The edge sliver of op(A), rows r0 .. r0 + h - 1 (h < MR) over the k-range p0 .. p0 + kc, packed and
// zero padded to MR rows (the micro-kernel reads MR rows).
void packEdge(const Operands& o, idx r0, idx h, idx p0, idx kc, int mr, float* out) {
  for (idx p = 0; p < kc; p++) {
    float* dst = out + p * mr;
    for (idx i = 0; i < mr; i++) {
      dst[i] = i >= h ? 0.0f : o.tA ? o.A[(p0 + p) * o.lda + r0 + i] : o.A[(r0 + i) * o.lda + p0 + p];
    }
  }
}

// k-range p0..p0+kc, columns c0..c0+cols of op(B) into NR-column slivers (zero padded to NR).
void packB(const Operands& o, idx p0, idx kc, idx c0, idx cols, int nr, float* out) {
  if (!o.tB) {
    // Row p of B holds step p of every sliver: read it once, contiguously.
    for (idx p = 0; p < kc; p++) {
      const float* src = o.B + (p0 + p) * o.ldb + c0;
      for (idx s = 0; s < cols; s += nr) {
        float* dst = out + s * kc + p * nr;
        const idx w = std::min<idx>(nr, cols - s);
        idx j = 0;
        for (; j < w; j++) dst[j] = src[s + j];
        for (; j < nr; j++) dst[j] = 0.0f;
      }
    }
    return;
  }
  for (idx s = 0; s < cols; s += nr, out += kc * nr) {
    const idx w = std::min<idx>(nr, cols - s);
    for (idx j = 0; j < w; j++) {
      const float* src = o.B + (c0 + s + j) * o.ldb + p0;
      for (idx p = 0; p < kc; p++) out[p * nr + j] = src[p];
    }
    for (idx j = w; j < nr; j++) {
      for (idx p = 0; p < kc; p++) out[p * nr + j] = 0.0f;
    }
  }
}

// Edge tiles: the tile (computed with alpha = 1, beta = 0) into the valid h x w part of C, with the
// roundings of the full-tile stores (Dest).
void update(const Operands& o, const float* tile, int nr, idx r, idx c, idx h, idx w, bool first) {
  for (idx i = 0; i < h; i++) {
    float* dst = o.C + (r + i) * o.ldc + c;
    const float* t = tile + i * nr;
    for (idx j = 0; j < w; j++) {
      const float a = o.alpha * t[j];
      if (!first) {
        dst[j] += a;
      } else if (o.beta == 0.0f) {
        dst[j] = a;
      } else {
        const float b = o.beta * dst[j];
        dst[j] = a + b;
      }
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

// The serial driver on the output block rows [r0, r1) x columns [c0, c1). op(A) is read in place by
// the micro-kernel (rows of A, or rows of A^T); only an edge sliver (fewer than MR rows of op(A)) is
// packed, zero padded. Edge tiles go through `tile` and `update`. `packed`: op(B) packed by packRight
// (then c0 = 0 and c1 = n), else op(B) is packed here one KC x NC panel at a time.
void gemmBlock(const Operands& o, const Micro& mk, idx r0, idx r1, idx c0, idx c1, const float* packed = nullptr) {
  thread_local Scratch aBuf, bBuf;
  alignas(64) float tile[kMaxTile];
  const int mr = mk.mr, nr = mk.nr;
  for (idx jc = c0; jc < c1; jc += NC) {
    const idx nc = std::min(NC, c1 - jc);
    const idx ncPad = (nc + nr - 1) / nr * nr;
    for (idx pc = 0; pc < o.k; pc += KC) {
      const idx kc = std::min(KC, o.k - pc);
      const bool first = pc == 0;
      const float* bp = packed ? packed + jc * o.k + pc * ncPad : nullptr;
      if (!packed) {
        float* buf = bBuf.get(static_cast<size_t>(kc * ncPad));
        packB(o, pc, kc, jc, nc, nr, buf);
        bp = buf;
      }
      for (idx ic = r0; ic < r1; ic += MC) {
        const idx mc = std::min(MC, r1 - ic), full = mc / mr * mr;  // rows read in place
        float* ap = aBuf.get(static_cast<size_t>(kc * mr));
        if (full < mc) packEdge(o, ic + full, mc - full, pc, kc, mr, ap);
        for (idx jr = 0; jr < nc; jr += nr) {
          const float* bs = bp + (jr / nr) * kc * nr;
          const idx w = std::min<idx>(nr, nc - jr);
          for (idx ir = 0; ir < mc; ir += mr) {
            const idx h = std::min<idx>(mr, mc - ir);
            MicroFn kernel = mk.steps;
            const float* as = ap;
            idx lda = mr;
            if (ir < full) {
              kernel = o.tA ? mk.steps : mk.rows;
              as = o.tA ? o.A + pc * o.lda + ic + ir : o.A + (ic + ir) * o.lda + pc;
              lda = o.lda;
            }
            if (h == mr && w == nr) {
              kernel(kc, as, lda, bs, Dest{o.C + (ic + ir) * o.ldc + jc + jr, o.ldc, o.alpha, o.beta, first});
            } else {
              kernel(kc, as, lda, bs, Dest{tile, nr, 1.0f, 0.0f, true});
              update(o, tile, nr, ic + ir, jc + jr, h, w, first);
            }
          }
        }
      }
    }
  }
}

// The right operand's panels in the order gemmBlock uses them: panel (jc, pc) at jc k + pc ncPad.
void packPanels(const Operands& o, int nr, float* out) {
  for (idx jc = 0; jc < o.n; jc += NC) {
    const idx nc = std::min(NC, o.n - jc), ncPad = (nc + nr - 1) / nr * nr;
    for (idx pc = 0; pc < o.k; pc += KC) packB(o, pc, std::min(KC, o.k - pc), jc, nc, nr, out + jc * o.k + pc * ncPad);
  }
}

bool worthThreads(idx m, idx n, idx k) { return static_cast<double>(m) * n * k >= 262144.0; }

// k = 0 or alpha = 0: only C = beta C. Returns whether that was the case.
bool scaleOnly(const Operands& o) {
  if (o.k > 0 && o.alpha != 0.0f) return false;
  if (worthThreads(o.m, o.n, o.k)) {
    parallelFor(o.m, [&](idx r0, idx r1) { scaleC(o, r0, r1); });
  } else {
    scaleC(o, 0, o.m);
  }
  return true;
}

// All of C, split over output rows in MR units (on the pool when `parallel`).
void byRows(const Operands& o, const Micro& mk, bool parallel, const float* packed) {
  const idx units = (o.m + mk.mr - 1) / mk.mr;
  const auto rows = [&](idx u0, idx u1) { gemmBlock(o, mk, u0 * mk.mr, std::min(o.m, u1 * mk.mr), 0, o.n, packed); };
  if (parallel) {
    parallelFor(units, rows);
  } else {
    rows(0, units);
  }
}

}  // namespace

size_t packedRightSize(idx k, idx n) { return static_cast<size_t>(k * ((n + 31) / 32 * 32)); }

PackedRight packRight(bool tB, idx k, idx n, const float* B, idx ldb, float* buf) {
  const PackedRight r{buf, k, n, currentIsa()};
  const Operands o{false, tB, 0, n, k, 1.0f, nullptr, 0, B, ldb, 0.0f, nullptr, 0};
  if (k > 0 && n > 0) packPanels(o, microFor(r.isa).nr, buf);
  return r;
}

void sgemmPacked(bool tA, idx m, float alpha, const float* A, idx lda, const PackedRight& B, float beta, float* C,
                 idx ldc) {
  if (m <= 0 || B.n <= 0) return;
  const Operands o{tA, false, m, B.n, B.k, alpha, A, lda, nullptr, 0, beta, C, ldc};
  if (!scaleOnly(o)) byRows(o, microFor(B.isa), worthThreads(m, B.n, B.k), B.data);
}

void sgemm(bool tA, bool tB, idx m, idx n, idx k, float alpha, const float* A, idx lda,
           const float* B, idx ldb, float beta, float* C, idx ldc) {
  if (m <= 0 || n <= 0) return;
  const Operands o{tA, tB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc};
  if (scaleOnly(o)) return;
  const Micro mk = microFor(currentIsa());
  const bool parallel = worthThreads(m, n, k);
  if (!parallel || m >= n) {
    byRows(o, mk, parallel, nullptr);
  } else {
    const idx units = (n + mk.nr - 1) / mk.nr;
    parallelFor(units, [&](idx u0, idx u1) {
      gemmBlock(o, mk, 0, m, u0 * mk.nr, std::min(n, u1 * mk.nr));
    });
  }
}

}  // namespace molrg
