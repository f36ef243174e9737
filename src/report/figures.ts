/**
 * Figures of each experiment: a plot (Vega-Lite spec) or an image grid, and a caption that states the
 * measured numbers, always computed from the result object.
 */
import { DIGIT_SIDE } from '../experiments/digits.js';
import type { JacobianResult } from '../experiments/jacobian.js';
import type { MemorizationResult } from '../experiments/memorization.js';
import type { MnistResult } from '../experiments/mnist.js';
import type { PhaseCell, PhaseMethodResult, PhaseResult } from '../experiments/phase.js';
import { barSpec, heatmapSpec, lineSpec, scatterSpec, type VegaLiteSpec } from './plots.js';
import { imageGrid } from './png.js';

/** One figure of the report: an SVG plot or a PNG grid, with its caption. */
export interface Figure {
  /** File name without extension. */
  name: string;
  title: string;
  caption: string;
  spec?: VegaLiteSpec;
  png?: Buffer;
}

const f2 = (v: number): string => v.toFixed(2);
const f3 = (v: number): string => v.toFixed(3);
const pct = (v: number): string => `${(100 * v).toFixed(0)} %`;

function rateAt(cells: readonly PhaseCell[], d: number, N: number): number | null {
  const c = cells.find((x) => x.d === d && x.N === N);
  return c && c.trials > 0 ? c.rate : null;
}

function boundaryText(m: PhaseMethodResult): string {
  const fit = m.boundary.fit;
  const pts = m.boundary.points.map((p) => `d=${p.d}: N=${p.N}`).join(', ');
  return fit
    ? `The fitted boundary is N = ${f2(fit.slope)} d ${fit.intercept >= 0 ? '+' : '-'} ${f2(Math.abs(fit.intercept))} (R^2 = ${f3(fit.r2)}); the smallest N with success >= 50 % per d: ${pts}.`
    : `Too few crossings to fit a boundary (${pts || 'none'}).`;
}

function phaseMap(m: PhaseMethodResult, name: string, title: string): Figure {
  const fit = m.boundary.fit;
  return {
    name, title,
    spec: heatmapSpec(m.cells.map((c) => ({ x: c.d, y: c.N, value: c.rate })), {
      title, xTitle: 'subspace dimension d', yTitle: 'samples per component N', valueTitle: 'success rate',
      points: m.boundary.points.map((p) => ({ x: p.d, y: p.N })),
      line: fit ? { ...fit, label: `fit N = ${f2(fit.slope)} d ${fit.intercept >= 0 ? '+' : '-'} ${f2(Math.abs(fit.intercept))}` } : undefined,
    }),
    caption: '',
  };
}

/** Figures of a phase-transition result (one heatmap per method, plus the agreement map). */
export function phaseFigures(r: PhaseResult, prefix = `phase-k${r.K}`): Figure[] {
  const figs: Figure[] = [];
  const method = (m: string): string => (m === 'dae' ? 'DAE training (diffusion loss)' : 'K-subspaces');
  for (const m of r.methods) {
    const fig = phaseMap(m, r.methods.length > 1 ? `${prefix}-${m.method}` : prefix,
      `Phase transition, K = ${r.K}, n = ${r.n}: ${method(m.method)}`);
    const checks: string[] = [];
    if (r.K === 1) {
      const below = r.d.map((d) => rateAt(m.cells, d, d - 1)).filter((v): v is number => v !== null);
      const at = r.d.map((d) => rateAt(m.cells, d, d)).filter((v): v is number => v !== null);
      if (below.length) checks.push(`mean success at N = d - 1: ${f2(below.reduce((a, b) => a + b, 0) / below.length)}`);
      if (at.length) checks.push(`at N = d: ${f2(at.reduce((a, b) => a + b, 0) / at.length)}`);
    }
    const dae = r.dae.init ?? 'auto';
    fig.caption = `Success rate (max matched subspace distance < ${r.tau}) over ${r.trials} trials per cell, `
      + `${r.K} random subspaces of R^${r.n}, exactly N samples each. ${boundaryText(m)}`
      + (checks.length ? ` ${checks.join('; ')}.` : '')
      + (m.method === 'dae' ? ` DAE: trainDAE with init '${dae}'${r.dae.steps ? `, ${r.dae.steps} steps` : ''} (auto = K-subspaces start refined by the diffusion loss).` : '')
      + ` ${r.seconds.toFixed(1)} s.`;
    figs.push(fig);
  }
  if (r.agreement && r.methods.length === 2) {
    const overall = r.agreement.reduce((a, c) => a + c.successes, 0) / Math.max(1, r.agreement.reduce((a, c) => a + c.trials, 0));
    const [a, b] = r.methods;
    const both = a.cells.reduce((s, c, i) => s + (c.trials ? Math.min(c.rate, b.cells[i].rate) : 0), 0);
    figs.push({
      name: `${prefix}-agreement`,
      title: `DAE vs K-subspaces, K = ${r.K}: same subspaces`,
      spec: heatmapSpec(r.agreement.map((c) => ({ x: c.d, y: c.N, value: c.rate })), {
        title: `DAE vs K-subspaces agreement, K = ${r.K}`, xTitle: 'subspace dimension d', yTitle: 'samples per component N', valueTitle: 'agreement',
      }),
      caption: `Fraction of trials in which the DAE and K-subspaces fits on the same data lie within ${r.tau} of each other `
        + `(max matched distance): ${pct(overall)} over all ${r.agreement.reduce((s, c) => s + c.trials, 0)} trials. `
        + `Mean over cells of min(success DAE, success KSS): ${f2(both / a.cells.length)}.`,
    });
  }
  return figs;
}

