/**
 * molrg: mixtures of low-rank Gaussians, the theory of diffusion models as subspace clustering,
 * executable and fast. The Node.js entry: the portable API (src/api.ts) plus model and data files.
 *
 * @packageDocumentation
 */
export * from './api.js';
export {
  decodeModel, encodeModel, loadModel, saveModel, type ModelFile, type ModelLike,
} from './io/model.js';
export { decodeNpy, encodeNpy, readNpy, writeNpy, type NpyDtype } from './io/npy.js';
export { parseCsv, readCsv, type CsvOptions } from './io/csv.js';
export * from './experiments/index.js';
