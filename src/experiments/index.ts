/**
 * The experiments of SPEC section 7 as library functions (re-exported by src/index.ts): each is
 * seeded, reports progress, accepts an AbortSignal and returns a JSON-serialisable result.
 */
export type { DAESettings, Method, ProjectedPoint, SampleScores } from './cells.js';
export { DIGIT_COUNT, DIGIT_PIXELS, DIGIT_SIDE, hasDigits, loadDigits, MissingDigitsError } from './digits.js';
export type { Digits, LoadDigitsOptions } from './digits.js';
export { crossing, fitLine } from './fit.js';
export type { LineFit } from './fit.js';
export { jacobianRank } from './jacobian.js';
export type { JacobianDenoiser, JacobianOptions, JacobianResult, JacobianRow } from './jacobian.js';
export { memorization } from './memorization.js';
export type { MemorizationOptions, MemorizationResult, MemorizationRow } from './memorization.js';
export { mnistExperiment } from './mnist.js';
export type { Image, MnistAccuracy, MnistGeneralization, MnistOptions, MnistResult } from './mnist.js';
export { DEFAULT_TAU, phaseBoundary, phaseTransition } from './phase.js';
export type { PhaseBoundary, PhaseCell, PhaseMethodResult, PhaseOptions, PhaseResult } from './phase.js';
export { reproduce } from './reproduce.js';
export type { ReproduceOptions, ReproduceResult } from './reproduce.js';
export { defaultWorkers, runSweep } from './sweep.js';
export type { SweepOptions, SweepOutcome, SweepProgress } from './sweep.js';
export { checkReproduceResult } from './validate.js';
