/**
 * Mutation fuzzer of the argument checks of native/binding.cc, driven from JavaScript (they cannot be
 * separated from N-API): random calls of every native kernel, sync and async, through the raw native
 * adapter (no facade), with arguments that are mostly right (typed arrays of exactly the required
 * length) and sometimes wrong (lengths off by one, other array types, plain arrays, negative,
 * fractional, NaN and huge sizes, strings, undefined; bases whose arrays were swapped). Every call must
 * return or throw/reject a TypeError or RangeError. Run under the sanitized addon (`npm run fuzz`
 * does, when gcc's sanitizers are present) any out-of-bounds access aborts the process; the call is
 * then in fuzz/build/findings/binding/.current.
 *
 *   npx tsx fuzz/binding.ts [--seconds 60]
 */
import { loadNative, nativeIsas, setNativeIsa, setNativeThreads } from '../src/backend/native.js';
import type { Bases, Kernels } from '../src/backend/types.js';
import { fuzzLoop, fuzzSeconds, type Finding, type LoopResult, Rng } from './loop.js';

type Arg = unknown;

const WILD_NUMBERS = [-1, -0, 0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 65536, 1e300, -(2 ** 31)];

/** A wrong value of any kind. */
function wild(r: Rng, like?: number): Arg {
  return r.pick<() => Arg>([
    () => r.pick(WILD_NUMBERS), () => undefined, () => null, () => 'qr', () => ({}), () => [1, 2, 3], () => true,
    () => new Float64Array(like ?? 4), () => new Int32Array(like ?? 4), () => new Uint8Array(4 * (like ?? 4)),
    () => new Float32Array(Math.max(0, (like ?? 4) - 1)), () => new Float32Array((like ?? 4) + 1), () => new Uint32Array(like ?? 4),
    () => new Float32Array(new SharedArrayBuffer(4 * (like ?? 4))),
  ])();
}

/** Builds arguments: `right()` most of the time, otherwise a wild value. */
class Args {
  readonly list: Arg[] = [];
  constructor(private r: Rng, private wrongRate: number) {}
  add(right: () => Arg, like?: number): this {
    this.list.push(this.r.chance(this.wrongRate) ? wild(this.r, like) : right());
    return this;
  }
}

/** A size: usually small, sometimes 0 or large-but-consistent. */
function size(r: Rng, lo = 0): number {
  return r.chance(0.9) ? lo + r.int(6) : r.pick([lo, lo + 1, 17, 33, 64]);
}

function f32(n: number, r: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => (r.u32() / 2 ** 31) - 1);
}

interface Call { name: string; args: Arg[]; run: () => unknown }

