import type { AsyncKernels, Bases, Kernels } from '../types.js';
import { ArrayBases } from './bases.js';
import { denoise } from './denoise.js';
import { eigh } from './eigh.js';
import { gate } from './gate.js';
import { gemm } from './gemm.js';
import { lossGrad } from './lossgrad.js';
import { nearest } from './nearest.js';
import { normals, philox, randomU32, uniforms } from './philox.js';
import { project } from './project.js';
import { retract, stiefelStep } from './stiefel.js';
import { svd } from './svd.js';
import { trainSteps } from './train.js';

/** The js backend only accepts the bases it created (it reads their arrays directly). */
function own(bases: Bases): ArrayBases {
  if (!(bases instanceof ArrayBases)) {
    throw new TypeError('Expected bases created by this backend (createBases) for bases but received bases of another backend');
  }
  return bases;
}

/** The reference backend: plain TypeScript, float64 accumulation, the oracle of the tests. */
export function createJsKernels(): Kernels {
  const async: AsyncKernels = {
    gemm: async (...a) => gemm(...a),
    svd: async (...a) => svd(...a),
    eigh: async (...a) => eigh(...a),
    nearest: async (...a) => nearest(...a),
    denoise: async (x, B, bases, prior, s, sigma, out, w) => denoise(x, B, own(bases), prior, s, sigma, out, w),
    lossGrad: async (x0, eps, B, s, sigma, weight, bases, prior) =>
      lossGrad(x0, eps, B, s, sigma, weight, own(bases), prior),
  };
  return {
    info: () => ({ backend: 'js', isa: 'float64', threads: 1 }),
    philox, randomU32, normals, uniforms, gemm, svd, eigh, nearest, gate,
    createBases: (n, dims, U) => new ArrayBases(n, dims, U),
    retract: (bases, method) => retract(own(bases), method),
    project: (x, B, bases, P) => project(x, B, own(bases), P),
    denoise: (x, B, bases, prior, s, sigma, out, w) => denoise(x, B, own(bases), prior, s, sigma, out, w),
    lossGrad: (x0, eps, B, s, sigma, weight, bases, prior) => lossGrad(x0, eps, B, s, sigma, weight, own(bases), prior),
    stiefelStep: (bases, options) => stiefelStep(own(bases), options),
    trainSteps: (data, _N, index, noise, B, T, s, sigma, weight, bases, prior, options, lr, losses) =>
      trainSteps(data, index, noise, B, T, s, sigma, weight, own(bases), prior, options, lr, losses),
    async,
  };
}
