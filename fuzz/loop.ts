/**
 * The time-bounded loop of the JavaScript fuzzers (fuzz/readers.ts, fuzz/binding.ts). They are
 * mutation fuzzers, not coverage-guided: no coverage-guided JS fuzzer installs here (docs/reliability.md).
 *
 * Each execution's input is written to fuzz/build/findings/<name>/.current before it runs, so that a
 * crash of the process (e.g. the sanitized addon aborting) or a hang leaves the input behind; a
 * watchdog thread kills the process when one execution takes longer than 10 s. Findings (an
 * undocumented error, a slow execution, a jump in resident memory) are saved once per distinct
 * message as fuzz/build/findings/<name>/<n>.<ext> with a .txt description.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** A seeded xorshift generator (the run's seed is printed, so any run can be repeated). */
export class Rng {
  private x: number;
  constructor(seed: number) { this.x = (seed >>> 0) || 0x9e3779b9; }
  u32(): number {
    let x = this.x;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  /** An integer in [0, n). */
  int(n: number): number { return Math.floor((this.u32() / 2 ** 32) * n); }
  chance(p: number): boolean { return this.u32() / 2 ** 32 < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
}

/** What one execution did wrong (undefined: nothing). */
export type Finding = string | undefined;

export interface LoopResult { name: string; seconds: number; executions: number; findings: string[] }

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const beat = new Int32Array(workerData.sab);
let last = -1, since = Date.now();
setInterval(() => {
  const now = Atomics.load(beat, 0);
  if (now !== last) { last = now; since = Date.now(); return; }
  if (Date.now() - since > workerData.limitMs) {
    require('node:fs').writeSync(2, 'fuzz: one execution ran for more than ' + workerData.limitMs / 1000 + ' s (hang); its input is ' + workerData.current + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 500);
`;

/**
 * Runs `step` (one execution on a fresh input, returned as bytes for the record) for `seconds`.
 * `step` returns the input and a function that executes it and reports a finding.
 */
export async function fuzzLoop(name: string, seconds: number, ext: string,
  next: (rng: Rng) => { input: Uint8Array; exec: () => Finding | Promise<Finding> }): Promise<LoopResult> {
  const seed = Number(process.env.MOLRG_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const rng = new Rng(seed);
  const dir = join(__dirname, 'build', 'findings', name);
  mkdirSync(dir, { recursive: true });
  const current = join(dir, '.current');
  const fd = openSync(current, 'w');
  const sab = new SharedArrayBuffer(4);
  const beat = new Int32Array(sab);
  const dog = new Worker(WATCHDOG, { eval: true, workerData: { sab, limitMs: 10_000, current } });
  dog.unref();
  const seen = new Set<string>();
  const findings: string[] = [];
  const rss0 = process.memoryUsage.rss();
  const t0 = Date.now();
  let executions = 0;
  console.log(`${name}: fuzzing for ${seconds} s (MOLRG_FUZZ_SEED=${seed})`);
  try {
    while (Date.now() - t0 < seconds * 1000) {
      const { input, exec } = next(rng);
      ftruncateSync(fd, 0);
      writeSync(fd, input, 0, input.length, 0);
      Atomics.add(beat, 0, 1);
      const t = performance.now();
      let finding = await exec();
      const ms = performance.now() - t;
      if (finding === undefined && ms > 2000) finding = `slow: one execution took ${Math.round(ms)} ms`;
      const grown = process.memoryUsage.rss() - rss0;
      if (finding === undefined && grown > 512 * 2 ** 20) finding = `memory: resident memory grew by ${Math.round(grown / 2 ** 20)} MiB`;
      executions++;
      if (finding === undefined) continue;
      const key = finding.replace(/\d+/g, 'N');
      if (seen.has(key)) continue;
      seen.add(key);
      const file = join(dir, `${findings.length}.${ext}`);
      writeFileSync(file, input);
      writeFileSync(`${file}.txt`, `${finding}\n`);
      findings.push(`${finding} (input ${file})`);
      console.log(`${name}: FINDING ${finding} (input saved to ${file})`);
    }
  } finally {
    closeSync(fd);
    await dog.terminate();
  }
  const secs = (Date.now() - t0) / 1000;
  console.log(`${name}: ${executions} executions in ${secs.toFixed(1)} s, ${findings.length} findings`);
  return { name, seconds: secs, executions, findings };
}

/** The seconds per fuzzer: MOLRG_FUZZ_SECONDS or `--seconds N`, default 60. */
export function fuzzSeconds(): number {
  const i = process.argv.indexOf('--seconds');
  const v = Number(i >= 0 ? process.argv[i + 1] : process.env.MOLRG_FUZZ_SECONDS ?? 60);
  if (!(v > 0)) throw new RangeError(`Expected a positive number of seconds for MOLRG_FUZZ_SECONDS but received ${v}`);
  return v;
}