/** Figures of the memorisation experiment: score vs N and the projected samples. */
export function memorizationFigures(r: MemorizationResult): Figure[] {
  const pts = r.rows.flatMap((row) => [
    { x: row.N, y: row.dae.score, series: 'trained low-rank DAE' },
    { x: row.N, y: row.empirical.score, series: 'empirical denoiser' },
  ]);
  const last = r.rows[r.rows.length - 1], first = r.rows[0];
  const reach = r.rows.find((row) => row.dae.score >= 0.9);
  const figs: Figure[] = [{
    name: 'memorization',
    title: 'Memorisation vs generalisation',
    spec: lineSpec(pts, { title: `Generalisation score vs training-set size (K = ${r.K}, d = ${r.d}, n = ${r.n})`, xTitle: 'training samples N', yTitle: 'generalisation score', logX: true, yDomain: [0, 1] }),
    caption: `Fraction of ${r.count} generated samples on the true support (support error < ${r.tauS}) and not copies (memorisation distance > ${r.tauM}), `
      + `mean of ${r.trials} trial(s). DAE: ${f2(first.dae.score)} at N = ${first.N}, ${f2(last.dae.score)} at N = ${last.N}`
      + (reach ? `, >= 0.9 from N = ${reach.N}` : '') + `. Empirical denoiser: at most ${f2(Math.max(...r.rows.map((x) => x.empirical.score)))}; `
      + `at least ${pct(Math.min(...r.rows.map((x) => x.empirical.copies)))} of its samples are copies at every N.`,
  }];
  for (const s of r.scatter) {
    const sourceName = { data: 'training data', dae: 'DAE samples', empirical: 'empirical-denoiser samples' };
    const points = s.points.map((p) => ({ x: p.u1, y: p.u2, series: sourceName[p.source], facet: `subspace ${p.component + 1}` }));
    const emp = s.points.filter((p) => p.source === 'empirical').length;
    const row = r.rows.find((x) => x.N === s.N);
    figs.push({
      name: `memorization-scatter-N${s.N}`,
      title: `Samples projected on the true subspaces, N = ${s.N}`,
      spec: scatterSpec(points, { title: `Coordinates on the first two basis vectors of the nearest true subspace, N = ${s.N}`, xTitle: 'u1 . x', yTitle: 'u2 . x', facet: true }),
      caption: `${s.points.filter((p) => p.source === 'data').length} training points, ${emp} samples from each denoiser. `
        + (row ? `The empirical denoiser's samples sit on training points (${pct(row.empirical.copies)} copies); the DAE's spread over the subspaces `
          + `(${pct(row.dae.onSupport)} on the support, ${pct(row.dae.copies)} copies).` : ''),
    });
  }
  return figs;
}

