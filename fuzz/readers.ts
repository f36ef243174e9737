/**
 * Mutation fuzzer of the file readers (src/io): decodeModel (safetensors + CRC-32 metadata), decodeNpy
 * and parseCsv. Seeds are files the library writes (plus fuzz/corpus/readers/*, replayed first);
 * mutations are bit flips, byte sets, truncation, extension, length fields set huge, JSON header and
 * npy header edits, numbers made huge, and (half the time, for model files) a recomputed CRC so that
 * the checks behind it are reached. Each reader must return a well-formed result or throw its
 * documented Error ("Invalid model file ...", "Invalid .npy file ...", "Invalid CSV ..."), quickly and
 * without a jump in resident memory (a huge claimed size must be rejected before allocating).
 *
 *   npx tsx fuzz/readers.ts [--seconds 60] [model|npy|csv ...]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../src/io/files.js';
import { decodeModel, encodeModel } from '../src/io/model.js';
import { decodeNpy, encodeNpy } from '../src/io/npy.js';
import { parseCsv } from '../src/io/csv.js';
import { matrix, type Matrix } from '../src/matrix.js';
import { MoLRG } from '../src/model/molrg.js';
import { fuzzLoop, fuzzSeconds, type Finding, type LoopResult, Rng } from './loop.js';

const text = new TextDecoder('latin1'), utf8 = new TextEncoder();

function values(length: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length }, () => (r.u32() / 2 ** 31) - 1);
}

// ---- seeds ------------------------------------------------------------------------------------------

function modelSeeds(): Uint8Array[] {
  const a = new MoLRG({ n: 6, K: 2, d: 2, seed: 1 });
  const b = new MoLRG({ n: 5, K: 3, d: [1, 2, 3], seed: 2 });
  return [
    encodeModel(a),
    encodeModel({ bases: b.bases, pi: [0.2, 0.3, 0.5], lambda: [1, 2, 0.5], delta: 0.1, schedule: 'vp' }),
    encodeModel({ bases: [new MoLRG({ n: 3, K: 1, d: 1, seed: 3 }).bases[0]] }),
  ];
}

/** .npy bytes with a given header dict, format version and body. */
function npy(dict: string, version: 1 | 2 | 3, body: Uint8Array): Uint8Array {
  const lenSize = version === 1 ? 2 : 4;
  const padded = dict.padEnd(Math.ceil((8 + lenSize + dict.length + 1) / 64) * 64 - 8 - lenSize - 1, ' ') + '\n';
  const out = new Uint8Array(8 + lenSize + padded.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded.length, true); else view.setUint32(8, padded.length, true);
  out.set(utf8.encode(padded), 8 + lenSize);
  out.set(body, 8 + lenSize + padded.length);
  return out;
}

function npySeeds(): Uint8Array[] {
  const m = matrix(3, 4, values(12, 1));
  const f32 = new Uint8Array(m.data.buffer);
  return [
    encodeNpy(m), encodeNpy(matrix(2, 3, values(6, 2)), 'float64'),
    npy("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }", 2, f32),
    npy("{'descr': '<f4', 'fortran_order': False, 'shape': (12,), }", 3, f32),
  ];
}

function csvSeeds(): Uint8Array[] {
  return [
    'a,b,c\n1,2,3\n4.5,-6e-3,7\n',
    '"1","2"\r\n3,4\r\n\r\n',
    '0.1;0.2;0.3\n1e10;-1e-10;+.5\n',
  ].map((s) => utf8.encode(s));
}

/** Committed inputs (fuzz/corpus/readers/<target>-*), e.g. earlier findings. */
function committed(target: string): Uint8Array[] {
  const dir = join(__dirname, 'corpus', 'readers');
  try {
    return readdirSync(dir).filter((f) => f.startsWith(`${target}-`)).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
  } catch {
    return [];
  }
}

// ---- mutations --------------------------------------------------------------------------------------

