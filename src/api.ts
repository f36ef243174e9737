/**
 * The public API that runs everywhere (Node and browsers): everything except files and the CLI.
 * src/index.ts (Node) and src/browser.mts (browsers) both re-export it.
 */
export {
  backendInfo, backendKernels, kernels, setBackend, type BackendInfo,
} from './backend/index.js';
export type {
  AsyncKernels, BackendName, Bases, KernelInfo, Kernels, NoiseWindow, Prior, StiefelOptions,
} from './backend/types.js';
export { fromRows, matrix, rowSlice, type Matrix } from './matrix.js';
export { MoLRG, type MoLRGBasesOptions, type MoLRGRandomOptions } from './model/molrg.js';
export type { Denoiser, Levels } from './model/denoiser.js';
export { lowRankDAE, type DAEOptions } from './model/dae.js';
export { exactDenoiser } from './model/exact.js';
export { empiricalDenoiser, type EmpiricalDenoiser } from './model/empirical.js';
export type { LowRankDenoiser } from './model/lowrank.js';
export {
  lossWeight, schedule, trainingLevels, ve, vp, type LossWeighting, type Schedule, type ScheduleName,
} from './model/schedules.js';
export {
  learningRate, trainDAE, trainDAESync, type TrainDAEOptions, type TrainDAEResult, type TrainInit, type TrainProgress,
} from './train/dae.js';
export {
  kSubspaces, kSubspacesSync, type KSubspacesInit, type KSubspacesOptions, type KSubspacesProgress,
  type KSubspacesResult,
} from './train/kss.js';
export { spectralClustering, type SpectralClusteringOptions } from './train/spectral.js';
export { edmSigmas, sample, type SampleOptions, type SamplerName } from './sample/edm.js';
export {
  hungarian, matchSubspaces, principalAngles, subspaceDistance, w2, type SubspaceMatch,
} from './metrics/subspace.js';
export { clusteringAccuracy } from './metrics/clustering.js';
export { meanImage, preprocess, PREPROCESS, type Preprocess } from './experiments/preprocess.js';
export { jacobian, jacobianSpectrum, numericalRank } from './metrics/jacobian.js';
export {
  generalizationScore, memorizationDistance, supportError, type GeneralizationOptions, type GeneralizationResult,
} from './metrics/samples.js';
