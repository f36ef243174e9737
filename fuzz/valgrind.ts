/**
 * `npm run valgrind`: valgrind memcheck on the native kernels (docs/reliability.md). The libFuzzer
 * harnesses are built without sanitizers with a plain main (fuzz/replay.cc) and replay the committed
 * corpus (fuzz/corpus/<harness>: every kernel, many shapes, all ISAs valgrind emulates) under
 * `valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite`. A C++ driver
 * rather than node under valgrind: node is slow there (V8's JIT) and reports V8's own doings, which
 * would need suppressions that could hide ours. Exits 1 on any error.
 *
 *   npm run valgrind [-- linalg model random]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildReplay, fuzzCompiler, HARNESSES, type Harness, root } from './toolchain.js';

function memcheck(bin: string, corpus: string): Promise<{ code: number | null; out: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolveRun, reject) => {
    const p = spawn('valgrind', ['--tool=memcheck', '--error-exitcode=1', '--leak-check=full', '--errors-for-leak-kinds=definite',
      '--show-leak-kinds=definite', bin, corpus], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MOLRG_THREADS: '2' } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolveRun({ code, out, seconds: (Date.now() - t0) / 1000 }));
  });
}

async function main() {
  const cxx = fuzzCompiler();
  if (!cxx) throw new Error('no clang++ found (the harnesses use its FuzzedDataProvider header): apt-get install clang-14 libclang-rt-14-dev');
  const names = process.argv.slice(2).filter((a) => (HARNESSES as readonly string[]).includes(a)) as Harness[];
  const bins = await buildReplay(cxx);
  let failed = false;
  for (const h of names.length ? names : HARNESSES) {
    const r = await memcheck(bins[h], join(root, 'fuzz', 'corpus', h));
    const replayed = /replayed (\d+) inputs/.exec(r.out)?.[1] ?? '?';
    const summary = /ERROR SUMMARY: (\d+) errors/.exec(r.out)?.[1] ?? '?';
    const calls = /kernel calls:(.*)/.exec(r.out)?.[1]?.trim() ?? '';
    console.log(`valgrind ${h}: ${replayed} inputs (${calls}) in ${r.seconds.toFixed(0)} s, ${summary} errors, exit ${r.code}`);
    if (r.code !== 0) {
      failed = true;
      console.log(r.out.slice(-20000));
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exitCode = 2; });
