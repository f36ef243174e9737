/**
 * Image grids (digits, basis images, edits) as PNG files, with pngjs.
 */
import { PNG } from 'pngjs';

/** Options of `imageGrid`. */
export interface GridOptions {
  /** Image height and width in pixels (each image is `height * width` values, row-major). */
  height: number;
  width: number;
  /** Tiles per row of the grid. */
  columns: number;
  /** Pixel magnification (nearest neighbour); default 2. */
  scale?: number;
  /**
   * How values become colours: `gray` maps each tile's [min, max] to black..white; `signed` maps each
   * tile's [-m, m] (m = max |value|) to blue..white..red, for basis vectors whose sign is arbitrary.
   */
  mode?: 'gray' | 'signed';
  /** Gap between tiles, in output pixels; default 2. */
  gap?: number;
}

function tileColor(v: number, lo: number, hi: number, mode: 'gray' | 'signed'): [number, number, number] {
  if (mode === 'gray') {
    const g = Math.round(255 * (hi > lo ? (v - lo) / (hi - lo) : 0));
    return [g, g, g];
  }
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1, t = Math.max(-1, Math.min(1, v / m));
  // Blue (negative) through white (0) to red (positive).
  return t >= 0
    ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))]
    : [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
}

/** Encodes a grid of images as a PNG; each tile is normalised on its own. */
export function imageGrid(images: readonly ArrayLike<number>[], o: GridOptions): Buffer {
  const { height: h, width: w, columns } = o, scale = o.scale ?? 2, gap = o.gap ?? 2, mode = o.mode ?? 'gray';
  const rows = Math.max(1, Math.ceil(images.length / columns));
  const W = columns * (w * scale + gap) + gap, H = rows * (h * scale + gap) + gap;
  const png = new PNG({ width: W, height: H });
  png.data.fill(255);
  images.forEach((img, t) => {
    if (img.length !== h * w) throw new RangeError(`Expected images of ${h * w} values for images[${t}] but received ${img.length}`);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < img.length; i++) { lo = Math.min(lo, img[i]); hi = Math.max(hi, img[i]); }
    const ox = gap + (t % columns) * (w * scale + gap), oy = gap + Math.floor(t / columns) * (h * scale + gap);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const [r, g, b] = tileColor(img[i * w + j], lo, hi, mode);
        for (let a = 0; a < scale; a++) {
          for (let c = 0; c < scale; c++) {
            const p = ((oy + i * scale + a) * W + ox + j * scale + c) * 4;
            png.data[p] = r; png.data[p + 1] = g; png.data[p + 2] = b; png.data[p + 3] = 255;
          }
        }
      }
    }
  });
  return PNG.sync.write(png);
}
