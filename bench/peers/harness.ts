/**
 * The harness of `npm run bench:peers` (issue 6): finds the peers, builds the workloads, runs every
 * (workload, implementation) pair interleaved in rounds (each round runs every pair once, the order
 * rotated from round to round, so that slow drifts of a shared machine hit every pair alike), and
 * reports medians over rounds, ratios to molrg native and to the issue's target peer, GFLOP/s, the
 * issue's targets as pass/miss, and a JSON record.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Exchange } from './data.js';
import { extraBackends } from './emscripten.js';
import { probeInterpreters, PythonServer, type ServerInfo } from './python.js';
import {
  buildWorkloads, type Context, type Entry, FULL, molrgBackends, type Peers, restoreBackends, TINY, type WorkloadId, WORKLOADS,
} from './workloads.js';

export interface HarnessOptions {
  /** Workloads to run (default all). */
  only?: readonly WorkloadId[];
  /** molrg backends to run, by id (`native`, `native-1t`, `wasm`, `js`, `emscripten`); default every one that loads. */
  backends?: readonly string[] | null;
  /** Rounds of the short workloads (W1-W5, G1-G3); default 7, or 2 with `quick`. W6 runs once, W7 at most 3 times. */
  rounds?: number;
  /** Few rounds, W6 on a sub-grid (extrapolated): a smoke check. */
  quick?: boolean;
  /** Tiny problem sizes (tests): the same code in seconds. */
  tiny?: boolean;
  /**
   * Threads of molrg native and of every peer (PyTorch intra-op, OpenBLAS); default the machine's
   * cores. molrg native is also measured on one thread (`native-1t`) for the wasm target.
   */
  threads?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/**
 * A full garbage collection before each measurement (when node runs with --expose-gc, as `npm run
 * bench:peers` does): the large workloads leave a large heap, and V8's concurrent marking of it then
 * ran on the second core during the next measurement. molrg native's W1 step, which draws its noise on
 * that core: median 45-52 us in full runs against 33-36 us with W1 alone.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Statistics of one entry over its rounds. */
export interface EntryResult {
  workload: WorkloadId;
  impl: string;
  label: string;
  threads: string;
  /** Seconds per repetition (W1, W2: per training step), one per round. */
  samples: number[];
  median: number | null;
  min: number | null;
  max: number | null;
  reps: number;
  /** median / median of molrg native. */
  vsNative: number | null;
  /** median / median of the fastest implementation of the workload's target peer. */
  vsTargetPeer: number | null;
  /** GFLOP/s of the median time, and of the fastest round (closer to the machine's limit on a busy machine). */
  gflops: number | null;
  gflopsBest: number | null;
  accuracy: number | null;
  extrapolated: string | null;
  note: string | null;
  error: string | null;
}

export interface TargetResult {
  id: string;
  text: string;
  value: number | null;
  threshold: number;
  /** `>=` or `<=`. */
  sense: '>=' | '<=';
  pass: boolean | null;
  note: string;
}

export interface Report {
  date: string;
  machine: Record<string, unknown>;
  options: { only: WorkloadId[]; backends: string[]; rounds: number; quick: boolean; tiny: boolean; threads: number };
  notes: string[];
  workloads: {
    id: WorkloadId; title: string; targetPeer: string | null; entries: EntryResult[];
    skipped: { impl: string; reason: string }[]; facts: Record<string, unknown>;
  }[];
  targets: TargetResult[];
  /** emscripten (emcc -msimd128) time / AssemblyScript wasm time, per workload where both ran. */
  emscriptenVsWasm: Record<string, number>;
  seconds: number;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall back to Node's view
  }
  return cpus()[0]?.model ?? 'unknown';
}

