/**
 * `npm run bench:peers` (issue 6): molrg (native, native on one thread, wasm, js, and the emscripten
 * build when present) against PyTorch, numpy/LAPACK, scikit-learn and ml-matrix on W1-W7 and the
 * GEMM-shaped passes, interleaved in one run. Prints Markdown tables, writes bench/results/peers.json.
 *
 *   npm run bench:peers
 *   npm run bench:peers -- --quick                   # 2 rounds, W6 on a sub-grid (smoke check)
 *   npm run bench:peers -- --only W1,W4 --backends native,wasm --rounds 5
 *   npm run bench:peers -- --threads 1               # molrg native and every peer on one thread
 *   npm run bench:peers -- --tiny --out /tmp/p.json  # tiny sizes (what the test runs)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatReport, runHarness } from './harness.js';
import { type WorkloadId, WORKLOADS } from './workloads.js';

const USAGE = 'usage: bench/peers/run.ts [--quick] [--tiny] [--only W1,W4,G1] [--backends native,native-1t,wasm,js,emscripten] [--rounds N] [--threads N] [--out file.json]';

function parse(argv: string[]): { only?: WorkloadId[]; backends?: string[]; rounds?: number; threads?: number; quick: boolean; tiny: boolean; out: string } {
  const o: ReturnType<typeof parse> = { quick: false, tiny: false, out: join(__dirname, '..', 'results', 'peers.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`Expected a value for ${a} but received nothing\n${USAGE}`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--tiny') o.tiny = true;
    else if (a === '--only') {
      const ids = value().split(',').map((s) => s.trim().toUpperCase());
      const bad = ids.filter((s) => !WORKLOADS.includes(s as WorkloadId));
      if (bad.length) throw new Error(`Expected workloads among ${WORKLOADS.join(',')} for --only but received ${bad.join(',')}`);
      o.only = ids as WorkloadId[];
    } else if (a === '--backends') o.backends = value().split(',').map((s) => s.trim());
    else if (a === '--rounds' || a === '--threads') {
      const v = value(), n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`Expected an integer >= 1 for ${a} but received ${v}`);
      if (a === '--rounds') o.rounds = n;
      else o.threads = n;
    } else if (a === '--out') o.out = value();
    else throw new Error(`Expected an option but received ${a}\n${USAGE}`);
  }
  return o;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const report = await runHarness({ only: o.only, backends: o.backends, rounds: o.rounds, threads: o.threads, quick: o.quick, tiny: o.tiny });
  console.log(formatReport(report));
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${o.out}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
