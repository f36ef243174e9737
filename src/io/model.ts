/**
 * Model files as safetensors (DESIGN.md): an 8-byte little-endian header length N, N bytes of JSON
 * header, then the tensor bytes. Tensors `U.0 .. U.{K-1}` (F32, `[n, d_k]`) and `pi` (F64, `[K]`);
 * `__metadata__` holds format "molrg", version, schedule, lambda (JSON), delta, K and a CRC-32 of the
 * whole file, so Python users can read the file with the `safetensors` package and molrg can tell a
 * damaged file from a good one.
 */
import { readFileSync } from 'node:fs';
import { fail } from '../backend/validate.js';
import type { Matrix } from '../matrix.js';
import { checkBases, checkPrior } from '../model/molrg.js';
import type { ScheduleName } from '../model/schedules.js';
import { crc32, leBytes, libraryVersion, readFloats, writeFileAtomic } from './files.js';

/** A model as stored in a file: the parameters of an MoLRG or of a low-rank DAE. */
export interface ModelFile {
  /** K orthonormal bases `[n, d_k]`. */
  bases: Matrix[];
  /** Mixing weights, sum 1. */
  pi: number[];
  /** Latent variances, one per component. */
  lambda: number[];
  /** Off-subspace noise floor. */
  delta: number;
  /** The noise schedule the model was trained with; default `ve`. */
  schedule?: ScheduleName;
}

/** What `saveModel` accepts: a `ModelFile`, an `MoLRG`, or a low-rank denoiser (defaults as in SPEC section 1). */
export interface ModelLike {
  readonly bases: readonly Matrix[];
  readonly pi?: readonly number[];
  readonly lambda?: number | readonly number[];
  readonly delta?: number;
  readonly schedule?: ScheduleName;
}

/** Largest header accepted (the safetensors limit). */
const MAX_HEADER = 100_000_000;
/** Header text with the checksum zeroed, used when computing and verifying the CRC. */
const CRC_PLACEHOLDER = '00000000';

function checkModel(model: unknown): ModelFile {
  if (typeof model !== 'object' || model === null) fail('a model { bases, pi, lambda, delta }', 'model', model, TypeError);
  const m = model as ModelLike;
  const bases = checkBases('model.bases', m.bases);
  const p = checkPrior(bases.length, m.pi, m.lambda, m.delta);
  const schedule = m.schedule ?? 've';
  if (schedule !== 've' && schedule !== 'vp') fail("'ve' or 'vp'", 'model.schedule', schedule);
  return { bases, pi: p.pi, lambda: p.lambda, delta: p.delta, schedule };
}

