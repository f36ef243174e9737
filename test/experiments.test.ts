/**
 * The experiments at small sizes, asserting the paper's claims (issue 4): K = 1 boundary exactly
 * N = d; K = 2 boundary linear in d; sweeps identical for any worker count (tsx and compiled dist/
 * workers); the report files and the runtime check of results.json; MNIST subspace clustering beats
 * k-means.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendInfo } from '../src/backend/index.js';
import { hasDigits } from '../src/experiments/digits.js';
import { crossing, fitLine } from '../src/experiments/fit.js';
import { jacobianRank } from '../src/experiments/jacobian.js';
import { memorization } from '../src/experiments/memorization.js';
import { mnistExperiment } from '../src/experiments/mnist.js';
import { phaseTransition, type PhaseResult } from '../src/experiments/phase.js';
import type { ReproduceResult } from '../src/experiments/reproduce.js';
import { checkReproduceResult } from '../src/experiments/validate.js';
import { writeReport } from '../src/report/report.js';

const root = join(__dirname, '..');
const strip = (r: PhaseResult): unknown => ({ ...r, seconds: 0 });

/** True when dist/ was compiled after the last change to any file under src/ (then tsc is skipped). */
function distIsFresh(): boolean {
  const marker = join(root, 'dist', 'experiments', 'worker.js');
  if (!existsSync(marker)) return false;
  const built = statSync(marker).mtimeMs;
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true })
    .reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  return newest(join(root, 'src')) < built;
}

