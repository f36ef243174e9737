/**
 * The package as users get it: `npm pack` of a clean copy of the tree (prepack builds the wasm, the
 * TypeScript, the ESM and browser entries, and the prebuilt addon with prebuildify), installed from
 * the tarball into a temporary folder with no compiler on PATH (PATH holds node, npm and sh only;
 * CXX and CC point nowhere). From there: the addon loads from prebuilds/ (no build/ appears), ESM
 * and CommonJS consumers train a small model, the types resolve, the library falls back to wasm
 * with one MOLRG_NO_NATIVE warning when the prebuilds are gone, MOLRG_BACKEND=native then fails
 * with the diagnosis, and an install with no prebuild, no compiler or no install scripts at all
 * still gives a working library.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';

const root = resolve(__dirname, '..');
const PLATFORM = `${process.platform}-${process.arch}`;
/** Folders of the work tree that a fresh clone does not have, or that are never packed. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'build', 'dist', 'prebuilds', 'test-output', join('web', 'dist'), join('bench', 'results')]);

/** The smallest training a consumer runs, in both module systems: train, then compare with the truth. */
const CJS = `
const m = require('molrg');
const truth = new m.MoLRG({ n: 12, K: 2, d: 2, seed: 1 });
const { x } = truth.sample(300, 2);
const r = m.trainDAESync(x, { K: 2, d: 2, steps: 60, seed: 3 });
const info = m.backendInfo();
console.log(JSON.stringify({ backend: info.backend, isa: info.isa, distance: m.matchSubspaces(r.bases, truth.bases).max }));
`;
const ESM = `
import { MoLRG, backendInfo, matchSubspaces, trainDAE } from 'molrg';
const truth = new MoLRG({ n: 12, K: 2, d: 2, seed: 1 });
const { x } = truth.sample(300, 2);
const r = await trainDAE(x, { K: 2, d: 2, steps: 60, seed: 3 });
const info = backendInfo();
console.log(JSON.stringify({ backend: info.backend, isa: info.isa, distance: matchSubspaces(r.bases, truth.bases).max }));
`;
/** Type-checked only: real types (an error is expected where one must be), from both entries. */
const TYPED = `
import { MoLRG, backendInfo, trainDAE, type BackendInfo, type Matrix } from 'molrg';
const truth = new MoLRG({ n: 8, K: 2, d: 1, seed: 0 });
const x: Matrix = truth.sample(10, 1).x;
const info: BackendInfo = backendInfo();
const done: Promise<{ bases: Matrix[] }> = trainDAE(x, { K: 2, d: 1 });
// @ts-expect-error n must be a number
new MoLRG({ n: 'eight', K: 2, d: 1, seed: 0 });
export { done, info };
`;

interface Run { status: number | null; stdout: string; stderr: string }

