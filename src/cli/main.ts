/**
 * The `molrg` command. Every number it prints comes from the library functions (src/experiments,
 * src/train, src/sample, src/io); this file parses arguments, shows progress and renders.
 *
 * Exit codes: 0 success, 1 failure, 2 bad argument (one line on stderr, no stack trace), 130
 * interrupted (Ctrl-C; what finished is still written).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { backendInfo, setBackend, type BackendName } from '../backend/index.js';
import { type DAESettings, type Method, METHODS } from '../experiments/cells.js';
import { hasDigits, MissingDigitsError } from '../experiments/digits.js';
import { type Preprocess, PREPROCESS } from '../experiments/preprocess.js';
import { jacobianRanks } from '../experiments/jacobian.js';
import { mnistExperiment } from '../experiments/mnist.js';
import { phaseTransition } from '../experiments/phase.js';
import { reproduce } from '../experiments/reproduce.js';
import { readCsv } from '../io/csv.js';
import { loadModel, saveModel } from '../io/model.js';
import { readNpy, writeNpy } from '../io/npy.js';
import type { Matrix } from '../matrix.js';
import { lowRankDAE } from '../model/dae.js';
import { MoLRG } from '../model/molrg.js';
import { deriveSeed } from '../random.js';
import { jacobianFigures, mnistFigures, phaseFigures } from '../report/figures.js';
import { writeFigures, writeReport } from '../report/report.js';
import { sample, type SamplerName } from '../sample/edm.js';
import { trainDAE } from '../train/dae.js';
import { kSubspaces } from '../train/kss.js';
import { progress, type Progress } from './progress.js';

/** A bad command-line argument: reported in one line with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// ---- argument parsers (commander turns InvalidArgumentError into a usage error) ------------------

function integer(min: number) {
  return (value: string): number => {
    const v = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return v;
  };
}

function positive(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError('expected a number > 0');
  return v;
}

/** Integer list: `2,4,6`, `2..8` or `2..20:2` (ranges inclusive), mixed with commas. */
function intList(value: string): number[] {
  const out: number[] = [];
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)\.\.(\d+)(?::(\d+))?$/.exec(part);
    if (m) {
      const [a, b, step] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 1)];
      if (b < a || step < 1) throw new InvalidArgumentError(`bad range '${part}'`);
      for (let v = a; v <= b; v += step) out.push(v);
    } else if (/^\d+$/.test(part)) out.push(Number(part));
    else throw new InvalidArgumentError(`expected integers like 2,4,6 or 2..8 or 2..20:2, got '${part}'`);
  }
  if (!out.length) throw new InvalidArgumentError('expected a non-empty list');
  if (out.some((v) => v < 1)) throw new InvalidArgumentError('expected integers >= 1');
  return out;
}

function numberList(value: string): number[] {
  const out = value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!out.length || out.some((v) => !Number.isFinite(v) || v <= 0)) throw new InvalidArgumentError('expected positive numbers like 0.01,0.1,1');
  return out;
}

function choice<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value as T;
  };
}

function methods(value: string): Method[] {
  const list = value.split(',').map((s) => s.trim());
  if (!list.length || list.some((m) => !METHODS.includes(m as Method)) || new Set(list).size !== list.length) {
    throw new InvalidArgumentError("expected 'dae', 'kss' or 'dae,kss'");
  }
  return list as Method[];
}

// ---- shared plumbing ------------------------------------------------------------------------------

interface Common {
  seed: number;
  json?: string | boolean;
  backend?: BackendName;
  workers?: number;
}

/** What one command run needs: abort signal, progress, output. */
interface Context {
  signal: AbortSignal;
  bar: Progress;
  /** Machine-readable output requested (stdout, or a file). */
  json: boolean;
  /** Emits the result: JSON (stdout or file) or the human summary. */
  emit(result: unknown, summary: string): void;
}

function common(cmd: Command, seed = 0): Command {
  return cmd
    .option('--seed <int>', 'seed: same seed, same numbers', integer(0), seed)
    .option('--json [file]', 'print the machine-readable result to stdout (or write it to file)')
    .addOption(new Option('--backend <name>', 'kernel backend').argParser(choice(['native', 'wasm', 'js'] as const)))
    .option('--workers <int>', 'worker threads for sweeps (default: one per core)', integer(1));
}

