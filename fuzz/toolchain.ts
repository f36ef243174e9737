/**
 * Builds for the reliability checks (docs/reliability.md), shared by `npm run fuzz`, `npm run valgrind`
 * and test/sanitizers.test.ts:
 * - the libFuzzer harnesses fuzz/{linalg,model,random}.cc with clang (-fsanitize=fuzzer,address,undefined)
 *   into fuzz/build/;
 * - the native addon with gcc's AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/molrg.node
 *   (never build/Release), loaded with MOLRG_NATIVE_PATH and LD_PRELOAD of gcc's libasan.so;
 * - the plain (unsanitized) replay driver fuzz/replay.cc for valgrind.
 * Objects are rebuilt only when a source or header is newer. Compiles run in parallel, one per core.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const root = join(__dirname, '..');
const kernelDir = join(root, 'native', 'kernels');

/** The kernel sources (everything in native/kernels), absolute paths. */
export function kernelSources(): string[] {
  return readdirSync(kernelDir).filter((f) => f.endsWith('.cc')).sort().map((f) => join(kernelDir, f));
}

/** Whether `out` is newer than its inputs and every header of native/kernels (and fuzz/harness.h for harnesses). */
function upToDate(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return false;
  const t = statSync(out).mtimeMs;
  const headers = readdirSync(kernelDir).filter((f) => f.endsWith('.h')).map((f) => join(kernelDir, f));
  if (inputs.some((i) => i.startsWith(join(root, 'fuzz')))) headers.push(join(root, 'fuzz', 'harness.h'));
  return [...inputs, ...headers].every((i) => statSync(i).mtimeMs <= t);
}

