// philox: Philox4x32-10 (Salmon et al., SC 2011; Random123) and the streams built on it (SPEC section 8,
// docs/kernels.md): counters [M, 4], key [2] -> words [M, 4]; stream words, Box-Muller normals, uniforms.

const M0: u64 = 0xD2511F53;
const M1: u64 = 0xCD9E8D57;
const W0: u32 = 0x9E3779B9;
const W1: u32 = 0xBB67AE85;
const TWO_PI: f64 = 6.283185307179586;
const INV_2_32: f64 = 1.0 / 4294967296.0;

// The four output words of the last `block` call (static, so no allocation).
const outWords = memory.data(16);

/** Ten Philox rounds of counter (c0, c1, c2, c3) under key (k0, k1); result in `outWords`. */
function block(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  for (let round = 0; round < 10; round++) {
    const p0 = M0 * <u64>c0;
    const p1 = M1 * <u64>c2;
    const hi0 = <u32>(p0 >>> 32), lo0 = <u32>p0;
    const hi1 = <u32>(p1 >>> 32), lo1 = <u32>p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  store<u32>(outWords, c0);
  store<u32>(outWords, c1, 4);
  store<u32>(outWords, c2, 8);
  store<u32>(outWords, c3, 12);
}

/** counters [M, 4], key (k0, k1) -> out [M, 4]. */
export function philox(counters: usize, M: i32, k0: u32, k1: u32, out: usize): void {
  for (let i = 0; i < M; i++) {
    const c = counters + (<usize>i << 4);
    block(load<u32>(c), load<u32>(c, 4), load<u32>(c, 8), load<u32>(c, 12), k0, k1);
    memory.copy(out + (<usize>i << 4), outWords, 16);
  }
}

/** The block with stream counter b: (b mod 2^32, floor(b / 2^32), stream, 0). */
// @ts-ignore: decorator
@inline
function streamBlock(b: u64, stream: u32, k0: u32, k1: u32): void {
  block(<u32>b, <u32>(b >>> 32), stream, 0, k0, k1);
}

/** Words offset .. offset + count - 1 of stream (seed, stream) -> out [count] (u32). */
export function randomU32(out: usize, count: i32, seed: f64, stream: u32, offset: f64): void {
  const key = <u64>seed;
  const k0 = <u32>key, k1 = <u32>(key >>> 32);
  const first = <u64>offset;
  let cached: u64 = <u64>-1;
  for (let i = 0; i < count; i++) {
    const word = first + <u64>i;
    const b = word >>> 2;
    if (b != cached) {
      streamBlock(b, stream, k0, k1);
      cached = b;
    }
    store<u32>(out + (<usize>i << 2), load<u32>(outWords + (<usize>(word & 3) << 2)));
  }
}

/** Uniforms (w + 0.5) / 2^32 of the same stream, element i from word offset + i (converted in place). */
export function uniforms(out: usize, count: i32, seed: f64, stream: u32, offset: f64): void {
  randomU32(out, count, seed, stream, offset);
  for (let i = 0; i < count; i++) {
    const p = out + (<usize>i << 2);
    store<f32>(p, <f32>((<f64>load<u32>(p) + 0.5) * INV_2_32));
  }
}

// The pair of normals of the last `boxMuller` call (globals: AssemblyScript returns one value).
let bm0: f64 = 0, bm1: f64 = 0;

/**
 * Box-Muller in float64 on the words (a, b) (SPEC section 8): r = sqrt(-2 ln u1), u1 = (a + 1) / 2^32,
 * angle 2 pi u2, u2 = b / 2^32, into (bm0, bm1) = r (cos, sin). ln, cos and sin are the polynomials of
 * native/kernels/philox.cc (within a few float64 ulps of libm, far inside the float32 rounding of the
 * result; 4-5x faster here than Math.log / cos / sin): ln m = 2 atanh((m - 1) / (m + 1)) on m in
 * [sqrt(1/2), sqrt(2)); sin and cos by Taylor series on the Cody-Waite reduction of the angle.
 */
// @ts-ignore: decorator
@inline
function boxMuller(a: u32, b: u32): void {
  const u1 = (<f64>a + 1.0) * INV_2_32; // in (0, 1], normal
  const bits = reinterpret<u64>(u1);
  let m = reinterpret<f64>((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000);
  let e = <f64>(<i64>(bits >>> 52)) - 1023.0;
  if (m > 1.4142135623730951) { m *= 0.5; e += 1.0; }
  const f = (m - 1.0) / (m + 1.0), s = f * f;
  let p: f64 = 1.0 / 25.0;
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
  const ln = e * 6.93147180369123816490e-01 + (e * 1.90821492927058770002e-10 + (2.0 * f + 2.0 * f * s * p));
  const r = Math.sqrt(-2.0 * ln);
  const theta = TWO_PI * (<f64>b * INV_2_32);
  // Nearest quadrant by the 1.5 * 2^52 rounding trick (theta 2 / pi is in [0, 4]).
  const qd = (theta * 0.6366197723675814 + 6755399441055744.0) - 6755399441055744.0;
  const x = (theta - qd * 1.5707963267948966) - qd * 6.123233995736766e-17, x2 = x * x;
  let sp: f64 = -1.0 / 1307674368000.0;
  sp = sp * x2 + 1.0 / 6227020800.0;
  sp = sp * x2 - 1.0 / 39916800.0;
  sp = sp * x2 + 1.0 / 362880.0;
  sp = sp * x2 - 1.0 / 5040.0;
  sp = sp * x2 + 1.0 / 120.0;
  sp = sp * x2 - 1.0 / 6.0;
  const sn = x + x * x2 * sp;
  let cp: f64 = 1.0 / 20922789888000.0;
  cp = cp * x2 - 1.0 / 87178291200.0;
  cp = cp * x2 + 1.0 / 479001600.0;
  cp = cp * x2 - 1.0 / 3628800.0;
  cp = cp * x2 + 1.0 / 40320.0;
  cp = cp * x2 - 1.0 / 720.0;
  cp = cp * x2 + 1.0 / 24.0;
  const cs = 1.0 - 0.5 * x2 + x2 * x2 * cp;
  // Quadrant q: (cos, sin) of theta = (cs, sn), (-sn, cs), (-cs, -sn), (sn, -cs).
  const odd = qd == 1.0 || qd == 3.0;
  const c = odd ? sn : cs, sv = odd ? cs : sn;
  bm0 = r * (qd == 1.0 || qd == 2.0 ? -c : c);
  bm1 = r * (qd == 2.0 || qd == 3.0 ? -sv : sv);
}

// r (cos, sin) of the last `boxMullerLanes` call, one f64x2 each.
const bmCos = memory.data(16, 16);
const bmSin = memory.data(16, 16);

/**
 * `boxMuller` on two pairs of words at once, one per f64x2 lane (`a`, `b`: the lanes' first and second
 * words as f64): the same float64 operations in the same order, so the same values; r cos into
 * `bmCos`, r sin into `bmSin`.
 */
// @ts-ignore: decorator
@inline
function boxMullerLanes(a: v128, b: v128): void {
  const one = f64x2.splat(1.0), inv32 = f64x2.splat(INV_2_32);
  const u1 = f64x2.mul(f64x2.add(a, one), inv32);
  let m = v128.or(v128.and(u1, i64x2.splat(0x000FFFFFFFFFFFFF)), i64x2.splat(0x3FF0000000000000));
  // The exponent through the 2^52 trick: (2^52 + biased exponent) - 2^52 - 1023, exact.
  let e = f64x2.sub(v128.or(i64x2.shr_u(u1, 52), i64x2.splat(0x4330000000000000)), f64x2.splat(4503599627371519.0));
  const big = f64x2.gt(m, f64x2.splat(1.4142135623730951));
  m = v128.bitselect(f64x2.mul(m, f64x2.splat(0.5)), m, big);
  e = v128.bitselect(f64x2.add(e, one), e, big);
  const f = f64x2.div(f64x2.sub(m, one), f64x2.add(m, one)), s = f64x2.mul(f, f);
  let p = f64x2.splat(1.0 / 25.0);
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 23.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 21.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 19.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 17.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 15.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 13.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 11.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 9.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 7.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 5.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 3.0));
  const twoF = f64x2.mul(f64x2.splat(2.0), f);
  const lnm = f64x2.add(twoF, f64x2.mul(f64x2.mul(twoF, s), p));
  const ln = f64x2.add(f64x2.mul(e, f64x2.splat(6.93147180369123816490e-01)),
                       f64x2.add(f64x2.mul(e, f64x2.splat(1.90821492927058770002e-10)), lnm));
  const r = f64x2.sqrt(f64x2.mul(f64x2.splat(-2.0), ln));
  const theta = f64x2.mul(f64x2.splat(TWO_PI), f64x2.mul(b, inv32));
  const magic = f64x2.splat(6755399441055744.0);
  const qd = f64x2.sub(f64x2.add(f64x2.mul(theta, f64x2.splat(0.6366197723675814)), magic), magic);
  const x = f64x2.sub(f64x2.sub(theta, f64x2.mul(qd, f64x2.splat(1.5707963267948966))),
                      f64x2.mul(qd, f64x2.splat(6.123233995736766e-17)));
  const x2 = f64x2.mul(x, x);
  let sp = f64x2.splat(-1.0 / 1307674368000.0);
  sp = f64x2.add(f64x2.mul(sp, x2), f64x2.splat(1.0 / 6227020800.0));
  sp = f64x2.sub(f64x2.mul(sp, x2), f64x2.splat(1.0 / 39916800.0));
  sp = f64x2.add(f64x2.mul(sp, x2), f64x2.splat(1.0 / 362880.0));
  sp = f64x2.sub(f64x2.mul(sp, x2), f64x2.splat(1.0 / 5040.0));
  sp = f64x2.add(f64x2.mul(sp, x2), f64x2.splat(1.0 / 120.0));
  sp = f64x2.sub(f64x2.mul(sp, x2), f64x2.splat(1.0 / 6.0));
  const sn = f64x2.add(x, f64x2.mul(f64x2.mul(x, x2), sp));
  let cp = f64x2.splat(1.0 / 20922789888000.0);
  cp = f64x2.sub(f64x2.mul(cp, x2), f64x2.splat(1.0 / 87178291200.0));
  cp = f64x2.add(f64x2.mul(cp, x2), f64x2.splat(1.0 / 479001600.0));
  cp = f64x2.sub(f64x2.mul(cp, x2), f64x2.splat(1.0 / 3628800.0));
  cp = f64x2.add(f64x2.mul(cp, x2), f64x2.splat(1.0 / 40320.0));
  cp = f64x2.sub(f64x2.mul(cp, x2), f64x2.splat(1.0 / 720.0));
  cp = f64x2.add(f64x2.mul(cp, x2), f64x2.splat(1.0 / 24.0));
  const cs = f64x2.add(f64x2.sub(one, f64x2.mul(f64x2.splat(0.5), x2)), f64x2.mul(f64x2.mul(x2, x2), cp));
  const q1 = f64x2.eq(qd, one), q2 = f64x2.eq(qd, f64x2.splat(2.0)), q3 = f64x2.eq(qd, f64x2.splat(3.0));
  const odd = v128.or(q1, q3);
  const c = v128.bitselect(sn, cs, odd), sv = v128.bitselect(cs, sn, odd);
  v128.store(bmCos, f64x2.mul(r, v128.bitselect(f64x2.neg(c), c, v128.or(q1, q2))));
  v128.store(bmSin, f64x2.mul(r, v128.bitselect(f64x2.neg(sv), sv, v128.or(q2, q3))));
}

