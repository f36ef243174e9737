/** The MNIST subset bundled by web/vite.config.ts (from the `mnist` package, at build time). */
declare module 'virtual:mnist-subset' {
  export const digits: {
    /** Images per class; class c owns images c * perClass .. (c + 1) * perClass - 1. */
    perClass: number;
    /** 28 x 28 grey levels 0..255, row-major, image after image. */
    pixels: Uint8Array;
  };
}