/** Runs a command, rejecting with its output on failure. */
function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolveRun() : reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${out}`))));
  });
}

/** Runs tasks with at most one per core at a time. */
async function pool(tasks: (() => Promise<void>)[]): Promise<void> {
  const queue = [...tasks];
  const worker = async () => { for (let t = queue.shift(); t; t = queue.shift()) await t(); };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));
}

/** Compiles each source to `objDir/<flags hash>/<name>.o` (when stale); returns the object paths. */
async function compileAll(cxx: string, flags: string[], sources: string[], baseDir: string): Promise<string[]> {
  const objDir = join(baseDir, createHash('sha1').update([cxx, ...flags].join(' ')).digest('hex').slice(0, 12));
  mkdirSync(objDir, { recursive: true });
  const objects = sources.map((s) => join(objDir, `${basename(s, '.cc')}.o`));
  await pool(sources.map((s, i) => async () => {
    if (!upToDate(objects[i], [s])) await run(cxx, [...flags, '-c', s, '-o', objects[i]]);
  }));
  return objects;
}

/** The first compiler of `names` on PATH that accepts `probeFlags` on an empty program, or undefined. */
function findCompiler(names: string[], probeFlags: string[]): string | undefined {
  for (const name of names) {
    try {
      execFileSync(name, ['-x', 'c++', '-', '-o', '/dev/null', ...probeFlags], {
        input: 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n'
          + (probeFlags.includes('-fsanitize=fuzzer,address,undefined') ? '' : 'int main() { return 0; }\n'),
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      return name;
    } catch { /* not installed or not capable */ }
  }
  return undefined;
}

// ---- libFuzzer harnesses --------------------------------------------------------------------------

export const HARNESSES = ['linalg', 'model', 'random'] as const;
export type Harness = (typeof HARNESSES)[number];

const FUZZ_FLAGS = ['-std=c++17', '-O1', '-g', '-fno-omit-frame-pointer', '-fno-sanitize-recover=all', '-pthread'];

/** A clang that can build libFuzzer targets (MOLRG_FUZZ_CXX, clang++-14, clang++), or undefined. */
export function fuzzCompiler(): string | undefined {
  const names = process.env.MOLRG_FUZZ_CXX ? [process.env.MOLRG_FUZZ_CXX] : ['clang++-14', 'clang++'];
  return findCompiler(names, ['-fsanitize=fuzzer,address,undefined']);
}

/** Builds fuzz/build/fuzz-<harness> for every harness; returns their paths by name. */
export async function buildFuzzers(cxx: string): Promise<Record<Harness, string>> {
  const out = join(root, 'fuzz', 'build');
  const objects = await compileAll(cxx, [...FUZZ_FLAGS, '-fsanitize=fuzzer-no-link,address,undefined'], kernelSources(), join(out, 'obj'));
  const bins = {} as Record<Harness, string>;
  await pool(HARNESSES.map((h) => async () => {
    const src = join(root, 'fuzz', `${h}.cc`), bin = join(out, `fuzz-${h}`);
    if (!upToDate(bin, [src, ...objects])) await run(cxx, [...FUZZ_FLAGS, '-fsanitize=fuzzer,address,undefined', src, ...objects, '-o', bin]);
    bins[h] = bin;
  }));
  return bins;
}

/** Result of one libFuzzer run. */
export interface FuzzRun {
  harness: string;
  seconds: number;
  executions: number;
  /** Per-kernel call counts printed by the harness at exit. */
  calls: Record<string, number>;
  /** Saved crash/timeout/leak inputs (empty when clean). */
  findings: string[];
  exitCode: number | null;
  /** The tail of the output when the run failed. */
  log: string;
}

/**
 * Runs one harness for `seconds` over its committed seeds (fuzz/corpus/<h>, replayed first) and a
 * working corpus (fuzz/build/corpus/<h>); crashes go to fuzz/build/findings/<h>/.
 */
export function runFuzzer(bin: string, harness: string, seconds: number, extra: string[] = []): Promise<FuzzRun> {
  const work = join(root, 'fuzz', 'build', 'corpus', harness), seeds = join(root, 'fuzz', 'corpus', harness);
  const findingsDir = join(root, 'fuzz', 'build', 'findings', harness);
  for (const d of [work, seeds, findingsDir]) mkdirSync(d, { recursive: true });
  const before = new Set(readdirSync(findingsDir));
  // A unit running for 25 s is a hang (the slowest legitimate ones take about a second under ASan).
  const args = [work, seeds, `-max_total_time=${seconds}`, '-timeout=25', '-report_slow_units=25', '-rss_limit_mb=2048', '-print_final_stats=1',
    `-artifact_prefix=${findingsDir}/`, ...extra];
  return new Promise((resolveRun, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' } });
    let log = '';
    p.stderr.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-200_000); });
    p.on('error', reject);
    p.on('close', (code) => {
      const executions = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(log)?.[1] ?? NaN);
      const calls: Record<string, number> = {};
      for (const m of (/kernel calls:(.*)/.exec(log)?.[1] ?? '').matchAll(/(\w+)=(\d+)/g)) calls[m[1]] = Number(m[2]);
      const findings = readdirSync(findingsDir).filter((f) => !before.has(f) && !f.startsWith('slow-unit-')).map((f) => join(findingsDir, f));
      resolveRun({ harness, seconds, executions, calls, findings, exitCode: code, log: code === 0 ? '' : log.slice(-6000) });
    });
  });
}

// ---- the sanitized addon ----------------------------------------------------------------------------

/** gcc's AddressSanitizer runtime, to LD_PRELOAD into node (it must be the first library loaded). */
export function asanRuntime(cxx = 'g++'): string {
  return execFileSync(cxx, ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
}

/** The directory holding node_api.h: next to the node binary, the npm `nodedir`, or node-gyp's cache. */
function nodeHeaders(): string {
  const candidates = [
    join(dirname(process.execPath), '..', 'include', 'node'),
    ...(process.env.npm_config_nodedir ? [join(process.env.npm_config_nodedir, 'include', 'node')] : []),
    join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!found) throw new Error(`node_api.h not found in ${candidates.join(', ')} (install the Node.js headers or run npm run build:native once)`);
  return found;
}

/** Where the sanitized addon is built. */
export const ASAN_DIR = join(root, 'build-asan');

/** Builds build-asan/molrg.node: binding + kernels with -fsanitize=address,undefined (gcc); returns its path. */
export async function buildSanitizedAddon(cxx = 'g++'): Promise<string> {
  const addonApi = join(root, 'node_modules', 'node-addon-api');
  const flags = ['-std=c++17', '-O1', '-g', '-fno-omit-frame-pointer', '-fPIC', '-pthread', '-fsanitize=address,undefined',
    '-fno-sanitize-recover=all', '-fvisibility=hidden', '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_GYP_MODULE_NAME=molrg',
    `-I${nodeHeaders()}`, `-I${addonApi}`];
  const sources = [join(root, 'native', 'binding.cc'), ...kernelSources()];
  const objects = await compileAll(cxx, flags, sources, join(ASAN_DIR, 'obj'));
  const out = join(ASAN_DIR, 'molrg.node');
  if (!upToDate(out, objects)) await run(cxx, ['-shared', '-pthread', '-fsanitize=address,undefined', ...objects, '-o', out]);
  return out;
}

/** The environment that runs node with the sanitized addon. */
export function sanitizedEnv(addon: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LD_PRELOAD: asanRuntime(),
    MOLRG_NATIVE_PATH: addon,
    // V8 and node keep memory until exit by design: leak checking is valgrind's and the soak run's job.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:exitcode=86',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87',
    NODE_OPTIONS: '',
  };
}

// ---- the valgrind replay driver -----------------------------------------------------------------------

/**
 * Builds fuzz/build/replay-<harness>: the harnesses without sanitizers (for valgrind) and with a main
 * (fuzz/replay.cc) that feeds them files; clang, for the FuzzedDataProvider header.
 */
export async function buildReplay(cxx: string): Promise<Record<Harness, string>> {
  const out = join(root, 'fuzz', 'build');
  const flags = ['-std=c++17', '-O1', '-gdwarf-4', '-pthread'];  // valgrind 3.19 cannot read clang 14's default DWARF 5
  const objects = await compileAll(cxx, flags, kernelSources(), join(out, 'replay-obj'));
  const bins = {} as Record<Harness, string>;
  const driver = join(root, 'fuzz', 'replay.cc');
  await pool(HARNESSES.map((h) => async () => {
    const src = join(root, 'fuzz', `${h}.cc`), bin = join(out, `replay-${h}`);
    if (!upToDate(bin, [src, driver, ...objects])) await run(cxx, [...flags, src, driver, ...objects, '-o', bin]);
    bins[h] = bin;
  }));
  return bins;
}
