/** Messages between the demo page (main.ts) and its worker (worker.ts). */

/** Synthetic MoLRG: K subspaces of dimension d in R^n, N samples per component. */
export interface SyntheticParams {
  n: number;
  K: number;
  d: number;
  N: number;
  steps: number;
  init: 'auto' | 'kss' | 'pca' | 'random';
  seed: number;
  /** Generated samples drawn from the trained DAE. */
  samples: number;
}

/** Phase transition: success rate of recovery over a grid of (N, d). */
export interface PhaseParams {
  n: number;
  K: number;
  ds: number[];
  Ns: number[];
  trials: number;
  method: 'kss' | 'dae';
  tau: number;
  seed: number;
}

/** MNIST: a DAE with one subspace per chosen digit class. */
export interface MnistParams {
  classes: number[];
  perClass: number;
  d: number;
  steps: number;
  samples: number;
  seed: number;
}

export type Job =
  | { kind: 'synthetic'; params: SyntheticParams }
  | { kind: 'phase'; params: PhaseParams }
  | { kind: 'mnist'; params: MnistParams };

export type ToWorker = { type: 'run'; id: number; job: Job } | { type: 'cancel'; id: number };

/** A point of a 2-D projection plot: coordinates on the first two directions of a true subspace. */
export interface Projection {
  truth: [number[], number[]];
  generated: [number[], number[]];
}

export type Progress =
  | { stage: 'dae'; step: number; steps: number; loss: number; distances?: number[] }
  | { stage: 'kss'; iteration: number; objective: number; restart: number }
  | { stage: 'sample'; step: number; steps: number }
  | { stage: 'phase'; done: number; total: number; cell: { N: number; d: number; rate: number } }
  | { stage: 'mnist'; step: number; steps: number; loss: number };

export interface SyntheticResult {
  kind: 'synthetic';
  dae: { distances: number[]; max: number; loss: number; ms: number; history: { step: number; loss: number }[] };
  kss: { distances: number[]; max: number; ms: number };
  projections: Projection[];
  /** Mean relative distance of the generated samples to the union of the true subspaces. */
  supportError: number;
}

export interface PhaseResult {
  kind: 'phase';
  ms: number;
}

export interface MnistResult {
  kind: 'mnist';
  /** Per class: the first basis images (28 x 28, row-major), scaled to [0, 1] for display. */
  basis: number[][][];
  /** Generated digits, scaled to [0, 1] for display. */
  generated: number[][];
  ms: number;
}

export type FromWorker =
  | { type: 'ready'; backend: string; isa: string }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; result: SyntheticResult | PhaseResult | MnistResult }
  | { type: 'error'; id: number; name: string; message: string };
