// gemm: C [m, n] = alpha op(A) op(B) + beta C, row-major float32 (plain BLAS semantics).
// op(A) [m, k] is A [m, k] or, when transA, A [k, m]; op(B) [k, n] is B [k, n] or, when transB, B [n, k].
//
// Why it looks like this: the GEMM-shaped kernels (project, denoise, lossGrad, nearest) spend almost
// all their time here. Goto-style blocking: a KC x NC block of op(B) is packed into NR-wide panels,
// an MC x KC block of op(A) into MR-tall panels (zero-padded), and an MR x NR register tile is
// accumulated by the micro-kernel (8 f32x4 accumulators in the SIMD build; no FMA in wasm SIMD).
// The B micro-panel (KC * NR * 4 = 8 KB) stays in L1 while the A block (MC * KC * 4) streams from L2.
import { work, SLOT_PACK_A, SLOT_PACK_B, SLOT_TILE } from './scratch';

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 2048;

/** Pack op(B)[pc .. pc+kc, jc .. jc+nc] as NR-wide panels: dst[panel][kk][c], zero beyond nc. */
function packB(transB: bool, B: usize, k: i32, n: i32, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const panel = dst + (<usize>(jr * kc) << 2);
    if (!transB) {
      // op(B)[p, j] = B[p * n + j]: rows of the panel are contiguous in B.
      for (let kk = 0; kk < kc; kk++) {
        const src = B + (<usize>((pc + kk) * n + jc + jr) << 2);
        const out = panel + (<usize>(kk * NR) << 2);
        if (nr == NR) {
          if (ASC_FEATURE_SIMD) {
            v128.store(out, v128.load(src));
            v128.store(out, v128.load(src, 16), 16);
          } else {
            for (let c = 0; c < NR; c++) store<f32>(out + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
          }
        } else {
          for (let c = 0; c < NR; c++) {
            store<f32>(out + (<usize>c << 2), c < nr ? load<f32>(src + (<usize>c << 2)) : 0);
          }
        }
      }
    } else {
      // op(B)[p, j] = B[j * k + p]: each panel column is a contiguous run of B.
      for (let c = 0; c < NR; c++) {
        const out = panel + (<usize>c << 2);
        if (c < nr) {
          const src = B + (<usize>((jc + jr + c) * k + pc) << 2);
          for (let kk = 0; kk < kc; kk++) store<f32>(out + (<usize>(kk * NR) << 2), load<f32>(src + (<usize>kk << 2)));
        } else {
          for (let kk = 0; kk < kc; kk++) store<f32>(out + (<usize>(kk * NR) << 2), 0);
        }
      }
    }
  }
}

/** Pack op(A)[ic .. ic+mc, pc .. pc+kc] as MR-tall panels: dst[panel][kk][r], zero beyond mc. */
function packA(transA: bool, A: usize, m: i32, k: i32, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const panel = dst + (<usize>(ir * kc) << 2);
    if (transA) {
      // op(A)[i, p] = A[p * m + i]: a panel row is contiguous in A.
      for (let kk = 0; kk < kc; kk++) {
        const src = A + (<usize>((pc + kk) * m + ic + ir) << 2);
        const out = panel + (<usize>(kk * MR) << 2);
        if (mr == MR) {
          if (ASC_FEATURE_SIMD) {
            v128.store(out, v128.load(src));
          } else {
            for (let r = 0; r < MR; r++) store<f32>(out + (<usize>r << 2), load<f32>(src + (<usize>r << 2)));
          }
        } else {
          for (let r = 0; r < MR; r++) store<f32>(out + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
        }
      }
    } else {
      // op(A)[i, p] = A[i * k + p]: interleave MR rows.
      for (let r = 0; r < MR; r++) {
        const out = panel + (<usize>r << 2);
        if (r < mr) {
          const src = A + (<usize>((ic + ir + r) * k + pc) << 2);
          for (let kk = 0; kk < kc; kk++) store<f32>(out + (<usize>(kk * MR) << 2), load<f32>(src + (<usize>kk << 2)));
        } else {
          for (let kk = 0; kk < kc; kk++) store<f32>(out + (<usize>(kk * MR) << 2), 0);
        }
      }
    }
  }
}

