// Builds the emscripten peer of issue 6: the C++ kernels of native/kernels, plus exports.cc for the ABI
// of wasm/assembly/index.ts, compiled by emcc to standalone WebAssembly without pthreads (the thread
// pool runs every region inline: exports.cc sets one thread) into bench/peers/emscripten/dist/:
//   molrg.emcc.simd.wasm    emcc -O3 -msimd128 (clang auto-vectorises the portable kernel bodies)
//   molrg.emcc.scalar.wasm  emcc -O3, no SIMD
// Optional: exits 0 with a message when emcc is absent (Debian: apt-get install emscripten).
// Usage: node bench/peers/emscripten/build.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const kernels = join(here, '..', '..', '..', 'native', 'kernels');
const dist = join(here, 'dist');

// Debian's emcc runs node scripts that need acorn from /usr/share/nodejs (TOOLCHAIN.md section 6).
const env = { ...process.env, NODE_PATH: [process.env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(':') };

const probe = spawnSync('emcc', ['--version'], { env, encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.log('emscripten peer skipped: emcc not found (apt-get install emscripten to build it)');
  process.exit(0);
}
console.log(probe.stdout.split('\n')[0]);

const sources = [
  ...readdirSync(kernels).filter((f) => f.endsWith('.cc')).map((f) => join(kernels, f)),
  join(here, 'exports.cc'),
];
const exported = ['alloc', 'free', 'simd', 'philox', 'randomU32', 'normals', 'uniforms', 'gemm', 'svd', 'eigh',
  'nearest', 'project', 'gate', 'denoise', 'lossGrad', 'stiefelStep', 'trainSteps', 'retract'];

const variants = [
  { name: 'simd', flags: ['-msimd128'] },
  { name: 'scalar', flags: [] },
];
// The native addon's flags (binding.gyp), without -pthread.
const common = ['-O3', '-std=c++17', '-fno-math-errno', '-Wall', '-Wextra'];

/** Run emcc; resolves with its exit code, printing its output on failure. */
function emcc(args) {
  return new Promise((resolve) => {
    const child = spawn('emcc', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('close', (code) => {
      if (code !== 0) console.error(`emcc ${args.join(' ')}\n${output}`);
      resolve(code);
    });
  });
}

/** Run the jobs with at most `limit` at a time; resolves with their results. */
async function pool(jobs, limit) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

let failed = false;
for (const { name, flags } of variants) {
  const started = Date.now();
  const objDir = join(dist, 'obj', name);
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  const objects = sources.map((src) => join(objDir, `${basename(src, '.cc')}.o`));
  const codes = await pool(sources.map((src, i) => () => emcc([...common, ...flags, '-c', src, '-o', objects[i]])),
    availableParallelism());
  const out = join(dist, `molrg.emcc.${name}.wasm`);
  const linked = codes.every((c) => c === 0) && await emcc([
    ...common, ...flags, ...objects, '--no-entry', '-sSTANDALONE_WASM', '-sALLOW_MEMORY_GROWTH',
    '-sMAXIMUM_MEMORY=4GB', `-sEXPORTED_FUNCTIONS=${exported.map((f) => `_${f}`).join(',')}`, '-o', out,
  ]) === 0;
  if (linked) {
    console.log(`built ${relative(process.cwd(), out)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    console.error(`emcc failed for the ${name} build`);
    failed = true;
  }
}
if (failed) process.exit(1);
