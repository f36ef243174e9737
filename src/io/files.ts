/**
 * File helpers shared by the model and data formats: atomic writes, little-endian byte views of
 * typed arrays, CRC-32, and the library version for file metadata.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order (a view on little-endian hosts, a copy otherwise). */
export function leBytes(a: Float32Array | Float64Array): Uint8Array {
  if (littleEndian) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength), view = new DataView(out.buffer);
  const size = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < a.length; i++) {
    if (size === 4) view.setFloat32(4 * i, a[i], true);
    else view.setFloat64(8 * i, a[i], true);
  }
  return out;
}

/** Reads `count` little-endian floats (4 or 8 bytes each) from `bytes` at `offset` as float64 values. */
export function readFloats(bytes: Uint8Array, offset: number, count: number, size: 4 | 8): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * size);
  const out = new Float64Array(count);
  if (size === 4) for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib) of a sequence of chunks; pass the previous value to continue. */
export function crc32(chunks: readonly Uint8Array[], previous = 0): number {
  let c = ~previous >>> 0;
  for (const b of chunks) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Writes `chunks` to `path` atomically: a temporary file in the same directory is written, flushed
 * to disk (fsync) and renamed over `path`. A failure (or a killed process) at any point leaves the
 * previous file untouched; a failed write removes its temporary file.
 */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd = openSync(tmp, 'wx', 0o644);
  try {
    for (const chunk of chunks) {
      for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, Math.min(chunk.length - off, 1 << 24));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, target);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  // Make the rename itself durable where the platform allows fsync on a directory.
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* not supported here (e.g. Windows) */ }
}

let version: string | undefined;

/** The molrg version, from its package.json (src/io and dist/io both sit two levels below it). */
export function libraryVersion(): string {
  if (version === undefined) {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  }
  return version;
}