const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x22, 0x2c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x30, 0x39, 0x2d, 0x2e, 0x65, 0x0a, 0x5c];
const HUGE_NUMBERS = ['0', '-1', '1.5', '1e308', '-1e308', '2147483648', '4294967297', '9007199254740993', '99999999999999999999',
  '1e15', '100000000', '65536', 'NaN', 'Infinity', '-0', '3.4e39', '1e-320'];

function replaceAt(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** Generic byte-level mutations. */
function mutateBytes(b: Uint8Array, r: Rng): Uint8Array {
  const at = b.length ? r.int(b.length) : 0;
  switch (r.int(6)) {
    case 0: { const c = b.slice(); if (c.length) c[at] ^= 1 << r.int(8); return c; }
    case 1: { const c = b.slice(); if (c.length) c[at] = r.pick(INTERESTING_BYTES); return c; }
    case 2: return b.slice(0, r.int(b.length + 1));
    case 3: return replaceAt(b, b.length, 0, Uint8Array.from({ length: 1 + r.int(64) }, () => r.int(256)));
    case 4: return replaceAt(b, at, 0, b.slice(at, at + 1 + r.int(32)));  // duplicate a chunk
    default: {  // a run of digits becomes another number
      const s = text.decode(b), runs = [...s.matchAll(/\d+/g)];
      if (!runs.length) return b;
      const m = r.pick(runs);
      return replaceAt(b, m.index ?? 0, m[0].length, utf8.encode(r.pick(HUGE_NUMBERS)));
    }
  }
}

/** A JSON value an attacker might put anywhere. */
function wildJson(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => Number(r.pick(HUGE_NUMBERS)), () => r.pick(HUGE_NUMBERS), () => null, () => [], () => ({}),
    () => [Number(r.pick(HUGE_NUMBERS)), Number(r.pick(HUGE_NUMBERS))], () => 'F16', () => 'U.0', () => true,
    () => Array.from({ length: 3 }, () => Number(r.pick(HUGE_NUMBERS))),
  ])();
}

/** Edit the JSON header of a safetensors file (then the length field matches again). */
function mutateModelHeader(b: Uint8Array, r: Rng): Uint8Array {
  if (b.length < 8) return b;
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  if (n > b.length - 8) return b;
  let header: Record<string, Record<string, unknown>>;
  try { header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))); } catch { return b; }
  if (typeof header !== 'object' || header === null) return b;
  const keys = Object.keys(header);
  const key = r.chance(0.1) ? `U.${r.int(5)}` : r.pick(keys.length ? keys : ['__metadata__']);
  const entry = header[key];
  if (typeof entry !== 'object' || entry === null || r.chance(0.1)) {
    if (r.chance(0.5)) delete header[key]; else header[key] = wildJson(r) as Record<string, unknown>;
  } else {
    const fields = Object.keys(entry);
    const field = r.chance(0.1) || !fields.length ? r.pick(['K', 'crc32', 'shape', 'dtype', 'data_offsets', 'extra']) : r.pick(fields);
    if (r.chance(0.2)) delete entry[field];
    else if (key === '__metadata__' && r.chance(0.7)) entry[field] = r.chance(0.7) ? r.pick(HUGE_NUMBERS) : JSON.stringify(wildJson(r));
    else entry[field] = wildJson(r);
  }
  const json = utf8.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + b.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(b.subarray(8 + n), 8 + json.length);
  return out;
}

/** The length field of a safetensors (u64 at 0) or npy (u16/u32 at 8) file set to something extreme. */
function mutateLength(b: Uint8Array, r: Rng, kind: 'model' | 'npy'): Uint8Array {
  const c = b.slice();
  const view = new DataView(c.buffer);
  if (kind === 'model' && c.length >= 8) {
    const choices = [0n, 1n, BigInt(c.length), BigInt(c.length - 7), 2n ** 32n, 2n ** 53n, 2n ** 64n - 1n, 100_000_001n, BigInt(r.u32())];
    view.setBigUint64(0, r.pick(choices), true);
  } else if (kind === 'npy' && c.length >= 12) {
    if (c[6] === 1) view.setUint16(8, r.pick([0, 1, 0xffff, c.length, r.int(65536)]), true);
    else view.setUint32(8, r.pick([0, 1, 0xffffffff, 0x7fffffff, c.length, r.u32()]), true);
  }
  return c;
}