describe('experiments', function () {
  this.timeout(120_000);

  it('fitLine and crossing', () => {
    const f = fitLine([1, 2, 3], [3, 5, 7]);
    assert.ok(f && Math.abs(f.slope - 2) < 1e-12 && Math.abs(f.intercept - 1) < 1e-12 && f.r2 === 1);
    assert.equal(fitLine([1], [1]), null);
    assert.equal(crossing([1, 2, 3, 4], [0, 0.6, 0.2, 1]), 4);
    assert.equal(crossing([1, 2], [0, 0.4]), null);
  });

  it('K = 1: the boundary is exactly N = d (kss and dae)', async () => {
    const r = await phaseTransition({ K: 1, n: 48, d: [2, 4, 6, 8], N: [1, 2, 3, 4, 5, 6, 7, 8, 9], trials: 10, method: ['kss', 'dae'], dae: { steps: 100 }, seed: 11 });
    for (const m of r.methods) {
      for (const d of r.d) {
        const rate = (N: number): number => m.cells.find((c) => c.d === d && c.N === N)!.rate;
        assert.equal(rate(d - 1), 0, `${m.method} d=${d}: success at N = d - 1`);
        assert.ok(rate(d + 1) >= 0.95, `${m.method} d=${d}: success ${rate(d + 1)} at N = d + 1`);
      }
      assert.deepEqual(m.boundary.points, r.d.map((d) => ({ d, N: d })), m.method);
      assert.ok(m.boundary.fit && m.boundary.fit.slope === 1 && m.boundary.fit.intercept === 0 && m.boundary.fit.r2 === 1);
    }
  });

  it('K = 2: the boundary is linear in d (slope in [1, 3], R^2 >= 0.9, d = 2..8)', async () => {
    const N = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 24];
    const r = await phaseTransition({ K: 2, n: 48, d: [2, 3, 4, 5, 6, 7, 8], N, trials: 6, method: 'kss', seed: 12 });
    const fit = r.methods[0].boundary.fit;
    assert.ok(fit, 'a boundary was fitted');
    assert.ok(fit.slope >= 1 && fit.slope <= 3, `slope ${fit.slope}`);
    assert.ok(fit.r2 >= 0.9, `R^2 ${fit.r2}`);
    assert.equal(r.methods[0].boundary.points.length, 7);
  });

  it('sweeps give identical results with 1 and 2 workers (TypeScript workers under tsx)', async () => {
    const o = { K: 2, n: 24, d: [2, 3], N: [2, 3, 5], trials: 3, method: ['dae', 'kss'] as const, dae: { steps: 100 }, seed: 5 };
    const one = await phaseTransition({ ...o, method: [...o.method], workers: 1 });
    const threads = backendInfo().threads;
    const two = await phaseTransition({ ...o, method: [...o.method], workers: 2 });
    assert.deepEqual(strip(two), strip(one));
    // A sweep runs the native pool on one thread (its workers cover the cores), and gives it back.
    assert.equal(backendInfo().threads, threads);
    const m1 = await memorization({ K: 2, n: 24, d: 2, N: [4, 16], count: 10, steps: 6, seed: 3, workers: 1 });
    const m2 = await memorization({ K: 2, n: 24, d: 2, N: [4, 16], count: 10, steps: 6, seed: 3, workers: 2 });
    assert.deepEqual({ ...m2, seconds: 0 }, { ...m1, seconds: 0 });
  });

  it('sweeps give identical results from the compiled dist/ workers', async function () {
    if (!distIsFresh()) {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'pipe' });
    }
    assert.ok(existsSync(join(root, 'dist', 'experiments', 'worker.js')));
    const script = `const { setBackend } = require(${JSON.stringify(join(root, 'dist', 'backend', 'index.js'))});
      setBackend(${JSON.stringify(backendInfo().backend)});
      require(${JSON.stringify(join(root, 'dist', 'experiments', 'phase.js'))}).phaseTransition({ K: 2, n: 24, d: [2, 3], N: [2, 3, 5], trials: 3, method: 'kss', seed: 5, workers: 2 })
        .then((r) => process.stdout.write(JSON.stringify({ ...r, seconds: 0 })));`;
    // A plain node process without tsx: the workers must load dist/experiments/worker.js.
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const here = await phaseTransition({ K: 2, n: 24, d: [2, 3], N: [2, 3, 5], trials: 3, method: 'kss', seed: 5, workers: 1 });
    assert.deepEqual(JSON.parse(out), strip(here));
  });

  it('writes the report (index.html, results.json, SVGs) and results.json passes its runtime type check', async () => {
    const seed = 2;
    const result: ReproduceResult = {
      molrg: 'reproduce', quick: true, seed, backend: backendInfo().backend, isa: backendInfo().isa, workers: 1,
      phaseK1: await phaseTransition({ K: 1, n: 16, d: [1, 2, 3], N: [1, 2, 3, 4], trials: 2, method: 'kss', seed, workers: 1 }),
      phaseK2: await phaseTransition({ K: 2, n: 16, d: [2, 3], N: [2, 4, 6], trials: 2, method: ['dae', 'kss'], dae: { steps: 50 }, seed, workers: 1 }),
      memorization: await memorization({ K: 2, n: 16, d: 2, N: [4, 16], count: 8, steps: 6, seed, workers: 1 }),
      jacobian: await jacobianRank({ K: 2, n: 16, d: 2, N: 16, sigma: [0.01, 1], points: 2, dae: { steps: 50 }, seed }),
      mnist: null, mnistSkipped: 'not in this test', complete: true, seconds: 0,
    };
    const dir = mkdtempSync(join(tmpdir(), 'molrg-report-'));
    try {
      await writeReport(dir, result);
      for (const f of ['index.html', 'results.json', 'phase-k1.svg', 'phase-k2-dae.svg', 'phase-k2-kss.svg', 'phase-k2-agreement.svg', 'memorization.svg', 'jacobian.svg']) {
        assert.ok(existsSync(join(dir, f)), f);
      }
      assert.match(readFileSync(join(dir, 'phase-k1.svg'), 'utf8'), /^<svg/);
      const parsed = checkReproduceResult(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
      assert.deepEqual(parsed.phaseK1?.methods[0].boundary, result.phaseK1?.methods[0].boundary);
      const html = readFileSync(join(dir, 'index.html'), 'utf8');
      const fit = result.phaseK1!.methods[0].boundary.fit!;
      assert.ok(html.includes(`N = ${fit.slope.toFixed(2)} d`), 'the caption states the measured slope');
      assert.throws(() => checkReproduceResult({ ...result, phaseK1: { ...result.phaseK1, trials: 'two' } }), /results\.phaseK1\.trials/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (hasDigits() ? it : it.skip)('MNIST, 2000 digits: subspace clustering accuracy >= 0.62 and >= k-means + 0.08', async () => {
    const r = await mnistExperiment({ train: 2000, seed: 0, perClass: [5], generate: 4, dae: { steps: 50 } });
    const acc = (m: string): number => r.accuracy.find((a) => a.method === m)!.accuracy;
    assert.ok(acc('kss') >= 0.62, `kss accuracy ${acc('kss')}`);
    assert.ok(acc('kss') >= acc('kmeans') + 0.08, `kss ${acc('kss')} vs k-means ${acc('kmeans')}`);
    assert.equal(r.basis.length, 10);
    assert.equal(r.generated.length, 4);
  });
});
