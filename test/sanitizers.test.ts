/**
 * Sanitizers in `npm test` (issue 7, docs/reliability.md): the native addon built with gcc's
 * AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ runs the native rows of the kernel
 * table and the raw-binding tests, and the binding fuzzer for a few seconds; the libFuzzer harnesses
 * of native/kernels replay their committed corpus and fuzz briefly. Every run must exit 0 with no
 * sanitizer report. Missing tools (gcc's libasan, clang with libFuzzer) fail under CI=true and skip
 * with a note elsewhere. MOLRG_SANITIZER_FUZZ_SECONDS sets the fuzzing time (default 10 s each).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildFuzzers, buildSanitizedAddon, type FuzzRun, fuzzCompiler, HARNESSES, root, runFuzzer, sanitizedEnv, type Harness,
} from '../fuzz/toolchain.js';

const ci = process.env.CI === 'true';
const fuzzSeconds = Number(process.env.MOLRG_SANITIZER_FUZZ_SECONDS ?? 10);
const REPORT = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/;

/** Runs node with the sanitized addon; resolves with the exit code and the combined output. */
function nodeWith(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveRun, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (d: Buffer) => { out = (out + d.toString()).slice(-400_000); };
    p.stdout.on('data', add);
    p.stderr.on('data', add);
    p.on('error', reject);
    p.on('close', (code) => resolveRun({ code, out }));
  });
}

function clean(what: string, r: { code: number | null; out: string }): void {
  const report = REPORT.exec(r.out);
  assert.ok(!report, `${what}: sanitizer report:\n${r.out.slice(Math.max(0, (report?.index ?? 0) - 2000), (report?.index ?? 0) + 6000)}`);
  assert.equal(r.code, 0, `${what} exited with ${r.code}:\n${r.out.slice(-6000)}`);
}

/** Skips (or, under CI, fails) when a tool is missing. */
function missing(ctx: Mocha.Context, what: string): never {
  if (ci) assert.fail(`${what} (CI=true: the sanitizer checks must run; see .ci/run)`);
  console.log(`      note: skipped, ${what}`);
  ctx.skip();
}

describe('sanitizers: ASan/UBSan addon and libFuzzer harnesses', function () {
  this.timeout(20 * 60_000);
  let addon: string | undefined, addonError = '';
  let bins: Record<Harness, string> | undefined, cxx: string | undefined;
  // The three checks run at once (the fuzzers are bounded by wall time); each test awaits its own.
  let table: Promise<{ code: number | null; out: string }> | undefined;
  let binding: Promise<{ code: number | null; out: string }> | undefined;
  let fuzzers: Promise<FuzzRun[]> | undefined;

  before(async () => {
    cxx = fuzzCompiler();
    // Both builds at once (each compiles one file per core).
    await Promise.all([
      buildSanitizedAddon().then((a) => { addon = a; }, (e: Error) => { addonError = e.message; }),
      cxx ? buildFuzzers(cxx).then((b) => { bins = b; }) : Promise.resolve(),
    ]);
    if (addon) {
      table = nodeWith({ ...sanitizedEnv(addon), MOLRG_TEST_BACKENDS: 'native' }, [join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--no-config', '--extension', 'ts', '--timeout', '600000', '--reporter', 'dot', 'test/kernels.test.ts', 'test/native-binding.test.ts']);
      binding = nodeWith(sanitizedEnv(addon), ['fuzz/binding.ts', '--seconds', String(fuzzSeconds)]);
    }
    const built = bins;
    if (built) fuzzers = Promise.all(HARNESSES.map((h) => runFuzzer(built[h], h, fuzzSeconds)));
  });

  it('the native kernel table and the raw-binding tests pass under ASan/UBSan', async function () {
    if (!addon || !table) missing(this, `the ASan/UBSan addon could not be built with g++: ${addonError.slice(0, 2000)}`);
    // The build really is instrumented: without the preloaded runtime it refuses to load.
    const plain = await nodeWith({ ...sanitizedEnv(addon), LD_PRELOAD: '' }, ['-e', `require(${JSON.stringify(addon)})`]);
    assert.match(plain.out, /ASan runtime does not come first/);
    const r = await table;
    clean('mocha under ASan/UBSan', r);
    assert.match(r.out, /\d+ passing/);
  });

  it(`the binding fuzzer finds nothing in ${fuzzSeconds} s under ASan/UBSan`, async function () {
    if (!binding) missing(this, 'the ASan/UBSan addon could not be built with g++');
    const r = await binding;
    clean('fuzz/binding.ts under ASan/UBSan', r);
    assert.match(r.out, /binding: \d+ executions in [\d.]+ s, 0 findings/);
  });

  it(`the libFuzzer harnesses replay their corpus and fuzz ${fuzzSeconds} s each without findings`, async function () {
    if (!fuzzers) missing(this, 'no clang with -fsanitize=fuzzer (Debian: apt-get install clang-14 libclang-rt-14-dev)');
    for (const h of HARNESSES) assert.ok(existsSync(join(root, 'fuzz', 'corpus', h)), `fuzz/corpus/${h} is committed`);
    for (const r of await fuzzers) {
      assert.deepEqual(r.findings, [], `fuzz-${r.harness} findings:\n${r.log}`);
      assert.equal(r.exitCode, 0, `fuzz-${r.harness} exited with ${r.exitCode}:\n${r.log}`);
      assert.ok(r.executions > 0, `fuzz-${r.harness} ran`);
    }
  });
});