function requireFile(path: string, what: string): string {
  if (!existsSync(path)) throw new UsageError(`${what} not found: ${path}`);
  return path;
}

function readData(path: string): Matrix {
  requireFile(path, 'data file');
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return readNpy(path);
  if (ext === '.csv' || ext === '.txt') return readCsv(path);
  throw new UsageError(`expected a .npy or .csv data file but received ${path}`);
}

function ensureDir(file: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
}

/** Runs one command action with abort-on-Ctrl-C, progress bars and --json handling. */
async function run(opts: Common, action: (ctx: Context) => Promise<boolean | void>): Promise<number> {
  if (opts.backend) setBackend(opts.backend);
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    process.stderr.write('\nmolrg: interrupted; keeping what finished (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  const json = opts.json !== undefined && opts.json !== false;
  const bar = progress(!json);
  const ctx: Context = {
    signal: controller.signal, bar, json,
    emit(result, summary) {
      bar.stop();
      if (typeof opts.json === 'string') {
        ensureDir(opts.json);
        writeFileSync(opts.json, `${JSON.stringify(result, null, 1)}\n`);
        process.stdout.write(`${summary}\nwrote ${opts.json}\n`);
      } else if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`${summary}\n`);
    },
  };
  try {
    const complete = await action(ctx);
    return controller.signal.aborted || complete === false ? 130 : 0;
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
  }
}

const f3 = (v: number): string => v.toFixed(3);

function daeSettings(o: { daeSteps?: number; init?: DAESettings['init'] }): DAESettings {
  return { ...(o.daeSteps ? { steps: o.daeSteps } : {}), ...(o.init ? { init: o.init } : {}) };
}

const INITS = ['auto', 'kss', 'pca', 'random'] as const;

// ---- the program ----------------------------------------------------------------------------------