function median(v: number[]): number | null {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Starts one server per interpreter with numpy; PyTorch and scikit-learn come from the first interpreter that has each. */
async function startPeers(notes: string[], threads: number): Promise<Peers> {
  const servers: Peers['servers'] = [];
  for (const it of probeInterpreters(notes)) {
    const tag = `python ${it.python} (${it.executable})`;
    if (!it.numpy) { notes.push(`${tag}: no numpy, not used`); continue; }
    const server = new PythonServer(it, threads);
    try {
      const info = await server.call<ServerInfo>('hello', { threads });
      servers.push({ server, info });
      notes.push(`${tag}: numpy ${info.numpy}, torch ${info.torch ?? 'absent'}, scikit-learn ${info.sklearn ?? 'absent'}`);
    } catch (e) {
      notes.push(`${tag}: server failed (${(e as Error).message})`);
      server.close();
    }
  }
  if (!servers.length) notes.push('no python with numpy found: PyTorch, numpy and scikit-learn peers skipped');
  const torch = servers.find((s) => s.info.torch) ?? null;
  const sklearn = servers.find((s) => s.info.sklearn) ?? null;
  if (!torch) notes.push('PyTorch absent in every interpreter: its entries are skipped');
  if (!sklearn) notes.push('scikit-learn absent in every interpreter: its entries are skipped');
  let mlMatrix: string | null = null;
  try {
    // ml-matrix's `exports` hides its package.json: read it next to the resolved entry.
    mlMatrix = (JSON.parse(readFileSync(join(dirname(require.resolve('ml-matrix')), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    notes.push('ml-matrix not installed (npm install --save-dev ml-matrix)');
  }
  return { servers, torch, sklearn, mlMatrix };
}

const SHORT: readonly WorkloadId[] = ['W1', 'W2', 'W3', 'W4', 'W5', 'G1', 'G2', 'G3'];

/** Runs the harness and returns the report (the caller prints and saves it). */
export async function runHarness(options: HarnessOptions = {}): Promise<Report> {
  const start = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const quick = options.quick ?? false, tiny = options.tiny ?? false;
  const rounds = options.rounds ?? (quick ? 2 : 7);
  const only = WORKLOADS.filter((w) => !options.only || options.only.includes(w));
  const notes: string[] = [];
  const cores = cpus().length, threads = options.threads ?? cores;
  const peers = await startPeers(notes, threads);
  const extra = extraBackends();
  if (extra.note) notes.push(extra.note);
  const backends = molrgBackends(options.backends ?? null, threads, extra.backends, notes);
  const exchange = new Exchange();
  const ctx: Context = { sizes: tiny ? TINY : FULL, quick, backends, peers, exchange, progress: log };
  try {
    const workloads = await buildWorkloads(ctx, only);
    const entries = workloads.flatMap((w) => w.entries);
    const state = new Map<Entry, { cap: number; reps: number; samples: number[]; accuracy: number | null; error: string | null }>();
    for (const e of entries) {
      const cap = Math.min(e.maxRounds ?? Infinity, e.workload === 'W6' ? 1 : e.workload === 'W7' ? Math.min(rounds, quick ? 1 : 3) : rounds);
      state.set(e, { cap, reps: 1, samples: [], accuracy: null, error: null });
    }
    const fail = (e: Entry, err: unknown): void => {
      const s = state.get(e)!;
      s.error = (err as Error).message ?? String(err);
      s.cap = 0;
      log(`  ${e.workload} ${e.impl}: FAILED ${s.error}`);
    };
    // Warm-up (not recorded) of the short workloads: JIT, caches, thread pools, Python imports; it also
    // sizes the repetitions of adaptive entries to ~0.2 s and caps slow entries at 3 rounds.
    // An entry whose warm-up took over 10 s runs once more only (the full run stays near 10 minutes).
    for (const e of entries.filter((x) => SHORT.includes(x.workload) && x.warmup !== false)) {
      const s = state.get(e)!;
      try {
        const t = (await e.run(1)).seconds;
        if (e.adaptive) s.reps = Math.max(1, Math.min(2000, Math.round(0.2 / Math.max(t, 1e-7))));
        if (t * s.reps > 3) s.cap = Math.min(s.cap, t * s.reps > 10 ? 1 : 3);
        log(`warm-up ${e.workload} ${e.impl}: ${fmt(t)}${e.adaptive ? ` (x${s.reps} per measurement)` : ''}`);
      } catch (err) {
        fail(e, err);
      }
    }
    const R = Math.max(0, ...[...state.values()].map((s) => s.cap));
    for (let r = 0; r < R; r++) {
      const due = entries.filter((e) => state.get(e)!.cap > r);
      const shift = due.length ? (r * Math.max(1, Math.floor(due.length / R))) % due.length : 0;
      const order = [...due.slice(shift), ...due.slice(0, shift)];
      for (const e of order) {
        const s = state.get(e)!;
        try {
          collectGarbage();
          const res = await e.run(s.reps);
          s.samples.push(res.seconds);
          // A measurement that took over 10 s is not repeated (the full run stays near 10 minutes).
          if (res.seconds * s.reps > 10) s.cap = Math.min(s.cap, r + 1);
          if (res.accuracy !== undefined) s.accuracy = res.accuracy;
          log(`[round ${r + 1}/${R}] ${e.workload} ${e.impl}: ${fmt(res.seconds)}${res.accuracy !== undefined ? `, accuracy ${res.accuracy.toFixed(3)}` : ''}`);
        } catch (err) {
          fail(e, err);
        }
      }
    }
    for (const w of workloads) {
      if (!w.finish) continue;
      try {
        await w.finish();
      } catch (err) {
        w.facts.finishError = (err as Error).message;
      }
    }
    const results = workloads.map((w) => {
      const rows: EntryResult[] = w.entries.map((e) => {
        const s = state.get(e)!;
        const m = median(s.samples);
        return {
          workload: e.workload, impl: e.impl, label: e.label, threads: e.threads, samples: s.samples, median: m,
          min: s.samples.length ? Math.min(...s.samples) : null, max: s.samples.length ? Math.max(...s.samples) : null,
          reps: s.reps, vsNative: null, vsTargetPeer: null, gflops: e.flops && m ? e.flops / m / 1e9 : null,
          gflopsBest: e.flops && s.samples.length ? e.flops / Math.min(...s.samples) / 1e9 : null,
          accuracy: s.accuracy, extrapolated: e.extrapolated ?? null, note: e.note ?? null, error: s.error,
        };
      });
      const native = rows.find((x) => x.impl === 'native')?.median ?? null;
      const peer = w.targetPeer ? bestOf(rows, w.targetPeer) : null;
      for (const x of rows) {
        x.vsNative = x.median !== null && native ? x.median / native : null;
        x.vsTargetPeer = x.median !== null && peer ? x.median / peer : null;
      }
      return { id: w.id, title: w.title, targetPeer: w.targetPeer, entries: rows, skipped: w.skipped, facts: w.facts };
    });
    const emscriptenVsWasm: Record<string, number> = {};
    for (const w of results) {
      const em = w.entries.find((x) => x.impl === 'emscripten')?.median, as = w.entries.find((x) => x.impl === 'wasm')?.median;
      if (em && as) emscriptenVsWasm[w.id] = em / as;
    }
    const interpreters = peers.servers.map((s) => s.info);
    return {
      date: new Date().toISOString(),
      machine: {
        cpu: cpuModel(), cores, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}`,
        python: interpreters, torch: peers.torch?.info.torch ?? null, torchThreads: peers.torch?.info.torchThreads ?? null,
        numpy: interpreters.map((i) => i.numpy), sklearn: peers.sklearn?.info.sklearn ?? null, mlMatrix: peers.mlMatrix,
        molrg: backends.map((b) => ({ id: b.id, label: b.label, threads: b.threads })),
      },
      options: { only: [...only], backends: backends.map((b) => b.id), rounds, quick, tiny, threads },
      notes,
      workloads: results,
      targets: targets(results),
      emscriptenVsWasm,
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    restoreBackends();
    for (const s of peers.servers) s.server.close();
    exchange.dispose();
  }
}

/** Median of the fastest implementation whose id starts with `prefix`. */
function bestOf(rows: EntryResult[], prefix: string): number | null {
  const m = rows.filter((x) => x.impl.startsWith(prefix) && x.median !== null).map((x) => x.median as number);
  return m.length ? Math.min(...m) : null;
}

/** The issue's targets, as measured ratios / times against thresholds. */
function targets(ws: Report['workloads']): TargetResult[] {
  const out: TargetResult[] = [];
  const get = (id: WorkloadId) => ws.find((w) => w.id === id);
  const med = (id: WorkloadId, impl: string): number | null => get(id)?.entries.find((x) => x.impl === impl)?.median ?? null;
  const add = (id: string, text: string, value: number | null, sense: '>=' | '<=', threshold: number, note = ''): void => {
    out.push({ id, text, value, threshold, sense, pass: value === null ? null : sense === '>=' ? value >= threshold : value <= threshold, note });
  };
  const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null ? a / b : null);
  for (const [id, x] of [['W1', 20], ['W2', 3], ['W3', 4]] as const) {
    if (get(id)) add(id, `${id}: PyTorch time / molrg native time`, ratio(med(id, 'torch'), med(id, 'native')), '>=', x);
  }
  const w4 = get('W4');
  if (w4) add('W4', 'W4: numpy (fastest) time / molrg native time', ratio(bestOf(w4.entries, 'numpy'), med('W4', 'native')), '>=', 2);
  const w5 = get('W5');
  if (w5) {
    add('W5', "W5: scikit-learn randomized_svd time / molrg native time", ratio(med('W5', 'sklearn'), med('W5', 'native')), '>=', 1);
    const err = (w5.facts.subspaceError as { errors?: Record<string, number> } | undefined)?.errors?.native ?? null;
    add('W5-error', 'W5: molrg native subspace error vs float64 SVD', err, '<=', 1e-5);
  }
  const w6 = get('W6');
  if (w6) {
    const e = w6.entries.find((x) => x.impl === 'native');
    add('W6', 'W6: molrg native seconds for the whole phase diagram', e?.median ?? null, '<=', 30, e?.extrapolated ?? '');
  }
  if (get('W7')) add('W7', 'W7: molrg native seconds (spectral init + K-subspaces)', med('W7', 'native'), '<=', 3);
  for (const id of ['W1', 'W2', 'W3'] as const) {
    const rows = get(id)?.entries ?? [];
    const one = rows.find((x) => x.impl === 'native-1t') ?? rows.find((x) => x.impl === 'native' && x.threads === '1');
    if (get(id)) add(`${id}-wasm`, `${id}: molrg wasm time / molrg native (1 thread) time`, ratio(med(id, 'wasm'), one?.median ?? null), '<=', 2.5);
  }
  for (const id of ['G1', 'G2', 'G3'] as const) {
    const g = get(id);
    if (!g) continue;
    const gf = (impl: string): number | null => g.entries.find((x) => x.impl === impl)?.gflops ?? null;
    const np = Math.max(...g.entries.filter((x) => x.impl.startsWith('numpy') && x.gflops !== null).map((x) => x.gflops as number));
    add(id, `${id}: molrg native GFLOP/s / numpy sgemm GFLOP/s (same shapes)`, ratio(gf('native'), Number.isFinite(np) ? np : null), '>=', 0.6);
  }
  return out;
}

/** A duration in readable units. */
export function fmt(seconds: number): string {
  if (seconds < 1e-3) return `${(seconds * 1e6).toFixed(1)} us`;
  if (seconds < 1) return `${(seconds * 1e3).toFixed(2)} ms`;
  return `${seconds.toFixed(2)} s`;
}

const x2 = (v: number | null): string => (v === null ? '' : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}x`);

/** The report as Markdown tables (the README's form). */
export function formatReport(r: Report): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`molrg bench:peers, ${r.date}`);
  lines.push(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, torch ${m.torch ?? 'absent'} (${m.torchThreads ?? '-'} threads), numpy ${(m.numpy as string[]).join(' / ') || 'absent'}, scikit-learn ${m.sklearn ?? 'absent'}, ml-matrix ${m.mlMatrix ?? 'absent'}`);
  lines.push(`rounds: ${r.options.rounds}${r.options.quick ? ' (--quick)' : ''}${r.options.tiny ? ' (tiny sizes)' : ''}; medians over rounds; t/native = time / molrg native time (>1: slower than molrg native); t/peer = time / the issue's target peer (fastest of its versions)`);
  lines.push('');
  lines.push('| workload | implementation | threads | median | min - max | n | t/native | t/peer | GFLOP/s (median, best) | note |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const w of r.workloads) {
    lines.push(`| **${w.id}** | ${w.title}${w.targetPeer ? ` (target peer: ${w.targetPeer})` : ''} | | | | | | | | |`);
    for (const e of w.entries) {
      const note = [e.error ? `FAILED: ${e.error}` : '', e.extrapolated ? `extrapolated: ${e.extrapolated}` : '', e.accuracy !== null ? `accuracy ${e.accuracy.toFixed(3)}` : '', e.note ?? '']
        .filter(Boolean).join('; ');
      lines.push(`| ${w.id} | ${e.label} | ${e.threads} | ${e.median === null ? '-' : fmt(e.median)} | ${e.min === null ? '' : `${fmt(e.min)} - ${fmt(e.max as number)}`} | ${e.samples.length} | ${x2(e.vsNative)} | ${x2(e.vsTargetPeer)} | ${e.gflops === null ? '' : `${e.gflops.toFixed(1)}, ${(e.gflopsBest as number).toFixed(1)}`} | ${note} |`);
    }
    for (const s of w.skipped) lines.push(`| ${w.id} | ${s.impl}: skipped | | | | | | | | ${s.reason} |`);
  }
  lines.push('');
  lines.push('| target | measured | threshold | result |');
  lines.push('|---|---:|---:|---|');
  for (const t of r.targets) {
    const v = t.value === null ? 'n/a' : t.id === 'W5-error' ? t.value.toExponential(2) : t.id === 'W6' || t.id === 'W7' ? `${t.value.toFixed(2)} s` : x2(t.value);
    const th = t.id === 'W5-error' ? t.threshold.toExponential(0) : t.id === 'W6' || t.id === 'W7' ? `${t.threshold} s` : `${t.threshold}x`;
    lines.push(`| ${t.text} | ${v} | ${t.sense} ${th} | ${t.pass === null ? 'n/a' : t.pass ? 'pass' : 'MISS'}${t.note ? ` (${t.note})` : ''} |`);
  }
  const facts: string[] = [];
  for (const w of r.workloads) {
    const lc = w.facts.lossCheck as { molrg?: Record<string, { lossRelDiffVsJs: number; gradRelDiffVsJs: number }>; torch?: { lossRelDiffVsJs: number; gradRelDiffVsJs: number } | string } | undefined;
    if (lc) {
      const t = typeof lc.torch === 'string' ? lc.torch : `PyTorch loss rel. diff ${lc.torch?.lossRelDiffVsJs.toExponential(2)}, gradient rel. diff ${lc.torch?.gradRelDiffVsJs.toExponential(2)}`;
      const mol = Object.entries(lc.molrg ?? {}).filter(([id]) => id !== 'js').map(([id, v]) => `${id} ${v.lossRelDiffVsJs.toExponential(1)}/${v.gradRelDiffVsJs.toExponential(1)}`).join(', ');
      facts.push(`${w.id} loss check on identical inputs vs molrg js (float64): ${t}; molrg loss/grad rel. diff: ${mol}`);
    }
    const se = w.facts.subspaceError as { reference: string; errors: Record<string, number> } | undefined;
    if (se) facts.push(`${w.id} subspace error (SPEC distance) vs ${se.reference}: ${Object.entries(se.errors).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    if (w.facts.finishError) facts.push(`${w.id}: ${w.facts.finishError}`);
  }
  const em = Object.entries(r.emscriptenVsWasm);
  if (em.length) facts.push(`emscripten / AssemblyScript wasm time: ${em.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  if (facts.length || r.notes.length) lines.push('');
  for (const f of [...facts, ...r.notes]) lines.push(`* ${f}`);
  lines.push(`\n(total ${r.seconds.toFixed(0)} s)`);
  return lines.join('\n');
}
