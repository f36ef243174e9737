/**
 * The cells of the experiment sweeps: small pure computations of (params, seed) -> JSON result that
 * run on sweep workers (sweep.ts). Each is registered by name in TASKS so a worker thread can find it.
 */
import type { Matrix } from '../matrix.js';
import { generalizationScore } from '../metrics/samples.js';
import { matchSubspaces } from '../metrics/subspace.js';
import { lowRankDAE } from '../model/dae.js';
import { empiricalDenoiser } from '../model/empirical.js';
import { MoLRG } from '../model/molrg.js';
import { sample } from '../sample/edm.js';
import { deriveSeed } from '../random.js';
import { trainDAESync, type TrainInit } from '../train/dae.js';
import { kSubspacesSync } from '../train/kss.js';

/** How the low-rank model is fitted: diffusion training of the DAE, or K-subspaces clustering. */
export type Method = 'dae' | 'kss';

/** The fitting methods, for argument checks. */
export const METHODS: readonly Method[] = ['dae', 'kss'];

/** Data of a phase-transition cell: exactly N samples from each of K random d-dimensional subspaces of R^n. */
export function phaseData(K: number, n: number, d: number, N: number, seed: number): { truth: MoLRG; x: Matrix } {
  const truth = new MoLRG({ n, K, d, seed: deriveSeed(seed, 0) });
  const x = new Float32Array(K * N * n);
  truth.bases.forEach((U, k) => {
    const part = new MoLRG({ bases: [U] }).sample(N, deriveSeed(seed, 1 + k)).x;
    x.set(part.data, k * N * n);
  });
  return { truth, x: { rows: K * N, cols: n, data: x } };
}

/** Settings of the DAE fits in the experiments (trainDAE's defaults where absent). */
export interface DAESettings {
  /** Optimiser steps (trainDAE default 500). */
  steps?: number;
  /** Initialisation (trainDAE default `auto`: PCA for K = 1, K-subspaces for K > 1). */
  init?: Exclude<TrainInit, readonly Matrix[]>;
  /** Peak learning rate (trainDAE default). */
  lr?: number;
}

/** Fits K subspaces of dimension d to x by one method: `kSubspaces`, or `trainDAE` (diffusion loss). */
export function fitBases(method: Method, x: Matrix, K: number, d: number, seed: number, dae: DAESettings = {}): Matrix[] {
  if (method === 'kss') return kSubspacesSync(x, { K, d, seed }).bases;
  return trainDAESync(x, { K, d, seed, ...dae }).bases;
}

/** Parameters of one phase-transition cell (one trial at one (d, N)). */
export interface PhaseCellParams {
  K: number;
  n: number;
  d: number;
  /** Samples per component. */
  N: number;
  methods: Method[];
  dae: DAESettings;
}

/** Result of one phase-transition cell. */
export interface PhaseCellResult {
  /** Max matched subspace distance to the truth, one per method. */
  distances: number[];
  /** Max matched distance between the two methods' subspaces, when two methods ran. */
  agreement: number | null;
}

/** One trial: sample the data, fit each method, measure the max matched distance to the truth. */
export function phaseCell(p: PhaseCellParams, seed: number): PhaseCellResult {
  const { truth, x } = phaseData(p.K, p.n, p.d, p.N, seed);
  const fitted = p.methods.map((m) => fitBases(m, x, p.K, p.d, deriveSeed(seed, 100), p.dae));
  return {
    distances: fitted.map((U) => matchSubspaces(U, truth.bases).max),
    agreement: fitted.length === 2 ? matchSubspaces(fitted[0], fitted[1]).max : null,
  };
}

/** Parameters of one memorisation-vs-generalisation cell (one training-set size). */
export interface MemorizationCellParams {
  K: number;
  n: number;
  d: number;
  /** Training samples in all (labels drawn from pi). */
  N: number;
  /** Samples generated from each denoiser. */
  count: number;
  /** Sampler steps. */
  steps: number;
  tauS: number;
  tauM: number;
  dae: DAESettings;
  /** Also return the 2-D projections of training data and samples (for the scatter plots). */
  projections: boolean;
}