/** Figure of the Jacobian experiment. */
export function jacobianFigures(r: JacobianResult): Figure[] {
  const names = { dae: 'trained DAE', exact: 'exact MoLRG denoiser', empirical: 'empirical denoiser' };
  const small = r.rows.filter((x) => x.sigma === Math.min(...r.sigma));
  const large = r.rows.filter((x) => x.sigma === Math.max(...r.sigma));
  const desc = (rows: typeof r.rows): string => rows.map((x) => `${names[x.denoiser]} ${x.meanRank.toFixed(1)}`).join(', ');
  return [{
    name: 'jacobian',
    title: 'Low-rank Jacobian of the denoiser',
    spec: lineSpec(r.rows.map((x) => ({ x: x.sigma, y: x.meanRank, series: names[x.denoiser] })), {
      title: `Numerical rank of d x_hat / d x_t (K = ${r.K}, d = ${r.d}, n = ${r.n})`, xTitle: 'noise level sigma', yTitle: 'numerical rank', logX: true,
      rules: [{ y: r.d, label: `d = ${r.d}` }, { y: r.K * r.d, label: `K d = ${r.K * r.d}` }],
    }),
    caption: `Mean numerical rank (singular values > ${r.relTol} x the largest) over ${r.points} noisy points per sigma, ambient dimension ${r.n}. `
      + `At sigma = ${Math.min(...r.sigma)}: ${desc(small)}. At sigma = ${Math.max(...r.sigma)}: ${desc(large)}.`,
  }];
}

/** Figures of the MNIST experiment: accuracy bars, generalisation, basis images, generated digits, edits. */
export function mnistFigures(r: MnistResult): Figure[] {
  const names = { kss: 'K-subspaces', dae: 'DAE (diffusion loss)', kmeans: 'k-means' };
  const acc = (m: string): number | undefined => r.accuracy.find((a) => a.method === m)?.accuracy;
  const figs: Figure[] = [{
    name: 'mnist-accuracy',
    title: 'MNIST clustering accuracy',
    spec: barSpec(r.accuracy.map((a) => ({ label: names[a.method], value: a.accuracy })), { title: `Clustering accuracy on ${r.train} digits (K = ${r.K}, d = ${r.d})`, yTitle: 'accuracy (best label matching)', yDomain: [0, 1] }),
    caption: `${r.train} MNIST digits, preprocessing '${r.preprocess}', K = ${r.K}, d = ${r.d}: `
      + r.accuracy.map((a) => `${names[a.method]} ${f3(a.accuracy)} (${a.seconds.toFixed(1)} s)`).join(', ')
      + (acc('kss') !== undefined && acc('kmeans') !== undefined ? `; subspace clustering beats k-means on the same data by ${f3(acc('kss')! - acc('kmeans')!)}.` : '.'),
  }];
  if (r.generalization.length) {
    figs.push({
      name: 'mnist-generalization',
      title: 'MNIST: generalisation vs images per class',
      spec: lineSpec(r.generalization.flatMap((g) => [
        { x: g.perClass, y: g.dae, series: 'trained low-rank DAE' }, { x: g.perClass, y: g.empirical, series: 'empirical denoiser' },
      ]), { title: 'Generated digits near the digit subspaces and not copies', xTitle: 'training images per class', yTitle: 'generalisation score', logX: true, yDomain: [0, 1] }),
      caption: `Support = the ${r.K} subspaces fitted above; tauS = ${r.tauS} (90th percentile of held-out real digits' support error), tauM = ${r.tauM}. `
        + r.generalization.map((g) => `${g.perClass}/class: DAE ${f2(g.dae)}, empirical ${f2(g.empirical)}`).join('; ') + '.',
    });
  }
  const side = { height: DIGIT_SIDE, width: DIGIT_SIDE, scale: 2 };
  if (r.basis.length) {
    figs.push({
      name: 'mnist-basis', title: 'Basis images per cluster',
      png: imageGrid(r.basis.flat(), { ...side, columns: r.basis[0].length, mode: 'signed' }),
      caption: `One row per K-subspaces cluster (majority labels ${r.clusters.map((c) => c.label).join(', ')}; sizes ${r.clusters.map((c) => c.size).join(', ')}), `
        + `the first ${r.basis[0].length} basis vectors (red positive, blue negative).`,
    });
  }
  if (r.generated.length) {
    figs.push({
      name: 'mnist-generated', title: 'Digits generated by the trained DAE',
      png: imageGrid(r.generated, { ...side, columns: Math.min(8, r.generated.length) }),
      caption: `${r.generated.length} samples of the EDM sampler driven by the trained low-rank DAE (priors fitted to its clusters), mean image added back.`,
    });
  }
  if (r.edits.length) {
    figs.push({
      name: 'mnist-edits', title: 'Edits along basis directions',
      png: imageGrid(r.edits.flatMap((e) => e.images), { ...side, columns: r.editSteps.length }),
      caption: `Each row: a digit x moved along one basis vector u_j of its cluster, x + t sqrt(lambda_k) u_j for t = ${r.editSteps.join(', ')} `
        + `(rows: ${r.edits.map((e) => `cluster ${e.cluster} dir ${e.direction + 1}`).join('; ')}).`,
    });
  }
  return figs;
}