/** Builds the commander program; each action resolves to an exit code stored in `code`. */
function program(code: { value: number }): Command {
  const cli = new Command('molrg')
    .description('Diffusion models learn mixtures of low-rank Gaussians: reproduce the theory, fit, sample, measure')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .showHelpAfterError(false);
  const set = (p: Promise<number>): Promise<void> => p.then((c) => { code.value = c; });

  common(cli.command('reproduce', { isDefault: true })
    .description('run every experiment and write DIR/index.html, DIR/results.json, SVG plots and PNG grids')
    .option('--quick', 'small sizes (under a minute on 2 cores)')
    .option('--out <dir>', 'output folder', 'molrg-report')
    .option('--skip-mnist', 'skip the MNIST experiment'))
    .action((o: Common & { quick?: boolean; out: string; skipMnist?: boolean }) => set(run(o, async (ctx) => {
      const r = await reproduce({
        quick: o.quick, seed: o.seed, workers: o.workers, skipMnist: o.skipMnist, signal: ctx.signal,
        onProgress: (p) => ctx.bar.update(p.experiment, p.done, p.total),
      });
      ctx.bar.stop();
      const files = await writeReport(o.out, r);
      const lines = [`molrg reproduce${o.quick ? ' --quick' : ''}: ${r.seconds.toFixed(1)} s on ${r.backend}; ${files.length} files in ${o.out}/ (open ${resolve(o.out, 'index.html')})`];
      const fit = (p: typeof r.phaseK1, m = 0): string => {
        const b = p?.methods[m]?.boundary.fit;
        return b ? `N = ${b.slope.toFixed(2)} d ${b.intercept >= 0 ? '+' : '-'} ${Math.abs(b.intercept).toFixed(2)} (R^2 ${f3(b.r2)})` : 'n/a';
      };
      if (r.phaseK1) lines.push(`  K = 1 boundary: ${fit(r.phaseK1)}`);
      if (r.phaseK2) r.phaseK2.methods.forEach((m, i) => lines.push(`  K = 2 boundary (${m.method}): ${fit(r.phaseK2, i)}`));
      if (r.mnist) lines.push(`  MNIST accuracy: ${r.mnist.accuracy.map((a) => `${a.method} ${f3(a.accuracy)}`).join(', ')}`);
      if (r.mnistSkipped) lines.push(`  MNIST skipped: ${r.mnistSkipped}`);
      ctx.emit(r, lines.join('\n'));
      return r.complete || !ctx.signal.aborted;
    })));

  common(cli.command('phase')
    .description('success-rate grid of subspace recovery over (N per component, d), with the fitted boundary')
    .option('--K <k>', 'number of subspaces', integer(1), 2)
    .option('--n <n>', 'ambient dimension', integer(1), 48)
    .option('--d <list>', 'subspace dimensions, e.g. 2..8', intList, [2, 3, 4, 5, 6, 7, 8])
    .option('--N <list>', 'samples per component, e.g. 1..20', intList, Array.from({ length: 20 }, (_, i) => i + 1))
    .option('--trials <t>', 'trials per cell', integer(1), 5)
    .option('--method <m>', "'dae', 'kss' or 'dae,kss'", methods, ['kss'] as Method[])
    .option('--tau <x>', 'success threshold on the max matched distance', positive, 0.1)
    .option('--dae-steps <s>', 'DAE training steps', integer(1))
    .addOption(new Option('--init <how>', 'DAE initialisation').argParser(choice(INITS)))
    .option('--svg <prefix>', 'also write heatmap SVG(s) as <prefix>[-method].svg'))
    .action((o: Common & { K: number; n: number; d: number[]; N: number[]; trials: number; method: Method[]; tau: number; daeSteps?: number; init?: DAESettings['init']; svg?: string }) => set(run(o, async (ctx) => {
      const bad = o.d.find((d) => d > o.n);
      if (bad !== undefined) throw new UsageError(`--d: d = ${bad} exceeds the ambient dimension n = ${o.n}`);
      if (o.tau >= 1) throw new UsageError('--tau: expected a number in (0, 1)');
      const r = await phaseTransition({
        K: o.K, n: o.n, d: o.d, N: o.N, trials: o.trials, method: o.method, tau: o.tau, dae: daeSettings(o),
        seed: o.seed, workers: o.workers, signal: ctx.signal, onProgress: (p) => ctx.bar.update('phase', p.done, p.total),
      });
      if (o.svg) {
        const figs = phaseFigures(r, o.svg.replace(/\.svg$/, ''));
        figs.forEach((f) => { f.name = f.name.replace(/^.*[\\/]/, ''); });
        await writeFigures(dirname(resolve(o.svg)), figs);
      }
      const lines = r.methods.map((m) => {
        const b = m.boundary.fit;
        return `${m.method}: boundary ${b ? `N = ${b.slope.toFixed(3)} d ${b.intercept >= 0 ? '+' : '-'} ${Math.abs(b.intercept).toFixed(3)}, R^2 = ${f3(b.r2)}` : 'not fitted'}`
          + ` (crossings ${m.boundary.points.map((p) => `d=${p.d}:N=${p.N}`).join(' ')})`;
      });
      ctx.emit(r, `${lines.join('\n')}\n${r.seconds.toFixed(1)} s${r.complete ? '' : ' (interrupted: partial grid)'}`);
      return r.complete;
    })));

  common(cli.command('fit')
    .description('fit K subspaces to a data set (.npy or .csv, one sample per row) and save the model as safetensors')
    .argument('<data>', 'data file (.npy or .csv)')
    .requiredOption('--K <k>', 'number of subspaces', integer(1))
    .requiredOption('--d <d>', 'subspace dimension', integer(1))
    .option('--method <m>', "'dae' (diffusion training) or 'kss' (K-subspaces)", choice(METHODS), 'dae' as Method)
    .option('--steps <s>', 'DAE training steps', integer(1))
    .addOption(new Option('--init <how>', 'DAE initialisation').argParser(choice(INITS)))
    .requiredOption('-o, --out <model>', 'output model file (.safetensors)'))
    .action((data: string, o: Common & { K: number; d: number; method: Method; steps?: number; init?: DAESettings['init']; out: string }) => set(run(o, async (ctx) => {
      const x = readData(data);
      if (o.d > x.cols) throw new UsageError(`--d: d = ${o.d} exceeds the data's dimension n = ${x.cols}`);
      if (o.K > x.rows) throw new UsageError(`--K: K = ${o.K} exceeds the number of samples ${x.rows}`);
      const t0 = Date.now();
      let bases: Matrix[], extra: Record<string, unknown>;
      if (o.method === 'kss') {
        const r = await kSubspaces(x, { K: o.K, d: o.d, seed: o.seed, signal: ctx.signal, onProgress: (p) => ctx.bar.update(`kss restart ${p.restart + 1}/${p.restarts}`, p.iteration, 100) });
        bases = r.bases;
        extra = { objective: r.objective, residual: r.residual, iterations: r.iterations, labels: Array.from(r.labels) };
      } else {
        const r = await trainDAE(x, {
          K: o.K, d: o.d, seed: o.seed, steps: o.steps, init: o.init, signal: ctx.signal,
          onProgress: (p) => ctx.bar.update('train', p.step, p.steps),
        });
        bases = r.bases;
        extra = { loss: r.loss, initialLoss: r.initialLoss, init: r.init };
      }
      ensureDir(o.out);
      saveModel(o.out, { bases });
      ctx.emit({ model: o.out, method: o.method, K: o.K, d: o.d, n: x.cols, N: x.rows, seconds: (Date.now() - t0) / 1000, ...extra },
        `fitted ${o.K} subspaces of dimension ${o.d} to ${x.rows} x ${x.cols} data by ${o.method} in ${((Date.now() - t0) / 1000).toFixed(1)} s; wrote ${o.out}`);
    })));

  common(cli.command('sample')
    .description('generate samples with the EDM sampler driven by a saved model')
    .argument('<model>', 'model file (.safetensors)')
    .option('--count <c>', 'number of samples', integer(1), 100)
    .option('--steps <s>', 'noise levels', integer(1), 18)
    .option('--sampler <name>', 'euler, heun or stochastic', choice(['euler', 'heun', 'stochastic'] as const), 'heun' as SamplerName)
    .requiredOption('-o, --out <file>', 'output .npy file'))
    .action((path: string, o: Common & { count: number; steps: number; sampler: SamplerName; out: string }) => set(run(o, async (ctx) => {
      const m = loadModel(requireFile(path, 'model file'));
      const D = lowRankDAE(m.bases, { pi: m.pi, lambda: m.lambda, delta: m.delta });
      const x = sample(D, { count: o.count, steps: o.steps, sampler: o.sampler, seed: o.seed, signal: ctx.signal, onProgress: (s, S) => ctx.bar.update('sample', s, S) });
      D.dispose();
      ensureDir(o.out);
      writeNpy(o.out, x);
      ctx.emit({ samples: o.out, count: x.rows, n: x.cols, steps: o.steps, sampler: o.sampler, seed: o.seed }, `wrote ${x.rows} samples of dimension ${x.cols} to ${o.out}`);
    })));

  common(cli.command('jacobian')
    .description("numerical rank of a saved model's denoiser Jacobian across noise levels")
    .argument('<model>', 'model file (.safetensors)')
    .requiredOption('--sigma <list>', 'noise levels, e.g. 0.01,0.1,1,10', numberList)
    .option('--points <p>', 'noisy points per noise level', integer(1), 8)
    .option('--rel-tol <x>', 'relative singular-value threshold of the rank', positive, 1e-3)
    .option('--svg <file>', 'also write the plot'))
    .action((path: string, o: Common & { sigma: number[]; points: number; relTol: number; svg?: string }) => set(run(o, async (ctx) => {
      const m = loadModel(requireFile(path, 'model file'));
      if (o.relTol >= 1) throw new UsageError('--rel-tol: expected a number in (0, 1)');
      const D = lowRankDAE(m.bases, { pi: m.pi, lambda: m.lambda, delta: m.delta });
      const dist = new MoLRG({ bases: m.bases, pi: m.pi, lambda: m.lambda, delta: m.delta });
      const n = m.bases[0].rows, d = m.bases[0].cols;
      const t0 = Date.now();
      const { rows, complete } = jacobianRanks({ dae: D, exact: null, empirical: null }, () => dist.sample(o.points, deriveSeed(o.seed, 0)).x.data,
        n, o.sigma, o.points, o.relTol, deriveSeed(o.seed, 1), ctx.signal, (p) => ctx.bar.update('jacobian', p.done, p.total));
      D.dispose();
      const result = { experiment: 'jacobian' as const, K: m.bases.length, n, d, N: 0, sigma: o.sigma, points: o.points, relTol: o.relTol, seed: o.seed, dae: {}, rows, complete, seconds: (Date.now() - t0) / 1000 };
      if (o.svg) {
        const [fig] = jacobianFigures(result);
        fig.name = o.svg.replace(/^.*[\\/]/, '').replace(/\.svg$/, '');
        await writeFigures(dirname(resolve(o.svg)), [fig]);
      }
      ctx.emit(result, rows.map((r) => `sigma ${r.sigma}: mean rank ${r.meanRank.toFixed(2)} (n = ${n}, sum d_k = ${m.bases.reduce((a, b) => a + b.cols, 0)})`).join('\n'));
      return complete;
    })));

  common(cli.command('mnist')
    .description('K subspaces of real MNIST digits by K-subspaces and by diffusion training, against k-means')
    .option('--train <N>', 'digits to cluster', integer(10), 5000)
    .option('--K <k>', 'number of subspaces', integer(1), 10)
    .option('--d <d>', 'subspace dimension', integer(1), 8)
    .option('--preprocess <how>', PREPROCESS.join(', '), choice(PREPROCESS), 'center+normalize' as Preprocess)
    .option('--dae-steps <s>', 'DAE training steps', integer(1))
    .option('--per-class <list>', 'images per class of the generalisation study', intList, [5, 20, 80])
    .option('--no-kmeans', 'skip the k-means comparison')
    .option('--out <dir>', 'also write the figures (SVG, PNG) into this folder'))
    .action((o: Common & { train: number; K: number; d: number; preprocess: Preprocess; daeSteps?: number; perClass: number[]; kmeans: boolean; out?: string }) => set(run(o, async (ctx) => {
      if (o.train > 10000) throw new UsageError('--train: the mnist package has 10000 digits');
      if (o.d > 784) throw new UsageError(`--d: d = ${o.d} exceeds the image dimension 784`);
      if (!hasDigits()) throw new MissingDigitsError();
      const r = await mnistExperiment({
        train: o.train, K: o.K, d: o.d, preprocess: o.preprocess, perClass: o.perClass, kmeans: o.kmeans, seed: o.seed,
        dae: o.daeSteps ? { steps: o.daeSteps } : undefined, signal: ctx.signal, onProgress: (p) => ctx.bar.update('mnist', p.done, p.total),
      });
      if (o.out) await writeFigures(o.out, mnistFigures(r));
      ctx.emit(r, `${r.accuracy.map((a) => `${a.method}: accuracy ${f3(a.accuracy)} (${a.seconds.toFixed(1)} s)`).join('\n')}\n`
        + r.generalization.map((g) => `${g.perClass}/class: generalisation DAE ${g.dae.toFixed(2)}, empirical ${g.empirical.toFixed(2)}`).join('\n'));
      return r.complete;
    })));

  cli.command('info').description('show the kernel backend in use').action(() => {
    process.stdout.write(`${JSON.stringify(backendInfo())}\n`);
  });
  return cli;
}

/** One line for any error: the message without a stack trace (MOLRG_DEBUG=1 shows the stack). */
function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ').trim();
}

/** Runs the CLI on `argv` (as process.argv) and resolves to the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const code = { value: 0 };
  try {
    await program(code).parseAsync([...argv]);
    return code.value;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      process.stderr.write(`molrg: ${oneLine(e)}\n`);
      return 2;
    }
    if (process.env.MOLRG_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    const facade = (e instanceof RangeError || e instanceof TypeError) && /^Expected /.test(e.message);
    const usage = e instanceof UsageError || facade || (e as NodeJS.ErrnoException)?.code === 'ENOENT';
    process.stderr.write(`molrg: ${oneLine(e)}\n`);
    return usage ? 2 : 1;
  }
}
