/**
 * Philox4x32-10 counter-based generator and its Box-Muller normals (SPEC section 8; Salmon et al.,
 * SC 2011). JavaScript has no 32x32->64 multiply, so the high word is assembled from 16-bit halves.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO32 = 4294967296;

/** High 32 bits of the 64-bit product of two uint32 (the low half is Math.imul). */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** One Philox4x32-10 block: counter (c0..c3), key (k0, k1) -> out[o..o+3]. */
export function philoxBlock(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array, o: number,
): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[o] = c0; out[o + 1] = c1; out[o + 2] = c2; out[o + 3] = c3;
}

/** counters [M, 4], key [2] -> out [M, 4]. */
export function philox(counters: Uint32Array, key: Uint32Array, out: Uint32Array): void {
  for (let i = 0; i < counters.length; i += 4) {
    philoxBlock(counters[i], counters[i + 1], counters[i + 2], counters[i + 3], key[0], key[1], out, i);
  }
}

/**
 * Calls `each(block, words)` for every block that covers stream words offset .. offset+count-1.
 * Block b has counter (b mod 2^32, floor(b / 2^32), stream, 0), key (seed mod 2^32, floor(seed / 2^32)).
 */
function forEachBlock(
  seed: number, stream: number, offset: number, count: number,
  each: (block: number, words: Uint32Array) => void,
): void {
  const k0 = seed % TWO32, k1 = Math.floor(seed / TWO32);
  const words = new Uint32Array(4);
  const first = Math.floor(offset / 4), last = Math.floor((offset + count - 1) / 4);
  for (let b = first; b <= last; b++) {
    philoxBlock(b % TWO32, Math.floor(b / TWO32), stream, 0, k0, k1, words, 0);
    each(b, words);
  }
}

/** Words offset .. offset + out.length - 1 of the stream (seed, stream). */
export function randomU32(out: Uint32Array, seed: number, stream: number, offset: number): void {
  if (out.length === 0) return;
  forEachBlock(seed, stream, offset, out.length, (b, w) => {
    for (let j = 0; j < 4; j++) {
      const i = 4 * b + j - offset;
      if (i >= 0 && i < out.length) out[i] = w[j];
    }
  });
}

/** Box-Muller normals of the stream: elements 0,1 of a block from (w0, w1), 2,3 from (w2, w3). */
export function normals(out: Float32Array, seed: number, stream: number, offset: number): void {
  if (out.length === 0) return;
  const z = new Float64Array(4);
  forEachBlock(seed, stream, offset, out.length, (b, w) => {
    for (let pair = 0; pair < 2; pair++) {
      const u1 = (w[2 * pair] + 1) / TWO32;
      const u2 = w[2 * pair + 1] / TWO32;
      const r = Math.sqrt(-2 * Math.log(u1));
      z[2 * pair] = r * Math.cos(2 * Math.PI * u2);
      z[2 * pair + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    for (let j = 0; j < 4; j++) {
      const i = 4 * b + j - offset;
      if (i >= 0 && i < out.length) out[i] = z[j];
    }
  });
}

/** Uniforms (w + 0.5) / 2^32 of the stream, in (0, 1). */
export function uniforms(out: Float32Array, seed: number, stream: number, offset: number): void {
  const words = new Uint32Array(out.length);
  randomU32(words, seed, stream, offset);
  for (let i = 0; i < out.length; i++) out[i] = (words[i] + 0.5) / TWO32;
}