/** Scores of one denoiser's samples. */
export interface SampleScores {
  /** Generalisation score (SPEC section 7). */
  score: number;
  /** Fraction of samples on the true support (support error < tauS). */
  onSupport: number;
  /** Fraction of samples that are copies (memorisation distance <= tauM). */
  copies: number;
  meanSupportError: number;
  meanMemorization: number;
}

/** A point projected on the first two directions of the true subspace it is closest to. */
export interface ProjectedPoint {
  /** `data`, `dae` or `empirical`. */
  source: 'data' | 'dae' | 'empirical';
  /** The true component whose subspace holds most of the point's energy. */
  component: number;
  u1: number;
  u2: number;
}

/** Result of one memorisation-vs-generalisation cell. */
export interface MemorizationCellResult {
  dae: SampleScores;
  empirical: SampleScores;
  projections: ProjectedPoint[] | null;
}

function scores(samples: Matrix, train: Matrix, truth: readonly Matrix[], tauS: number, tauM: number): SampleScores {
  const g = generalizationScore(samples, train, truth, { tauS, tauM });
  const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  return {
    score: g.score,
    onSupport: g.support.filter((v) => v < tauS).length / samples.rows,
    copies: g.memorization.filter((v) => v <= tauM).length / samples.rows,
    meanSupportError: mean(g.support),
    meanMemorization: mean(g.memorization),
  };
}

/** Coordinates of each row on the first two basis vectors of the true subspace with the most energy. */
function project(source: ProjectedPoint['source'], x: Matrix, truth: readonly Matrix[]): ProjectedPoint[] {
  const out: ProjectedPoint[] = [];
  for (let i = 0; i < x.rows; i++) {
    const row = x.data.subarray(i * x.cols, (i + 1) * x.cols);
    let best = -1, bestEnergy = -1, coords: number[] = [];
    truth.forEach((U, k) => {
      const c = Array.from({ length: U.cols }, (_, j) => {
        let t = 0;
        for (let r = 0; r < U.rows; r++) t += U.data[r * U.cols + j] * row[r];
        return t;
      });
      const e = c.reduce((a, v) => a + v * v, 0);
      if (e > bestEnergy) { bestEnergy = e; best = k; coords = c; }
    });
    out.push({ source, component: best, u1: coords[0], u2: coords[1] ?? 0 });
  }
  return out;
}

/**
 * One training-set size: train the DAE on N samples, then generate from it and from the empirical
 * (memorising) denoiser of the same training set, and score both against the truth.
 */
export function memorizationCell(p: MemorizationCellParams, seed: number): MemorizationCellResult {
  const truth = new MoLRG({ n: p.n, K: p.K, d: p.d, seed: deriveSeed(seed, 0) });
  const train = truth.sample(p.N, deriveSeed(seed, 1)).x;
  const bases = fitBases('dae', train, p.K, p.d, deriveSeed(seed, 2), p.dae);
  const dae = lowRankDAE(bases);
  const emp = empiricalDenoiser(train);
  const opts = { count: p.count, steps: p.steps, seed: deriveSeed(seed, 3) };
  const fromDae = sample(dae, opts), fromEmp = sample(emp, opts);
  dae.dispose();
  return {
    dae: scores(fromDae, train, truth.bases, p.tauS, p.tauM),
    empirical: scores(fromEmp, train, truth.bases, p.tauS, p.tauM),
    projections: p.projections
      ? [...project('data', train, truth.bases), ...project('dae', fromDae, truth.bases), ...project('empirical', fromEmp, truth.bases)]
      : null,
  };
}

/** Every task a sweep can run, by name. */
export const TASKS = {
  phase: phaseCell,
  memorization: memorizationCell,
};

export type TaskName = keyof typeof TASKS;
export type TaskParams<T extends TaskName> = Parameters<(typeof TASKS)[T]>[0];
export type TaskResult<T extends TaskName> = Awaited<ReturnType<(typeof TASKS)[T]>>;

/** Runs a task by name. */
export async function runTask<T extends TaskName>(task: T, params: TaskParams<T>, seed: number): Promise<TaskResult<T>> {
  const f = TASKS[task] as (p: TaskParams<T>, s: number) => TaskResult<T> | Promise<TaskResult<T>>;
  if (typeof f !== 'function') throw new Error(`molrg: unknown sweep task ${JSON.stringify(task)}`);
  return f(params, seed);
}