/** The file as a header and the tensor byte chunks, in file order. */
function encodeParts(model: ModelFile): Uint8Array[] {
  const K = model.bases.length;
  const tensors: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  const data: Uint8Array[] = [];
  let offset = 0;
  const add = (name: string, dtype: string, shape: number[], bytes: Uint8Array) => {
    tensors[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    data.push(bytes);
    offset += bytes.length;
  };
  model.bases.forEach((U, k) => add(`U.${k}`, 'F32', [U.rows, U.cols], leBytes(U.data)));
  add('pi', 'F64', [K], leBytes(Float64Array.from(model.pi)));
  const header = (crc: string) => {
    const metadata = {
      format: 'molrg',
      version: libraryVersion(),
      schedule: model.schedule ?? 've',
      lambda: JSON.stringify(model.lambda),
      delta: JSON.stringify(model.delta),
      K: String(K),
      crc32: crc,
    };
    let text = JSON.stringify({ __metadata__: metadata, ...tensors });
    // Pad with spaces so that the tensor bytes start 8-byte aligned (as the Rust writer does).
    text += ' '.repeat((8 - ((8 + Buffer.byteLength(text)) % 8)) % 8);
    const json = new TextEncoder().encode(text);
    const out = new Uint8Array(8 + json.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const crc = crc32(data, crc32([header(CRC_PLACEHOLDER)]));
  return [header(crc.toString(16).padStart(8, '0')), ...data];
}

/**
 * Encodes a model as safetensors bytes (see `saveModel`).
 * @param model - a `ModelFile`, an `MoLRG` or a low-rank DAE
 */
export function encodeModel(model: ModelLike): Uint8Array {
  const parts = encodeParts(checkModel(model));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * Saves a model as a safetensors file (tensors `U.0 .. U.{K-1}` F32 and `pi` F64; metadata format,
 * version, schedule, lambda, delta, K, crc32). The write is atomic: a temporary file in the same
 * directory is written, fsynced and renamed, so a failed or interrupted save never destroys the
 * previous file.
 * @param path - the file to write
 * @param model - a `ModelFile`, an `MoLRG` or a low-rank DAE
 */
export function saveModel(path: string, model: ModelLike): void {
  if (typeof path !== 'string' || path === '') fail('a file path', 'path', path, TypeError);
  writeFileAtomic(path, encodeParts(checkModel(model)));
}

/**
 * Decodes and validates safetensors bytes written by `saveModel` (see `loadModel`).
 * @param bytes - the whole file
 * @param source - a name for error messages (the path)
 */
export function decodeModel(bytes: Uint8Array, source = '(bytes)'): ModelFile {
  if (!(bytes instanceof Uint8Array)) fail('a Uint8Array', 'bytes', bytes, TypeError);
  const bad: (what: string, received: string) => never = (what, received) => {
    throw new Error(`Invalid model file ${source}: expected ${what} but received ${received}`);
  };
  const size = bytes.length;
  if (size < 8) bad('at least 8 bytes (the header length)', `a file of ${size} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const claimed = view.getBigUint64(0, true);
  if (claimed > BigInt(Math.min(size - 8, MAX_HEADER))) {
    bad(`a header length of at most ${Math.min(size - 8, MAX_HEADER)} bytes (the file has ${size})`, `${claimed} (truncated or damaged file)`);
  }
  const N = Number(claimed);
  if (N < 2) bad('a JSON header of at least 2 bytes', `${N}`);
  let text = '';
  let header: Record<string, unknown>;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + N));
    header = JSON.parse(text);
  } catch (e) {
    return bad('a UTF-8 JSON header', `unparseable text (${e instanceof Error ? e.message : e})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('a JSON object as header', typeof header);

  const meta = header.__metadata__ as Record<string, unknown> | undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) bad('a __metadata__ object', String(meta));
  for (const [k, v] of Object.entries(meta)) if (typeof v !== 'string') bad(`a string for __metadata__.${k}`, JSON.stringify(v));
  if (meta.format !== 'molrg') bad('__metadata__.format "molrg"', JSON.stringify(meta.format));
  const K = Number(meta.K);
  if (typeof meta.K !== 'string' || !/^[1-9]\d*$/.test(meta.K) || !Number.isSafeInteger(K)) bad('__metadata__.K, a positive integer', JSON.stringify(meta.K));

  // Tensors: exactly U.0 .. U.{K-1} and pi, each within the data buffer. Nothing of size K is
  // allocated (a damaged K can claim billions): names are checked by pattern, and the tensors are
  // read in order until the first missing one.
  const dataStart = 8 + N, dataLength = size - dataStart;
  for (const key of Object.keys(header)) {
    const k = /^U\.(0|[1-9]\d*)$/.exec(key)?.[1];
    if (key !== '__metadata__' && key !== 'pi' && !(k !== undefined && Number(k) < K)) {
      bad(`only the tensors U.0 .. U.${K - 1} and pi`, `a tensor named ${JSON.stringify(key)}`);
    }
  }
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensor = (name: string, rank: number) => {
    const t = header[name] as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | undefined;
    if (typeof t !== 'object' || t === null) return bad(`a tensor ${name}`, 'none');
    if (t.dtype !== 'F32' && t.dtype !== 'F64') bad(`dtype F32 or F64 for ${name}`, JSON.stringify(t.dtype));
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length !== rank || !shape.every((s) => Number.isSafeInteger(s) && s >= 1)) {
      bad(`a shape of ${rank} positive integers for ${name}`, JSON.stringify(shape));
    }
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
      bad(`data_offsets [begin, end] with 0 <= begin <= end for ${name}`, JSON.stringify(offs));
    }
    const [begin, end] = offs as number[];
    const itemSize = t.dtype === 'F32' ? 4 : 8;
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * itemSize) bad(`${count * itemSize} bytes for ${name} (${t.dtype} ${JSON.stringify(shape)})`, `data_offsets [${begin}, ${end}]`);
    if (end > dataLength) bad(`data_offsets within the ${dataLength} data bytes for ${name}`, `[${begin}, ${end}] (truncated file?)`);
    spans.push({ name, begin, end });
    return { shape: shape as number[], begin, count, itemSize: itemSize as 4 | 8 };
  };
  const Us: ReturnType<typeof tensor>[] = [];
  for (let k = 0; k < K; k++) Us.push(tensor(`U.${k}`, 2));
  const piT = tensor('pi', 1);
  const n = Us[0].shape[0];
  Us.forEach((u, k) => { if (u.shape[0] !== n) bad(`${n} rows (the ambient dimension) for U.${k}`, `shape ${JSON.stringify(u.shape)}`); });
  if (piT.shape[0] !== K) bad(`shape [${K}] for pi`, `shape ${JSON.stringify(piT.shape)}`);
  spans.sort((a, b) => a.begin - b.begin);
  let at = 0;
  for (const s of spans) {
    if (s.begin !== at) bad(`tensor data without gaps or overlaps (${s.name} to begin at byte ${at})`, `data_offsets [${s.begin}, ${s.end}]`);
    at = s.end;
  }
  if (at !== dataLength) bad(`tensor data covering all ${dataLength} bytes after the header`, `${at} bytes of tensors (extra or missing bytes)`);

  // Integrity: CRC-32 of the file with the checksum itself zeroed.
  const stored = meta.crc32;
  if (typeof stored !== 'string' || !/^[0-9a-f]{8}$/.test(stored)) bad('__metadata__.crc32, 8 hex digits', JSON.stringify(stored));
  const field = `"crc32":"${stored}"`;
  const where = text.indexOf(field);
  if (where < 0 || text.indexOf(field, where + 1) >= 0) bad('one compact "crc32" field in the header', 'none or several');
  const zeroed = new TextEncoder().encode(text.slice(0, where) + `"crc32":"${CRC_PLACEHOLDER}"` + text.slice(where + field.length));
  const lengthBytes = bytes.subarray(0, 8);
  const actual = crc32([bytes.subarray(dataStart)], crc32([lengthBytes, zeroed])).toString(16).padStart(8, '0');
  if (actual !== stored) bad(`CRC-32 ${stored} (from the header)`, `${actual}: the file is damaged`);

  // Values: finite, orthonormal bases, a prior that sums to 1.
  const values = (t: { begin: number; count: number; itemSize: 4 | 8 }) => readFloats(bytes, dataStart + t.begin, t.count, t.itemSize);
  const bases: Matrix[] = Us.map((u) => ({ rows: u.shape[0], cols: u.shape[1], data: Float32Array.from(values(u)) }));
  const pi = Array.from(values(piT));
  const lambda = parseJson(meta.lambda, (v) => Array.isArray(v) && v.length === K && v.every((x) => typeof x === 'number'), bad, `__metadata__.lambda, a JSON array of ${K} numbers`);
  const delta = parseJson(meta.delta, (v) => typeof v === 'number', bad, '__metadata__.delta, a JSON number');
  const schedule = meta.schedule ?? 've';
  if (schedule !== 've' && schedule !== 'vp') bad('__metadata__.schedule "ve" or "vp"', JSON.stringify(schedule));
  try {
    const U = checkBases('U', bases);
    const p = checkPrior(K, pi, lambda as number[], delta as number);
    return { bases: U, pi: p.pi, lambda: p.lambda, delta: p.delta, schedule: schedule as ScheduleName };
  } catch (e) {
    throw new Error(`Invalid model file ${source}: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
}

function parseJson(text: unknown, ok: (v: unknown) => boolean, bad: (what: string, received: string) => never, what: string): unknown {
  let v: unknown;
  try { v = JSON.parse(String(text)); } catch { return bad(what, JSON.stringify(text)); }
  if (!ok(v)) bad(what, JSON.stringify(text));
  return v;
}

/**
 * Loads a model saved by `saveModel`, checking the header length against the file size, the JSON
 * header, dtypes, shapes, that the tensor data covers the buffer without gaps or overlaps, the CRC-32,
 * orthonormality of the bases and that pi sums to 1. A damaged file throws an Error that says what
 * is wrong (`Invalid model file <path>: expected ... but received ...`).
 */
export function loadModel(path: string): ModelFile {
  if (typeof path !== 'string' || path === '') fail('a file path', 'path', path, TypeError);
  return decodeModel(readFileSync(path), path);
}