/**
 * The normals of two blocks (lane l of the f64x2 of words j: word j of block l) into `out`, four per
 * block in block order: (z0, z1) from the words (w0, w1), (z2, z3) from (w2, w3).
 */
// @ts-ignore: decorator
@inline
function twoBlockNormals(w0: v128, w1: v128, w2: v128, w3: v128, out: usize): void {
  boxMullerLanes(w0, w1);
  // [z0 of l = 0, z0 of l = 1, 0, 0] and the same of z1, z2, z3.
  const z0 = f32x4.demote_f64x2_zero(v128.load(bmCos)), z1 = f32x4.demote_f64x2_zero(v128.load(bmSin));
  boxMullerLanes(w2, w3);
  const z2 = f32x4.demote_f64x2_zero(v128.load(bmCos)), z3 = f32x4.demote_f64x2_zero(v128.load(bmSin));
  const t01 = v128.shuffle<f32>(z0, z1, 0, 4, 1, 5), t23 = v128.shuffle<f32>(z2, z3, 0, 4, 1, 5);
  v128.store(out, v128.shuffle<f32>(t01, t23, 0, 1, 4, 5));
  v128.store(out, v128.shuffle<f32>(t01, t23, 2, 3, 6, 7), 16);
}

// The words of the last `fourBlocks` call, word j of blocks b .. b + 3 (one per lane) at 16 j.
const fourWords = memory.data(64, 16);

