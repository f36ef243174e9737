/**
 * Per-row noise levels and scales for the denoisers: a number for the whole batch or one per row,
 * checked once at the API boundary and turned into the kernel form `Float32Array [B]`.
 */
import { fail } from '../backend/validate.js';
import type { Levels } from './denoiser.js';

/** `value` (a number or B numbers, each finite and > 0) as a `Float32Array [B]`. */
export function levels(name: string, value: Levels | undefined, B: number, fallback?: number): Float32Array {
  if (value === undefined) {
    if (fallback === undefined) fail('a number > 0 or one per row', name, value, TypeError);
    return new Float32Array(B).fill(fallback);
  }
  if (typeof value === 'number') {
    if (!(Math.fround(value) > 0) || !Number.isFinite(Math.fround(value))) fail('a finite number > 0 (in float32 range)', name, value);
    return new Float32Array(B).fill(value);
  }
  if (!(value instanceof Float32Array) && !Array.isArray(value)) fail('a number or an array of one number per row', name, value, TypeError);
  if (value.length !== B) fail(`one value per row (${B})`, name, value);
  const out = Float32Array.from(value as ArrayLike<number>);
  for (let b = 0; b < B; b++) {
    if (!(out[b] > 0) || !Number.isFinite(out[b])) {
      throw new RangeError(`Expected finite values > 0 (in float32 range) for ${name} but received ${(value as ArrayLike<number>)[b]} at index ${b}`);
    }
  }
  return out;
}

/** Tweedie's formula (SPEC section 3): score = (s D(x_t) - x_t) / gamma^2, gamma = s sigma, per row. */
export function tweedie(x: Float32Array, D: Float32Array, n: number, s: Float32Array, sigma: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < s.length; b++) {
    const sb = s[b], g2 = (sb * sigma[b]) ** 2;
    for (let i = b * n; i < (b + 1) * n; i++) out[i] = (sb * D[i] - x[i]) / g2;
  }
  return out;
}