/** Edit the npy header dict: shape, dtype, order, version. */
function mutateNpyHeader(b: Uint8Array, r: Rng): Uint8Array {
  const s = text.decode(b);
  const edits: [RegExp, string][] = [
    [/'shape': \([^)]*\)/, `'shape': (${r.pick(HUGE_NUMBERS)}, ${r.pick(HUGE_NUMBERS)})`],
    [/'shape': \([^)]*\)/, `'shape': (${r.pick(HUGE_NUMBERS)},)`],
    [/'shape': \([^)]*\)/, r.pick(["'shape': ()", "'shape': (2, 3, 2)", "'shape': (0, 5)", "'shape': (,)", "'shape': (3 4)"])],
    [/'descr': '[^']*'/, `'descr': '${r.pick(['<f2', '>f4', '<i4', '|u1', '<c8', '<f8', '<f4', 'O'])}'`],
    [/'fortran_order': \w+/, `'fortran_order': ${r.pick(['True', 'False', '1', 'None'])}`],
  ];
  const [re, rep] = r.pick(edits);
  const m = re.exec(s);
  if (!m) return b;
  const out = replaceAt(b, m.index, m[0].length, utf8.encode(rep.padEnd(m[0].length, ' ')));
  if (r.chance(0.3) && out.length > 7) out[6] = r.pick([0, 1, 2, 3, 4, 255]);
  return out;
}

/** Recompute __metadata__.crc32 the way saveModel does (so that the checks after the CRC are reached). */
function fixCrc(b: Uint8Array): Uint8Array {
  if (b.length < 8) return b;
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  if (n > b.length - 8) return b;
  const header = new TextDecoder().decode(b.subarray(8, 8 + n));
  const m = /"crc32":"[0-9a-f]{8}"/.exec(header);
  if (!m) return b;
  const zeroed = utf8.encode(header.slice(0, m.index) + '"crc32":"00000000"' + header.slice(m.index + m[0].length));
  if (zeroed.length !== n) return b;
  const crc = crc32([b.subarray(8 + n)], crc32([b.subarray(0, 8), zeroed])).toString(16).padStart(8, '0');
  const out = b.slice();
  out.set(utf8.encode(`"crc32":"${crc}"`), 8 + utf8.encode(header.slice(0, m.index)).length);
  return out;
}

// ---- targets ----------------------------------------------------------------------------------------

/** The documented failure of a reader, or a finding naming the undocumented one. */
function expectDocumented(e: unknown, prefix: string): Finding {
  if (e instanceof Error && e.constructor === Error && e.message.startsWith(prefix)) return undefined;
  const name = e instanceof Error ? e.constructor.name : typeof e;
  return `undocumented ${name}: ${e instanceof Error ? e.message.slice(0, 300) : String(e)}`;
}

function wellFormed(m: Matrix): boolean {
  return Number.isSafeInteger(m.rows) && Number.isSafeInteger(m.cols) && m.data.length === m.rows * m.cols && m.data.every(Number.isFinite);
}

interface Target {
  seeds: Uint8Array[];
  mutate: (b: Uint8Array, r: Rng) => Uint8Array;
  check: (b: Uint8Array) => Finding;
}