describe('package: npm pack, installed without a compiler', function () {
  this.timeout(600_000);
  const tmp = mkdtempSync(join(tmpdir(), 'molrg-package-'));
  const bin = join(tmp, 'bin'), app = join(tmp, 'app');
  let tarball = '';
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: bin, HOME: process.env.HOME ?? tmp, TMPDIR: tmpdir(), CXX: '/nonexistent', CC: '/nonexistent', ...extra,
  });
  const run = (cwd: string, cmd: string, args: string[], extra: Record<string, string> = {}): Run => {
    const r: SpawnSyncReturns<string> = spawnSync(cmd, args, { cwd, env: env(extra), encoding: 'utf8', timeout: 300_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (r: Run, what: string): Run => {
    assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const install = (dir: string, spec: string, flags: string[] = []): Run => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
    return ok(run(dir, 'npm', ['install', spec, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn', ...flags]), `npm install ${spec}`);
  };
  const result = (r: Run): { backend: string; isa: string; distance: number } => JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  const installed = (dir: string) => join(dir, 'node_modules', 'molrg');

  before(function () {
    const t0 = Date.now();
    // PATH for everything below: node, npm, npx and sh only (no compiler, python or make).
    mkdirSync(bin);
    const npmBin = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
    for (const [name, target] of [['node', process.execPath], ['npm', npmBin], ['npx', join(npmBin, '..', 'npx')], ['sh', '/bin/sh']]) {
      symlinkSync(target, join(bin, name));
    }
    // A clean copy of the tree (as a fresh clone has it), with the dev dependencies linked in.
    const src = join(tmp, 'src');
    cpSync(root, src, { recursive: true, filter: (f) => !NOT_COPIED.has(relative(root, f)) && !f.endsWith('.tgz') });
    symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'));
    // npm pack runs prepack; the compiler is needed here (prebuildify), so the PATH is the usual one.
    const pack = spawnSync('npm', ['pack', '--pack-destination', tmp, '--loglevel=warn'], { cwd: src, encoding: 'utf8', timeout: 500_000 });
    assert.equal(pack.status, 0, `npm pack failed:\n${pack.stdout}\n${pack.stderr}`);
    tarball = join(tmp, pack.stdout.trim().split('\n').pop() ?? '');
    const packed = Date.now();
    install(app, tarball);
    writeFileSync(join(app, 'consumer.cjs'), CJS);
    writeFileSync(join(app, 'consumer.mjs'), ESM);
    console.log(`      (packed in ${((packed - t0) / 1000).toFixed(1)} s, installed in ${((Date.now() - packed) / 1000).toFixed(1)} s)`);
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('ships dist/, wasm/dist/, prebuilds/ and the native sources, and no build/', () => {
    const pkg = installed(app);
    for (const f of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/browser.mjs', 'wasm/dist/molrg.simd.wasm',
      'wasm/dist/molrg.scalar.wasm', 'binding.gyp', 'CMakeLists.txt', 'native/binding.cc']) {
      assert.ok(existsSync(join(pkg, f)), `${f} is missing from the installed package`);
    }
    assert.deepEqual(readdirSync(join(pkg, 'prebuilds')), [PLATFORM]);
    assert.ok(readdirSync(join(pkg, 'prebuilds', PLATFORM)).some((f) => f.endsWith('.node')), 'no prebuilt .node');
    assert.ok(!existsSync(join(pkg, 'build')), 'a build/ folder appeared: something was compiled at install');
  });

  it('a CommonJS consumer trains on the native addon from prebuilds/', () => {
    const r = result(ok(run(app, 'node', ['consumer.cjs']), 'consumer.cjs'));
    assert.equal(r.backend, 'native');
    assert.ok(r.distance < 0.1, `distance ${r.distance}`);
    const where = ok(run(app, 'node', ['-p', `require('node-gyp-build').path(${JSON.stringify(installed(app))})`]), 'node-gyp-build.path');
    assert.ok(where.stdout.includes(`${sep}prebuilds${sep}${PLATFORM}${sep}`), `loaded from ${where.stdout}`);
  });

  it('an ESM consumer trains on the native addon', () => {
    const r = result(ok(run(app, 'node', ['consumer.mjs']), 'consumer.mjs'));
    assert.equal(r.backend, 'native');
    assert.ok(r.distance < 0.1, `distance ${r.distance}`);
  });

  it('the types resolve for ESM (import) and CommonJS (require) consumers and for bundlers (browser)', () => {
    writeFileSync(join(app, 'esm.mts'), TYPED);
    writeFileSync(join(app, 'cjs.cts'), TYPED.replace('export { done, info };', 'export = { done, info };'));
    writeFileSync(join(app, 'web.ts'), `import { init, backendInfo } from 'molrg';\nawait init({ wasmUrl: '/molrg.simd.wasm' });\nexport const b: string = backendInfo().backend;\n`);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const common = { strict: true, noEmit: true, target: 'ES2022', skipLibCheck: false };
    // Node consumers have @types/node (linked from this repository); browser ones the DOM lib.
    const node = { types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...common, ...node, module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'] }, files: ['esm.mts', 'cjs.cts'] }));
    ok(run(app, 'node', [tsc, '-p', 'tsconfig.json']), 'tsc (NodeNext consumers)');
    writeFileSync(join(app, 'tsconfig.web.json'), JSON.stringify({ compilerOptions: { ...common, types: [], module: 'ESNext', moduleResolution: 'Bundler', customConditions: ['browser'], lib: ['ES2022', 'DOM'] }, files: ['web.ts'] }));
    ok(run(app, 'node', [tsc, '-p', 'tsconfig.web.json']), 'tsc (bundler, browser condition)');
  });

  it('without prebuilds the consumers run on wasm, with one MOLRG_NO_NATIVE warning', () => {
    rmSync(join(installed(app), 'prebuilds'), { recursive: true });
    for (const file of ['consumer.cjs', 'consumer.mjs']) {
      const r = ok(run(app, 'node', [file]), file);
      assert.equal(result(r).backend, 'wasm');
      assert.ok(result(r).distance < 0.1, `distance ${result(r).distance}`);
      assert.equal(r.stderr.match(/MOLRG_NO_NATIVE/g)?.length, 1, `stderr:\n${r.stderr}`);
    }
  });

  it('MOLRG_BACKEND=native without a binary fails with the platform key, what was tried and the remedy', () => {
    const r = run(app, 'node', ['consumer.cjs'], { MOLRG_BACKEND: 'native' });
    assert.notEqual(r.status, 0, 'a forced native backend must not fall back');
    const libc = process.platform === 'linux' ? (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ? 'glibc' : 'musl' : '';
    for (const part of [process.platform, process.arch, libc, 'prebuilds', 'Remedy', 'MOLRG_BACKEND=wasm']) {
      assert.ok(r.stderr.includes(part), `the error does not mention ${part}:\n${r.stderr}`);
    }
  });

  it('with no prebuild and no compiler, npm install still succeeds and the library runs on wasm', () => {
    // The same tarball without its prebuilds: the install script finds nothing and cannot compile.
    const unpacked = join(tmp, 'unpacked');
    mkdirSync(unpacked);
    const extract = spawnSync('tar', ['-xzf', tarball, '-C', unpacked], { encoding: 'utf8' });
    assert.equal(extract.status, 0, extract.stderr);
    rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true });
    const bare = join(tmp, 'bare');
    const r = install(bare, join(unpacked, 'package'), ['--install-links']);
    assert.ok(!existsSync(join(installed(bare), 'build', 'Release')), 'something was compiled without a compiler?');
    writeFileSync(join(bare, 'consumer.cjs'), CJS);
    const c = ok(run(bare, 'node', ['consumer.cjs']), 'consumer.cjs');
    assert.equal(result(c).backend, 'wasm', `${r.stdout}\n${r.stderr}`);
  });

  it('with install scripts skipped, the addon still loads from prebuilds/', () => {
    const skipped = join(tmp, 'skipped');
    install(skipped, tarball, ['--ignore-scripts', '--offline']);
    writeFileSync(join(skipped, 'consumer.mjs'), ESM);
    assert.equal(result(ok(run(skipped, 'node', ['consumer.mjs']), 'consumer.mjs')).backend, 'native');
  });
});
