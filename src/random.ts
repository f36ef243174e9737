/**
 * Named Philox streams (SPEC section 8): every random thing in molrg draws from (seed, stream) with
 * its own stream number, so adding a new use never shifts the numbers of an existing one.
 */
import { rawKernels } from './backend/index.js';
import { int } from './backend/validate.js';

/** Stream numbers, one per independent use. */
export const STREAM = {
  bases: 1,
  labels: 2,
  latent: 3,
  floor: 4,
  trainIndex: 5,
  trainSigma: 6,
  trainNoise: 7,
  init: 8,
  samplerStart: 9,
  samplerNoise: 10,
  cluster: 11,
  derive: 12,
} as const;

/** Checks a user seed: an integer in [0, 2^53). */
export function checkSeed(name: string, seed: unknown): number {
  return int(name, seed, 0, 2 ** 53 - 1);
}

/** `count` standard normals of (seed, stream), starting at element `offset`. */
export function gaussian(count: number, seed: number, stream: number, offset = 0): Float32Array {
  const out = new Float32Array(count);
  rawKernels().normals(out, seed, stream, offset);
  return out;
}

/** `count` uniforms in (0, 1] of (seed, stream), starting at element `offset` (1 when a word is >= 2^32 - 128, as float32 rounds up). */
export function uniform(count: number, seed: number, stream: number, offset = 0): Float32Array {
  const out = new Float32Array(count);
  rawKernels().uniforms(out, seed, stream, offset);
  return out;
}

/**
 * A child seed for item `index` of a sweep or restart: two words of the `derive` stream of the
 * parent, as a 53-bit integer. Depends only on (seed, index), never on scheduling.
 */
export function deriveSeed(seed: number, index: number): number {
  const w = new Uint32Array(2);
  rawKernels().randomU32(w, seed, STREAM.derive, 2 * index);
  return (w[1] & 0x1fffff) * 2 ** 32 + w[0];
}
