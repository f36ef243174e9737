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

/**
 * Normals of the same stream: element j = offset + i comes from block floor(j / 4); elements 0, 1 of a
 * block from words (w0, w1), elements 2, 3 from (w2, w3), by Box-Muller in float64, rounded to float32.
 */
export function normals(out: usize, count: i32, seed: f64, stream: u32, offset: f64): void {
  const key = <u64>seed;
  const k0 = <u32>key, k1 = <u32>(key >>> 32);
  const first = <u64>offset;
  let cached: u64 = <u64>-1;
  let z0: f64 = 0, z1: f64 = 0, z2: f64 = 0, z3: f64 = 0;
  for (let i = 0; i < count; i++) {
    const j = first + <u64>i;
    const b = j >>> 2;
    if (b != cached) {
      streamBlock(b, stream, k0, k1);
      cached = b;
      const w0 = load<u32>(outWords), w1 = load<u32>(outWords, 4);
      const w2 = load<u32>(outWords, 8), w3 = load<u32>(outWords, 12);
      let r = Math.sqrt(-2.0 * Math.log((<f64>w0 + 1.0) * INV_2_32));
      let t = TWO_PI * (<f64>w1 * INV_2_32);
      z0 = r * Math.cos(t);
      z1 = r * Math.sin(t);
      r = Math.sqrt(-2.0 * Math.log((<f64>w2 + 1.0) * INV_2_32));
      t = TWO_PI * (<f64>w3 * INV_2_32);
      z2 = r * Math.cos(t);
      z3 = r * Math.sin(t);
    }
    const lane = <i32>(j & 3);
    const z = lane == 0 ? z0 : lane == 1 ? z1 : lane == 2 ? z2 : z3;
    store<f32>(out + (<usize>i << 2), <f32>z);
  }
}