function makeCall(k: Kernels, r: Rng): Call {
  const wrong = r.pick([0, 0.02, 0.1, 0.3]);
  const a = new Args(r, wrong);
  const name = r.pick(['gemm', 'svd', 'eigh', 'nearest', 'philox', 'randomU32', 'normals', 'uniforms', 'gate', 'project',
    'denoise', 'lossGrad', 'stiefelStep', 'trainSteps', 'retract']);
  const isAsync = ['gemm', 'svd', 'eigh', 'nearest', 'denoise', 'lossGrad'].includes(name) && r.chance(0.4);
  const fn = (isAsync ? (k.async as unknown as Record<string, (...x: Arg[]) => unknown>)[name]
    : (k as unknown as Record<string, (...x: Arg[]) => unknown>)[name]);
  switch (name) {
    case 'gemm': {
      const tA = r.chance(0.5), tB = r.chance(0.5), m = size(r), n = size(r), kk = size(r);
      a.add(() => tA).add(() => tB).add(() => m).add(() => n).add(() => kk).add(() => 1)
        .add(() => f32(m * kk, r), m * kk).add(() => f32(kk * n, r), kk * n).add(() => r.pick([0, 1])).add(() => f32(m * n, r), m * n);
      break;
    }
    case 'svd': {
      const batch = size(r), m = size(r, 1), n = size(r, 1), rr = 1 + r.int(Math.min(m, n));
      a.add(() => f32(batch * m * n, r), batch * m * n).add(() => batch).add(() => m).add(() => n).add(() => rr)
        .add(() => new Float32Array(batch * m * rr), batch * m * rr).add(() => new Float32Array(batch * rr), batch * rr)
        .add(() => new Float32Array(batch * n * rr), batch * n * rr);
      break;
    }
    case 'eigh': {
      const batch = size(r), n = size(r, 1);
      a.add(() => f32(batch * n * n, r), batch * n * n).add(() => batch).add(() => n)
        .add(() => new Float32Array(batch * n), batch * n).add(() => new Float32Array(batch * n * n), batch * n * n);
      break;
    }
    case 'nearest': {
      const M = size(r), N = size(r, 1), n = size(r, 1);
      a.add(() => f32(M * n, r), M * n).add(() => M).add(() => f32(N * n, r), N * n).add(() => N).add(() => n)
        .add(() => new Int32Array(M), M).add(() => new Float32Array(M), M);
      break;
    }
    case 'philox': {
      const M = size(r);
      a.add(() => new Uint32Array(4 * M), 4 * M).add(() => Uint32Array.from([1, 2]), 2).add(() => new Uint32Array(4 * M), 4 * M);
      break;
    }
    case 'randomU32': case 'normals': case 'uniforms': {
      const n = size(r);
      a.add(() => (name === 'randomU32' ? new Uint32Array(n) : new Float32Array(n)), n).add(() => r.int(1000))
        .add(() => r.u32()).add(() => r.pick([0, 2 ** 53 - 1 - n, r.u32()]));
      break;
    }
    case 'gate': {
      const B = size(r), dims = Int32Array.from({ length: 1 + r.int(3) }, () => 1 + r.int(3));
      const D = dims.reduce((x, y) => x + y, 0), K = dims.length;
      a.add(() => f32(B * D, r), B * D).add(() => B).add(() => dims, K)
        .add(() => new Float64Array(B * K), B * K).add(() => new Float64Array(B * K), B * K).add(() => new Float32Array(B * K), B * K);
      break;
    }
    default: {  // kernels on bases
      const n = size(r, 1), dims = Int32Array.from({ length: 1 + r.int(3) }, () => 1 + r.int(n));
      const D = dims.reduce((x, y) => x + y, 0), K = dims.length, B = size(r);
      const bases = k.createBases(n, dims, f32(n * D, r));
      if (r.chance(wrong)) {  // swap a field of the bases for something wrong
        const field = r.pick(['n', 'dims', 'U', 'grad', 'm', 'v']);
        (bases as unknown as Record<string, Arg>)[field] = field === 'n' ? r.pick([0, n + 1, -1, 2 ** 31, NaN]) : field === 'dims'
          ? r.pick([Int32Array.from([n + 1]), new Int32Array(0), Int32Array.from([0]), Int32Array.from([-1, 2]), Float32Array.from(dims)])
          : wild(r, n * D);
      }
      const prior = () => ({ logPi: new Float64Array(K), lambda: new Float64Array(K).fill(1), delta: r.chance(wrong) ? wild(r) : 0 });
      const levels = () => new Float32Array(B).fill(0.5);
      if (name === 'project') a.add(() => f32(B * n, r), B * n).add(() => B).add(() => bases).add(() => new Float32Array(B * D), B * D);
      else if (name === 'denoise') {
        a.add(() => f32(B * n, r), B * n).add(() => B).add(() => bases).add(prior).add(levels, B).add(levels, B)
          .add(() => new Float32Array(B * n), B * n).add(() => (r.chance(0.5) ? undefined : new Float32Array(B * K)), B * K);
      } else if (name === 'lossGrad') {
        a.add(() => f32(B * n, r), B * n).add(() => f32(B * n, r), B * n).add(() => B).add(levels, B).add(levels, B).add(levels, B)
          .add(() => bases).add(prior);
      } else if (name === 'stiefelStep') {
        a.add(() => bases).add(() => ({ method: r.pick(['sgd', 'adam']), lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8,
          retraction: r.pick(['qr', 'polar', ...(r.chance(wrong) ? ['lu', undefined] : [])]) }));
      } else if (name === 'trainSteps') {
        // Sample indices out of [0, N) now and then, and noise windows up to the end of the stream.
        const T = size(r), N = size(r, 1), TB = T * B;
        const index = () => Int32Array.from({ length: TB }, () => (r.chance(wrong) ? r.pick([-1, N, N + 1, 2 ** 31 - 1, -(2 ** 31)]) : r.int(N)));
        const noise = () => ({ seed: r.int(1000), stream: r.u32(), offset: r.pick([0, r.u32(), 2 ** 53 - 1 - TB * n, ...(r.chance(wrong) ? [2 ** 53 - TB * n] : [])]) });
        const perDraw = () => new Float32Array(TB).fill(0.5);
        a.add(() => f32(N * n, r), N * n).add(() => N).add(index, TB).add(noise).add(() => B).add(() => T)
          .add(perDraw, TB).add(perDraw, TB).add(perDraw, TB).add(() => bases).add(prior)
          .add(() => ({ method: r.pick(['sgd', 'adam']), momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: r.pick(['qr', 'polar']) }))
          .add(() => new Float64Array(T).fill(1e-3), T).add(() => new Float64Array(T), T);
      } else {
        a.add(() => bases).add(() => r.pick(['qr', 'polar']));
      }
      const args = a.list;
      return { name: `${name}${isAsync ? ' (async)' : ''}`, args, run: () => { try { return fn(...args); } finally { disposeAll(args); } } };
    }
  }
  const args = a.list;
  return { name: `${name}${isAsync ? ' (async)' : ''}`, args, run: () => fn(...args) };
}

function disposeAll(args: Arg[]): void {
  for (const x of args) if (x && typeof (x as Bases).dispose === 'function') (x as Bases).dispose();
}

/** A readable record of a call (for the findings directory). */
function describe(c: Call): string {
  const show = (x: Arg): string => {
    if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as Float32Array).length})`;
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      return `{ ${Object.entries(x).filter(([, v]) => typeof v !== 'function').map(([key, v]) => `${key}: ${show(v)}`).join(', ')} }`;
    }
    return typeof x === 'number' ? String(x) : JSON.stringify(x) ?? String(x);
  };
  return `${c.name}(${c.args.map(show).join(', ')})`;
}

function clear(e: unknown): Finding {
  return e instanceof TypeError || e instanceof RangeError ? undefined : `not a TypeError/RangeError: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
}

/** Fuzzes the binding for `seconds`, switching ISA and thread count now and then. */
export async function fuzzBinding(seconds: number): Promise<LoopResult> {
  const k = loadNative();
  const isas = nativeIsas();
  const encoder = new TextEncoder();
  let n = 0;
  return fuzzLoop('binding', seconds, 'txt', (r) => {
    if (n++ % 1000 === 0) { setNativeIsa(r.pick(isas)); setNativeThreads(1 + r.int(3)); }
    const call = makeCall(k, r);
    return {
      input: encoder.encode(`${describe(call)}\n`),
      exec: async () => {
        try {
          await call.run();
          return undefined;
        } catch (e) {
          const f = clear(e);
          return f && `${call.name}: ${f}`;
        }
      },
    };
  });
}

if (require.main === module) {
  fuzzBinding(fuzzSeconds()).then((res) => { process.exitCode = res.findings.length ? 1 : 0; },
    (e) => { console.error(e); process.exitCode = 2; });
}
