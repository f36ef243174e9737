/**
 * `npm run fuzz`: every fuzzer, time-bounded (docs/reliability.md).
 * 1. the libFuzzer harnesses of native/kernels (fuzz/{linalg,model,random}.cc; clang with
 *    -fsanitize=fuzzer,address,undefined), over their committed seeds (fuzz/corpus/<harness>);
 * 2. the binding's argument checks (fuzz/binding.ts), with the ASan/UBSan build of the addon when gcc
 *    can build it (else the regular build);
 * 3. the file readers (fuzz/readers.ts: model, npy, csv).
 * Seconds per fuzzer: MOLRG_FUZZ_SECONDS or `--seconds N` (default 60). Prints executions and findings,
 * writes fuzz/build/summary.json, exits 1 on any finding. Without clang/libFuzzer step 1 is skipped
 * with a note (an error when CI=true).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzSeconds } from './loop.js';
import {
  buildFuzzers, buildSanitizedAddon, fuzzCompiler, HARNESSES, root, runFuzzer, sanitizedEnv,
} from './toolchain.js';

interface Row { fuzzer: string; seconds: number; executions: number; findings: string[]; note?: string }

/** Runs a TypeScript fuzzer in a child node (tsx), parsing its "<name>: N executions ..., K findings" lines. */
function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Row[]> {
  return new Promise((resolveRun, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'fuzz', script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); process.stdout.write(d); });
    p.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-20000); });
    p.on('error', reject);
    p.on('close', (code) => {
      const rows: Row[] = [];
      for (const m of out.matchAll(/^(\S+): (\d+) executions in ([\d.]+) s, (\d+) findings$/gm)) {
        const name = m[1];
        rows.push({ fuzzer: name, seconds: Number(m[3]), executions: Number(m[2]),
          findings: [...out.matchAll(new RegExp(`^${name}: FINDING (.*)$`, 'gm'))].map((f) => f[1]) });
      }
      if (code !== 0 && code !== 1) {
        rows.push({ fuzzer: script, seconds: 0, executions: 0, findings: [`the process ended with ${code ?? 'a signal'}:\n${err.slice(-6000)}`] });
      }
      resolveRun(rows);
    });
  });
}

async function main() {
  const seconds = fuzzSeconds();
  const rows: Row[] = [];
  const ci = process.env.CI === 'true';

  const cxx = fuzzCompiler();
  if (cxx) {
    console.log(`building the libFuzzer harnesses with ${cxx} ...`);
    const bins = await buildFuzzers(cxx);
    for (const h of HARNESSES) {
      console.log(`fuzz-${h}: fuzzing for ${seconds} s`);
      const r = await runFuzzer(bins[h], h, seconds);
      const calls = Object.entries(r.calls).map(([k, v]) => `${k} ${v}`).join(', ');
      console.log(`fuzz-${h}: ${r.executions} executions (${calls}), ${r.findings.length} findings`);
      const findings = [...r.findings];
      if (r.exitCode !== 0 && findings.length === 0) findings.push(`exit ${r.exitCode}: ${r.log}`);
      rows.push({ fuzzer: `fuzz-${h}`, seconds, executions: r.executions, findings, note: calls });
    }
  } else {
    const msg = 'libFuzzer harnesses skipped: no clang with -fsanitize=fuzzer (Debian: apt-get install clang-14 libclang-rt-14-dev)';
    if (ci) throw new Error(msg);
    console.log(msg);
  }

  let env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  let bindingNote = 'regular build (no gcc sanitizers here)';
  try {
    env = sanitizedEnv(await buildSanitizedAddon());
    bindingNote = 'ASan/UBSan build (build-asan/molrg.node)';
  } catch (e) {
    if (ci) throw e;
    console.log(`the sanitized addon could not be built, fuzzing the binding on the regular build: ${(e as Error).message.split('\n')[0]}`);
  }
  for (const row of await runScript('binding.ts', ['--seconds', String(seconds)], env)) rows.push({ ...row, note: bindingNote });
  rows.push(...await runScript('readers.ts', ['--seconds', String(seconds)], { ...process.env, NODE_OPTIONS: '' }));

  console.log('\nfuzzer            seconds  executions  findings');
  for (const r of rows) console.log(`${r.fuzzer.padEnd(16)} ${String(Math.round(r.seconds)).padStart(8)} ${String(r.executions).padStart(11)} ${String(r.findings.length).padStart(9)}`);
  for (const r of rows) for (const f of r.findings) console.log(`FINDING ${r.fuzzer}: ${f}`);
  writeFileSync(join(root, 'fuzz', 'build', 'summary.json'), JSON.stringify({ date: new Date().toISOString(), seconds, rows }, null, 1) + '\n');
  process.exitCode = rows.some((r) => r.findings.length) ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exitCode = 2; });
