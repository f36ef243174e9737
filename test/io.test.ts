/**
 * Model and data files: safetensors round trips; truncated, bit-flipped and over-long-header files
 * rejected with a clear error; a save killed midway leaves the previous file intact; .npy and CSV
 * round trips and bad files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv, readCsv } from '../src/io/csv.js';
import { crc32, libraryVersion } from '../src/io/files.js';
import { decodeModel, encodeModel, loadModel, type ModelFile, saveModel } from '../src/io/model.js';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../src/io/npy.js';
import { fromRows, matrix, type Matrix } from '../src/matrix.js';
import { lowRankDAE } from '../src/model/dae.js';
import { MoLRG } from '../src/model/molrg.js';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'molrg-io-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

function sameModel(a: ModelFile, b: MoLRG | ModelFile): void {
  assert.equal(a.bases.length, b.bases.length);
  a.bases.forEach((U, k) => {
    assert.equal(U.rows, b.bases[k].rows);
    assert.equal(U.cols, b.bases[k].cols);
    assert.deepEqual(U.data, b.bases[k].data);
  });
  assert.deepEqual(a.pi, [...b.pi]);
  assert.deepEqual(a.lambda, [...b.lambda]);
  assert.equal(a.delta, b.delta);
}

describe('model files (safetensors)', () => {
  const model = new MoLRG({ n: 8, K: 3, d: [2, 1, 3], pi: [0.25, 0.25, 0.5], lambda: [1, 0.5, 2], delta: 0.01, seed: 3 });

  it('round-trips an MoLRG and a ModelFile, with safetensors layout and metadata', () => {
    const path = join(dir, 'model.safetensors');
    saveModel(path, model);
    const back = loadModel(path);
    sameModel(back, model);
    assert.equal(back.schedule, 've');
    saveModel(path, { ...back, schedule: 'vp' });
    assert.equal(loadModel(path).schedule, 'vp');
    saveModel(path, lowRankDAE(model.bases as Matrix[], { lambda: [1, 0.5, 2], pi: [0.25, 0.25, 0.5], delta: 0.01 }));
    sameModel(loadModel(path), model);
    // The layout any safetensors reader expects.
    const bytes = readFileSync(path);
    const N = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + N) % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + N).toString('utf8'));
    assert.deepEqual(header['U.1'], { dtype: 'F32', shape: [8, 1], data_offsets: [64, 96] });
    assert.deepEqual(header.pi.dtype, 'F64');
    assert.equal(header.__metadata__.format, 'molrg');
    assert.equal(header.__metadata__.version, libraryVersion());
    assert.equal(header.__metadata__.version, JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version);
    assert.deepEqual(JSON.parse(header.__metadata__.lambda), [1, 0.5, 2]);
    assert.equal(header.__metadata__.K, '3');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  it('rejects truncated files, over-long headers and damaged headers with a clear error', () => {
    const good = encodeModel(model);
    for (const cut of [0, 5, 8, 20, 200, good.length - 1]) {
      assert.throws(() => decodeModel(good.subarray(0, cut), 'm.st'), /^Error: Invalid model file m.st: expected (at least 8 bytes|a header length of at most|.*data_offsets within|tensor data covering)/, `cut ${cut}`);
    }
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    assert.throws(() => decodeModel(huge), /expected a header length of at most \d+ bytes .* but received 4611686018427387904/);
    const longer = good.slice();
    new DataView(longer.buffer).setUint32(0, good.length, true);
    assert.throws(() => decodeModel(longer), /header length/);
    const withExtra = new Uint8Array(good.length + 4);
    withExtra.set(good);
    assert.throws(() => decodeModel(withExtra), /covering all \d+ bytes after the header/);
    assert.throws(() => decodeModel(reheader(good, (h) => { h['U.0'].dtype = 'I32'; })), /dtype F32 or F64 for U.0/);
    assert.throws(() => decodeModel(reheader(good, (h) => { h['U.2'].shape = [8, 2]; })), /bytes for U.2/);
    assert.throws(() => decodeModel(reheader(good, (h) => { h['U.1'].data_offsets = [0, 32]; })), /without gaps or overlaps/);
    assert.throws(() => decodeModel(reheader(good, (h) => { delete h.pi; })), /a tensor pi but received none/);
    assert.throws(() => decodeModel(reheader(good, (h) => { h.extra = h.pi; })), /a tensor named "extra"/);
    assert.throws(() => decodeModel(reheader(good, (h) => { h.__metadata__.format = 'other'; })), /__metadata__.format "molrg"/);
    assert.throws(() => decodeModel(reheader(good, (h) => { h.__metadata__.K = '2'; })), /only the tensors U.0 .. U.1 and pi/);
    assert.throws(() => decodeModel(new TextEncoder().encode('\x02\0\0\0\0\0\0\0[]')), /a JSON object as header|__metadata__/);
    assert.throws(() => decodeModel(new TextEncoder().encode('\x03\0\0\0\0\0\0\0{x}')), /a UTF-8 JSON header/);
  });

  it('rejects every single-bit flip (CRC-32 over header and data) and a non-orthonormal model', () => {
    const good = encodeModel(model);
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 1 << (i % 8);
      assert.throws(() => decodeModel(bad, 'f'), /^Error: Invalid model file f: /, `flip at byte ${i}`);
    }
    // A consistently signed file whose values are wrong: non-orthonormal U.0, pi not summing to 1.
    const dataStart = 8 + Number(new DataView(good.buffer).getBigUint64(0, true));
    const skewed = good.slice();
    new DataView(skewed.buffer).setFloat32(dataStart, 2, true);
    assert.throws(() => decodeModel(resign(skewed), 'f'), /Invalid model file f: Expected orthonormal columns .* for U\[0\]/);
    const badPi = good.slice();
    new DataView(badPi.buffer).setFloat64(good.length - 8, 0.75, true);
    assert.throws(() => decodeModel(resign(badPi), 'f'), /Invalid model file f: Expected mixing weights that sum to 1 for pi/);
    // Saving validates first and leaves no file behind.
    const skew = { bases: [matrix(2, 1, [1, 1])], pi: [1], lambda: [1], delta: 0 };
    assert.throws(() => saveModel(join(dir, 'x.safetensors'), skew), /orthonormal columns .* for model.bases\[0\]/);
    assert.ok(!existsSync(join(dir, 'x.safetensors')));
  });

  it('a save killed midway (SIGKILL) leaves the previous file intact', async function () {
    this.timeout(60000);
    const path = join(dir, 'big.safetensors');
    saveModel(path, model);
    const before = readFileSync(path);
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'save-large-model.ts'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const temps = () => readdirSync(dir).filter((f) => f.startsWith('.big.safetensors.') && f.endsWith('.tmp'));
    const killedMidway = await new Promise<boolean>((resolve, reject) => {
      const timer = setInterval(() => {
        const t = temps();
        if (t.length && statSync(join(dir, t[0])).size > 0) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve(true);
        }
      }, 2);
      child.on('exit', () => { clearInterval(timer); resolve(false); });
      child.on('error', reject);
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r)));
    assert.ok(killedMidway, 'the child finished before it could be killed');
    assert.equal(child.signalCode, 'SIGKILL');
    assert.deepEqual(readFileSync(path), before);
    sameModel(loadModel(path), model);
    // The orphaned temporary file is all that is left of the interrupted save.
    assert.equal(temps().length, 1);
    for (const t of temps()) rmSync(join(dir, t));
  });
});

/** Recomputes the CRC-32 of a file the way the writer does (checksum field zeroed). */
function resign(bytes: Uint8Array): Uint8Array {
  const N = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + N));
  const zeroed = text.replace(/"crc32":"[0-9a-f]{8}"/, '"crc32":"00000000"');
  const crc = crc32([bytes.subarray(8 + N)], crc32([bytes.subarray(0, 8), new TextEncoder().encode(zeroed)]));
  const out = bytes.slice();
  out.set(new TextEncoder().encode(zeroed.replace('00000000', crc.toString(16).padStart(8, '0'))), 8);
  return out;
}