const TARGETS: Record<string, () => Target> = {
  model: () => ({
    seeds: [...modelSeeds(), ...committed('model')],
    mutate: (b, r) => {
      for (let i = 1 + r.int(3); i > 0; i--) {
        const op = r.int(10);
        b = op < 4 ? mutateModelHeader(b, r) : op < 5 ? mutateLength(b, r, 'model') : mutateBytes(b, r);
      }
      return r.chance(0.5) ? fixCrc(b) : b;
    },
    check: (b) => {
      let m;
      try { m = decodeModel(b, 'fuzz'); } catch (e) { return expectDocumented(e, 'Invalid model file fuzz: '); }
      // A model that loads can be saved again and loads the same.
      try {
        const again = decodeModel(encodeModel(m));
        return again.bases.length === m.bases.length && m.bases.every(wellFormed) ? undefined : 'a loaded model does not round-trip';
      } catch (e) {
        return `a loaded model cannot be saved and loaded again: ${(e as Error).message}`;
      }
    },
  }),
  npy: () => ({
    seeds: [...npySeeds(), ...committed('npy')],
    mutate: (b, r) => {
      for (let i = 1 + r.int(3); i > 0; i--) {
        const op = r.int(10);
        b = op < 4 ? mutateNpyHeader(b, r) : op < 5 ? mutateLength(b, r, 'npy') : mutateBytes(b, r);
      }
      return b;
    },
    check: (b) => {
      let m;
      try { m = decodeNpy(b, 'fuzz'); } catch (e) { return expectDocumented(e, 'Invalid .npy file fuzz: '); }
      return wellFormed(m) ? undefined : `decodeNpy returned a malformed matrix ${m.rows} x ${m.cols}`;
    },
  }),
  csv: () => ({
    seeds: [...csvSeeds(), ...committed('csv')],
    mutate: (b, r) => {
      for (let i = 1 + r.int(4); i > 0; i--) {
        b = r.chance(0.3)
          ? replaceAt(b, r.int(b.length + 1), 0, utf8.encode(r.pick([',', '"', '\n', '\r\n', ';', 'NaN', '1e39', '-', '.', ' ', '\t', '\uFEFF', ',,,', '"a,b"'])))
          : mutateBytes(b, r);
      }
      return b;
    },
    check: (b) => {
      let m;
      const delimiter = b.length && b[0] % 7 === 0 ? ';' : ',';
      try { m = parseCsv(new TextDecoder().decode(b), { delimiter }, 'fuzz'); } catch (e) { return expectDocumented(e, 'Invalid CSV fuzz: '); }
      return wellFormed(m) ? undefined : `parseCsv returned a malformed matrix ${m.rows} x ${m.cols}`;
    },
  }),
};

/** Checks one input of a reader (`model`, `npy`, `csv`): undefined when it behaves as documented. */
export function checkReader(name: string, bytes: Uint8Array): Finding {
  if (!TARGETS[name]) throw new RangeError(`Expected one of ${Object.keys(TARGETS).join(', ')} for the reader but received ${name}`);
  return TARGETS[name]().check(bytes);
}

/** Fuzzes each named reader for `seconds`: committed inputs first, then mutations of the seeds. */
export async function fuzzReaders(seconds: number, names = Object.keys(TARGETS)): Promise<LoopResult[]> {
  const results: LoopResult[] = [];
  for (const name of names) {
    if (!TARGETS[name]) throw new RangeError(`Expected one of ${Object.keys(TARGETS).join(', ')} for the reader but received ${name}`);
    const t = TARGETS[name]();
    const pool = [...t.seeds];
    let replay = 0;
    results.push(await fuzzLoop(`readers-${name}`, seconds, 'bin', (r) => {
      // Replay every seed once, then mutate; inputs that pass the reader join the pool (bounded).
      const input = replay < t.seeds.length ? t.seeds[replay++] : t.mutate(r.pick(pool), r);
      return {
        input,
        exec: () => {
          const finding = t.check(input);
          if (finding === undefined && pool.length < 256 && r.chance(0.05)) pool.push(input);
          return finding;
        },
      };
    }));
  }
  return results;
}

if (require.main === module) {
  const names = process.argv.slice(2).filter((a, i, all) => a !== '--seconds' && all[i - 1] !== '--seconds');
  fuzzReaders(fuzzSeconds(), names.length ? names : undefined).then((rs) => {
    process.exitCode = rs.some((r) => r.findings.length) ? 1 : 0;
  }, (e) => { console.error(e); process.exitCode = 2; });
}
