/**
 * Runtime check that a parsed results.json has the shape of `ReproduceResult` (its TypeScript type):
 * every field present with the right JSON type, recursively. Returns the value typed, or throws a
 * TypeError naming the first offending path.
 */
import type { ReproduceResult } from './reproduce.js';

/** A tiny structural schema: a JSON type name, an array of one schema, an object of schemas, or a nullable one. */
type Schema = 'number' | 'string' | 'boolean' | 'numberOrNull' | 'any' | readonly [Schema] | { readonly [k: string]: Schema } | { readonly nullable: Schema };

const isNullable = (s: Schema): s is { nullable: Schema } => typeof s === 'object' && !Array.isArray(s) && 'nullable' in s;

function check(value: unknown, schema: Schema, path: string): void {
  const bad = (what: string): never => {
    throw new TypeError(`Expected ${what} for ${path} but received ${JSON.stringify(value)?.slice(0, 60)}`);
  };
  if (schema === 'any') return;
  if (schema === 'number') { if (typeof value !== 'number' || !Number.isFinite(value)) bad('a finite number'); return; }
  if (schema === 'numberOrNull') { if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) bad('a number or null'); return; }
  if (schema === 'string' || schema === 'boolean') { if (typeof value !== schema) bad(`a ${schema}`); return; }
  if (isNullable(schema)) { if (value !== null) check(value, schema.nullable, path); return; }
  if (Array.isArray(schema)) {
    if (!Array.isArray(value)) bad('an array');
    (value as unknown[]).forEach((v, i) => check(v, schema[0], `${path}[${i}]`));
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('an object');
  for (const [k, s] of Object.entries(schema as Record<string, Schema>)) check((value as Record<string, unknown>)[k], s, `${path}.${k}`);
}

const dae = { steps: 'any', init: 'any', lr: 'any' } as const;
const line = { nullable: { slope: 'number', intercept: 'number', r2: 'number' } } as const;
const cell = { d: 'number', N: 'number', trials: 'number', successes: 'number', rate: 'number', meanDistance: 'number' } as const;
const phase = {
  experiment: 'string', K: 'number', n: 'number', d: ['number'], N: ['number'], trials: 'number', tau: 'number', seed: 'number', dae,
  methods: [{ method: 'string', cells: [cell], boundary: { points: [{ d: 'number', N: 'number' }], fit: line } }],
  agreement: { nullable: [cell] }, complete: 'boolean', seconds: 'number',
} as const;
const scores = { score: 'number', onSupport: 'number', copies: 'number', meanSupportError: 'number', meanMemorization: 'number' } as const;
const memorization = {
  experiment: 'string', K: 'number', n: 'number', d: 'number', N: ['number'], trials: 'number', count: 'number', steps: 'number',
  tauS: 'number', tauM: 'number', seed: 'number', dae,
  rows: [{ N: 'number', trials: 'number', dae: scores, empirical: scores }],
  scatter: [{ N: 'number', points: [{ source: 'string', component: 'number', u1: 'number', u2: 'number' }] }],
  complete: 'boolean', seconds: 'number',
} as const;
const jacobian = {
  experiment: 'string', K: 'number', n: 'number', d: 'number', N: 'number', sigma: ['number'], points: 'number', relTol: 'number', seed: 'number', dae,
  rows: [{ sigma: 'number', denoiser: 'string', meanRank: 'number', ranks: ['number'] }], complete: 'boolean', seconds: 'number',
} as const;
const mnist = {
  experiment: 'string', train: 'number', K: 'number', d: 'number', preprocess: 'string', neighbors: 'number', seed: 'number', dae,
  accuracy: [{ method: 'string', accuracy: 'number', seconds: 'number' }], clusters: [{ label: 'number', size: 'number' }],
  basis: [[['number']]], generated: [['number']], edits: [{ cluster: 'number', direction: 'number', images: [['number']] }],
  editSteps: ['number'], tauS: 'number', tauM: 'number',
  generalization: [{ perClass: 'number', dae: 'number', empirical: 'number', daeMemorization: 'number', empiricalMemorization: 'number' }],
  complete: 'boolean', seconds: 'number',
} as const;
const reproduceSchema = {
  molrg: 'string', quick: 'boolean', seed: 'number', backend: 'string', isa: 'string', workers: 'numberOrNull',
  phaseK1: { nullable: phase }, phaseK2: { nullable: phase }, memorization: { nullable: memorization },
  jacobian: { nullable: jacobian }, mnist: { nullable: mnist }, mnistSkipped: { nullable: 'string' },
  complete: 'boolean', seconds: 'number',
} as const;

/** Checks a parsed results.json against the `ReproduceResult` type; returns it typed. */
export function checkReproduceResult(value: unknown): ReproduceResult {
  check(value, reproduceSchema, 'results');
  const r = value as ReproduceResult;
  if (r.molrg !== 'reproduce') throw new TypeError(`Expected 'reproduce' for results.molrg but received ${JSON.stringify(r.molrg)}`);
  return r;
}