/** MR x NR tile: dst[r * ldd + c] += alpha * sum_kk ap[kk][r] * bp[kk][c]. */
// @ts-ignore: decorator
@inline
function microKernel(kc: i32, ap: usize, bp: usize, dst: usize, ldd: i32, alpha: f32): void {
  const ld = <usize>ldd << 2;
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    for (let kk = 0; kk < kc; kk++) {
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      let a = v128.load32_splat(ap);
      c00 = f32x4.add(c00, f32x4.mul(a, b0));
      c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(ap, 4);
      c10 = f32x4.add(c10, f32x4.mul(a, b0));
      c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(ap, 8);
      c20 = f32x4.add(c20, f32x4.mul(a, b0));
      c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(ap, 12);
      c30 = f32x4.add(c30, f32x4.mul(a, b0));
      c31 = f32x4.add(c31, f32x4.mul(a, b1));
      ap += 16;
      bp += 32;
    }
    const al = f32x4.splat(alpha);
    let d = dst;
    v128.store(d, f32x4.add(v128.load(d), f32x4.mul(al, c00)));
    v128.store(d, f32x4.add(v128.load(d, 16), f32x4.mul(al, c01)), 16);
    d += ld;
    v128.store(d, f32x4.add(v128.load(d), f32x4.mul(al, c10)));
    v128.store(d, f32x4.add(v128.load(d, 16), f32x4.mul(al, c11)), 16);
    d += ld;
    v128.store(d, f32x4.add(v128.load(d), f32x4.mul(al, c20)));
    v128.store(d, f32x4.add(v128.load(d, 16), f32x4.mul(al, c21)), 16);
    d += ld;
    v128.store(d, f32x4.add(v128.load(d), f32x4.mul(al, c30)));
    v128.store(d, f32x4.add(v128.load(d, 16), f32x4.mul(al, c31)), 16);
  } else {
    // Two 4 x 4 halves keep the 16 scalar accumulators in registers.
    for (let half = 0; half < 2; half++) {
      let a_ = ap;
      let b_ = bp + (<usize>half << 4);
      let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
      let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
      let c20: f32 = 0, c21: f32 = 0, c22: f32 = 0, c23: f32 = 0;
      let c30: f32 = 0, c31: f32 = 0, c32: f32 = 0, c33: f32 = 0;
      for (let kk = 0; kk < kc; kk++) {
        const b0 = load<f32>(b_), b1 = load<f32>(b_, 4), b2 = load<f32>(b_, 8), b3 = load<f32>(b_, 12);
        let a = load<f32>(a_);
        c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
        a = load<f32>(a_, 4);
        c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
        a = load<f32>(a_, 8);
        c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
        a = load<f32>(a_, 12);
        c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
        a_ += 16;
        b_ += 32;
      }
      let d = dst + (<usize>half << 4);
      store<f32>(d, load<f32>(d) + alpha * c00); store<f32>(d, load<f32>(d, 4) + alpha * c01, 4);
      store<f32>(d, load<f32>(d, 8) + alpha * c02, 8); store<f32>(d, load<f32>(d, 12) + alpha * c03, 12);
      d += ld;
      store<f32>(d, load<f32>(d) + alpha * c10); store<f32>(d, load<f32>(d, 4) + alpha * c11, 4);
      store<f32>(d, load<f32>(d, 8) + alpha * c12, 8); store<f32>(d, load<f32>(d, 12) + alpha * c13, 12);
      d += ld;
      store<f32>(d, load<f32>(d) + alpha * c20); store<f32>(d, load<f32>(d, 4) + alpha * c21, 4);
      store<f32>(d, load<f32>(d, 8) + alpha * c22, 8); store<f32>(d, load<f32>(d, 12) + alpha * c23, 12);
      d += ld;
      store<f32>(d, load<f32>(d) + alpha * c30); store<f32>(d, load<f32>(d, 4) + alpha * c31, 4);
      store<f32>(d, load<f32>(d, 8) + alpha * c32, 8); store<f32>(d, load<f32>(d, 12) + alpha * c33, 12);
    }
  }
}

/** C [m, n] *= beta (beta = 0 writes zeros without reading C, so NaN in C does not survive). */
function scale(m: i32, n: i32, beta: f32, C: usize): void {
  const len = <usize>m * <usize>n;
  if (beta == 0) {
    memory.fill(C, 0, len << 2);
  } else if (beta != 1) {
    for (let i: usize = 0; i < len; i++) store<f32>(C + (i << 2), beta * load<f32>(C + (i << 2)));
  }
}

/** C [m, n] = alpha op(A) op(B) + beta C (see the file header). */
export function gemm(transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32, A: usize, B: usize,
                     beta: f32, C: usize): void {
  if (m <= 0 || n <= 0) return;
  scale(m, n, beta, C);
  if (k <= 0 || alpha == 0) return;
  const kcMax = min(KC, k);
  const ncMax = min(NC, (n + NR - 1) / NR * NR);
  const mcMax = min(MC, (m + MR - 1) / MR * MR);
  const bp = work(SLOT_PACK_B, <usize>(kcMax * ncMax) << 2);
  const ap = work(SLOT_PACK_A, <usize>(kcMax * mcMax) << 2);
  const tile = work(SLOT_TILE, <usize>(MR * NR) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(transB, B, k, n, pc, kc, jc, nc, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(transA, A, m, k, ic, mc, pc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpanel = bp + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const apanel = ap + (<usize>(ir * kc) << 2);
            const cptr = C + (<usize>((ic + ir) * n + jc + jr) << 2);
            if (mr == MR && nr == NR) {
              microKernel(kc, apanel, bpanel, cptr, n, alpha);
            } else {
              memory.fill(tile, 0, <usize>(MR * NR) << 2);
              microKernel(kc, apanel, bpanel, tile, NR, alpha);
              for (let r = 0; r < mr; r++) {
                for (let c = 0; c < nr; c++) {
                  const d = cptr + (<usize>(r * n + c) << 2);
                  store<f32>(d, load<f32>(d) + load<f32>(tile + (<usize>(r * NR + c) << 2)));
                }
              }
            }
          }
        }
      }
    }
  }
}