/** Re-encodes a valid file after editing its JSON header (the CRC is not updated). */
function reheader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const N = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + N)));
  edit(h);
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - N);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + N), 8 + json.length);
  return out;
}

describe('data files', () => {
  const m = fromRows([[1, -2.5, 3e-8], [4, 5, 6.25]]);

  it('npy round trips (float32, float64, Buffer), 1-D and Fortran order', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const path = join(dir, `m-${dtype}.npy`);
      writeNpy(path, m, dtype);
      const back = readNpy(path);
      assert.deepEqual([back.rows, back.cols], [2, 3]);
      assert.deepEqual(back.data, m.data);
      const bytes = readFileSync(path);
      assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
      assert.equal((10 + bytes.readUInt16LE(8)) % 64, 0);
      assert.ok(bytes.toString('latin1').includes(`'descr': '${dtype === 'float32' ? '<f4' : '<f8'}'`));
      assert.deepEqual(decodeNpy(Buffer.from(encodeNpy(m, dtype))).data, m.data);
    }
    // 1-D (3,) reads as 1 x 3; Fortran order is transposed into C order.
    const oneD = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", Float32Array.of(1, 2, 3));
    assert.deepEqual(decodeNpy(oneD), { rows: 1, cols: 3, data: Float32Array.of(1, 2, 3) });
    const fortran = npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", Float64Array.of(1, 4, 2, 5, 3, 6));
    assert.deepEqual(Array.from(decodeNpy(fortran).data), [1, 2, 3, 4, 5, 6]);
  });

  it('npy: bad files are rejected with a clear error', () => {
    const good = encodeNpy(m);
    assert.throws(() => decodeNpy(good.subarray(0, 5), 'a.npy'), /Invalid .npy file a.npy: expected the magic string/);
    assert.throws(() => decodeNpy(good.subarray(0, good.length - 4)), /expected 24 data bytes .* but received 20/);
    assert.throws(() => decodeNpy(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", Float32Array.of(1))), /dtype '<f4' or '<f8'.*'>f4'/);
    assert.throws(() => decodeNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", Float64Array.of(1))), /'<i8'/);
    assert.throws(() => decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), }", Float32Array.of(1))), /a 1-D or 2-D shape/);
    assert.throws(() => decodeNpy(npyBytes("{'descr': '<f4', 'shape': (1,), }", Float32Array.of(1))), /'fortran_order'/);
    assert.throws(() => decodeNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Float32Array.of(1, NaN))), /finite values .* NaN at row 0, column 1/);
    assert.throws(() => decodeNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", Float64Array.of(1e300))), /within float32 range/);
    const v9 = good.slice();
    v9[6] = 9;
    assert.throws(() => decodeNpy(v9), /format version 1, 2 or 3/);
    assert.throws(() => readNpy(join(dir, 'missing.npy')), /ENOENT/);
    assert.throws(() => writeNpy(join(dir, 'bad.npy'), matrix(1, 1, [NaN])), /finite values for m.data/);
  });

  it('CSV: numbers with an optional header row; bad files name the line and column', () => {
    const path = join(dir, 'd.csv');
    writeFileSync(path, 'a,b,c\n1,-2.5,3e-8\r\n4, 5 ,"6.25"\n\n');
    assert.deepEqual(readCsv(path), m);
    assert.deepEqual(parseCsv('1;2\n3;4', { delimiter: ';' }), fromRows([[1, 2], [3, 4]]));
    assert.deepEqual(parseCsv('1,2\n3,4', { header: true }), fromRows([[3, 4]]));
    assert.throws(() => parseCsv('1,2\n3'), /expected 2 fields on line 2 but received 1/);
    assert.throws(() => parseCsv('1,2\n3,x', {}, 'f.csv'), /Invalid CSV f.csv: expected a finite number on line 2, column 2 but received "x"/);
    assert.throws(() => parseCsv('1,2\n3,', { header: false }), /line 2, column 2 but received ""/);
    assert.throws(() => parseCsv('a,b\n'), /at least one row of numbers/);
    assert.throws(() => parseCsv('1e39'), /finite number/);
  });
});

/** A version-1.0 .npy file with the given header dict and data. */
function npyBytes(dict: string, data: Float32Array | Float64Array): Buffer {
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = dict + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]);
}