/**
 * Blocks b .. b + 3 of the stream, one per i32x4 lane, into `fourWords`: the ten rounds of `block`,
 * the 32 x 32 -> 64-bit products by `i64x2.extmul`.
 */
// @ts-ignore: decorator
@inline
function fourBlocks(b: u64, stream: u32, k0: u32, k1: u32): void {
  let c0 = i32x4.splat(<i32>b), c1 = i32x4.splat(<i32>(b >>> 32));
  c0 = i32x4.replace_lane(c0, 1, <i32>(b + 1));
  c1 = i32x4.replace_lane(c1, 1, <i32>((b + 1) >>> 32));
  c0 = i32x4.replace_lane(c0, 2, <i32>(b + 2));
  c1 = i32x4.replace_lane(c1, 2, <i32>((b + 2) >>> 32));
  c0 = i32x4.replace_lane(c0, 3, <i32>(b + 3));
  c1 = i32x4.replace_lane(c1, 3, <i32>((b + 3) >>> 32));
  let c2 = i32x4.splat(<i32>stream), c3 = i32x4.splat(0);
  const m0 = i32x4.splat(<i32>M0), m1 = i32x4.splat(<i32>M1);
  for (let round = 0; round < 10; round++) {
    const p0l = i64x2.extmul_low_i32x4_u(c0, m0), p0h = i64x2.extmul_high_i32x4_u(c0, m0);
    const p1l = i64x2.extmul_low_i32x4_u(c2, m1), p1h = i64x2.extmul_high_i32x4_u(c2, m1);
    const hi0 = v128.shuffle<i32>(p0l, p0h, 1, 3, 5, 7), lo0 = v128.shuffle<i32>(p0l, p0h, 0, 2, 4, 6);
    const hi1 = v128.shuffle<i32>(p1l, p1h, 1, 3, 5, 7), lo1 = v128.shuffle<i32>(p1l, p1h, 0, 2, 4, 6);
    c0 = v128.xor(v128.xor(hi1, c1), i32x4.splat(<i32>k0));
    c1 = lo1;
    c2 = v128.xor(v128.xor(hi0, c3), i32x4.splat(<i32>k1));
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  v128.store(fourWords, c0);
  v128.store(fourWords, c1, 16);
  v128.store(fourWords, c2, 32);
  v128.store(fourWords, c3, 48);
}

/** Lanes 2 and 3 of an i32x4 of words as f64x2. */
// @ts-ignore: decorator
@inline
function highLanes(w: v128): v128 {
  return f64x2.convert_low_i32x4_u(v128.shuffle<i32>(w, w, 2, 3, 0, 1));
}

// The four normals of the last `boxMuller2` call, f32 in block order (z0, z1, z2, z3).
const bmBlock = memory.data(16, 16);

/** `boxMullerLanes` on both pairs of one block (lane 0: (w0, w1), lane 1: (w2, w3)), into `bmBlock`. */
// @ts-ignore: decorator
@inline
function boxMuller2(w0: u32, w1: u32, w2: u32, w3: u32): void {
  boxMullerLanes(f64x2.replace_lane(f64x2.splat(<f64>w0), 1, <f64>w2), f64x2.replace_lane(f64x2.splat(<f64>w1), 1, <f64>w3));
  // [cos0, cos1, 0, 0] and [sin0, sin1, 0, 0] -> [cos0, sin0, cos1, sin1].
  const zc = f32x4.demote_f64x2_zero(v128.load(bmCos)), zs = f32x4.demote_f64x2_zero(v128.load(bmSin));
  v128.store(bmBlock, v128.shuffle<f32>(zc, zs, 0, 4, 1, 5));
}

/**
 * Normals of the same stream: element j = offset + i comes from block floor(j / 4); elements 0, 1 of a
 * block from words (w0, w1), elements 2, 3 from (w2, w3), by Box-Muller in float64, rounded to float32.
 */
export function normals(out: usize, count: i32, seed: f64, stream: u32, offset: f64): void {
  const key = <u64>seed;
  const k0 = <u32>key, k1 = <u32>(key >>> 32);
  const first = <u64>offset;
  let cached: u64 = <u64>-1;
  for (let i = 0; i < count; i++) {
    const j = first + <u64>i;
    const b = j >>> 2;
    if (ASC_FEATURE_SIMD && (j & 3) == 0 && i + 16 <= count) {
      // Four whole blocks: their words by SIMD Philox, their normals two blocks at a time.
      fourBlocks(b, stream, k0, k1);
      const w0 = v128.load(fourWords), w1 = v128.load(fourWords, 16), w2 = v128.load(fourWords, 32), w3 = v128.load(fourWords, 48);
      const at = out + (<usize>i << 2);
      twoBlockNormals(f64x2.convert_low_i32x4_u(w0), f64x2.convert_low_i32x4_u(w1), f64x2.convert_low_i32x4_u(w2),
        f64x2.convert_low_i32x4_u(w3), at);
      twoBlockNormals(highLanes(w0), highLanes(w1), highLanes(w2), highLanes(w3), at + 32);
      i += 15;
      continue;
    }
    if (b != cached) {
      streamBlock(b, stream, k0, k1);
      cached = b;
      const w0 = load<u32>(outWords), w1 = load<u32>(outWords, 4);
      const w2 = load<u32>(outWords, 8), w3 = load<u32>(outWords, 12);
      if (ASC_FEATURE_SIMD) {
        boxMuller2(w0, w1, w2, w3);
      } else {
        boxMuller(w0, w1);
        store<f32>(bmBlock, <f32>bm0);
        store<f32>(bmBlock, <f32>bm1, 4);
        boxMuller(w2, w3);
        store<f32>(bmBlock, <f32>bm0, 8);
        store<f32>(bmBlock, <f32>bm1, 12);
      }
    }
    store<f32>(out + (<usize>i << 2), load<f32>(bmBlock + (<usize>(j & 3) << 2)));
  }
}
