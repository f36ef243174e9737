/**
 * The demo page: forms, charts and images. All computation happens in worker.ts; this file only
 * sends jobs, renders what comes back, and cancels.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type {
  FromWorker, Job, MnistResult, PhaseParams, Progress, SyntheticResult,
} from './protocol.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
let current: { id: number; onProgress(p: Progress): void; resolve(r: unknown): void; reject(e: Error): void } | null = null;

worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'ready') {
    $('backend').textContent = `${m.backend}, ${m.isa}`;
    setBusy(false, 'ready');
    return;
  }
  if (!current || m.id !== current.id) return;
  if (m.type === 'progress') current.onProgress(m.progress);
  else if (m.type === 'result') current.resolve(m.result);
  else current.reject(Object.assign(new Error(m.message), { name: m.name }));
});
worker.addEventListener('error', (e) => setBusy(false, `worker error: ${e.message}`, true));

function setBusy(busy: boolean, status: string, error = false): void {
  for (const id of ['run-synthetic', 'run-phase', 'run-mnist']) ($(id) as HTMLButtonElement).disabled = busy;
  ($('cancel') as HTMLButtonElement).disabled = !busy;
  const s = $('status');
  s.textContent = status;
  s.className = error ? 'error' : '';
  s.dataset.state = busy ? 'busy' : error ? 'error' : 'idle';
}

function setProgress(fraction: number, text: string): void {
  ($('progress') as HTMLProgressElement).value = fraction;
  $('status').textContent = text;
}

/** Runs one job in the worker; only one at a time. */
async function runJob<R>(job: Job, onProgress: (p: Progress) => void): Promise<R | null> {
  const id = nextId++;
  setBusy(true, 'running…');
  setProgress(0, 'running…');
  const started = performance.now();
  try {
    const result = await new Promise<R>((resolve, reject) => {
      current = { id, onProgress, resolve: resolve as (r: unknown) => void, reject };
      worker.postMessage({ type: 'run', id, job });
    });
    setProgress(1, '');
    setBusy(false, `done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (e) {
    const err = e as Error;
    setBusy(false, err.name === 'AbortError' ? 'cancelled' : `error: ${err.message}`, err.name !== 'AbortError');
    return null;
  } finally {
    current = null;
  }
}

$('cancel').addEventListener('click', () => {
  if (current) worker.postMessage({ type: 'cancel', id: current.id });
});

function formValues(form: HTMLFormElement): Record<string, string> {
  return Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v)]));
}
const list = (s: string): number[] => s.split(',').map((t) => Number(t.trim())).filter((v) => Number.isFinite(v));

function lineChart(el: HTMLElement, series: string[], o: { logY?: boolean; xMax?: number } = {}): uPlot {
  el.replaceChildren();
  return new uPlot({
    width: 360, height: 220,
    scales: {
      x: { time: false, ...(o.xMax ? { range: [0, o.xMax] as [number, number] } : {}) },
      y: o.logY ? { distr: 3 } : {},
    },
    series: [{}, ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5 }))],
    // uPlot passes null ticks on a log scale before it has data.
    axes: [{}, { size: 60, values: (_u: uPlot, ticks: (number | null)[]) => ticks.map((t) => (t === null ? '' : +t.toPrecision(3))) }],
  }, [[], ...series.map(() => [])], el);
}

function scatter(el: HTMLElement, title: string, truth: [number[], number[]], generated: [number[], number[]]): void {
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  const div = document.createElement('div');
  fig.append(cap, div);
  el.append(fig);
  // uPlot's scatter mode: facets (x, y) per series, drawn by the points path builder.
  const dots = (label: string, color: string) => ({
    label, stroke: color, fill: color, points: { show: false, size: 5, width: 0 },
    paths: uPlot.paths.points?.(), facets: [{ scale: 'x', auto: true }, { scale: 'y', auto: true }],
  });
  new uPlot({
    mode: 2, width: 300, height: 260,
    scales: { x: { time: false } },
    legend: { live: false },
    series: [{}, dots('truth', 'rgba(120,120,120,0.6)'), dots('generated (DAE)', 'rgba(214,39,40,0.7)')],
  } as uPlot.Options, [null, truth, generated] as unknown as uPlot.AlignedData, div);
}

// ---- synthetic -----------------------------------------------------------------------------------

$('synthetic-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const v = formValues(e.target as HTMLFormElement);
  const p = {
    n: +v.n, K: +v.K, d: +v.d, N: +v.N, steps: +v.steps, init: v.init as 'auto', seed: +v.seed, samples: 300,
  };
  const comps = Array.from({ length: p.K }, (_, k) => `U${k + 1}`);
  const loss = lineChart($('loss-chart'), ['loss'], { logY: true, xMax: p.steps });
  const dist = lineChart($('dist-chart'), comps, { logY: true, xMax: p.steps });
  const kssChart = lineChart($('kss-chart'), ['objective']);
  const L: number[][] = [[], []], D: number[][] = [[], ...comps.map(() => [])], O: number[][] = [[], []];
  for (const id of ['dae-max', 'kss-max', 'support', 'times']) { $(id).textContent = '…'; $(id).dataset.value = ''; }
  $('projections').replaceChildren();
  const r = await runJob<SyntheticResult>({ kind: 'synthetic', params: p }, (q) => {
    if (q.stage === 'dae') {
      setProgress(0.8 * q.step / q.steps, `DAE step ${q.step} / ${q.steps}, loss ${q.loss.toPrecision(4)}`);
      L[0].push(q.step); L[1].push(q.loss);
      loss.setData(L as uPlot.AlignedData);
      if (q.distances) {
        D[0].push(q.step); q.distances.forEach((d, k) => D[k + 1].push(d));
        dist.setData(D as uPlot.AlignedData);
      }
    } else if (q.stage === 'kss') {
      setProgress(0.85, `K-subspaces restart ${q.restart + 1}, iteration ${q.iteration}`);
      O[0].push(O[0].length + 1); O[1].push(q.objective);
      kssChart.setData(O as uPlot.AlignedData);
    } else if (q.stage === 'sample') {
      setProgress(0.9 + 0.1 * q.step / q.steps, `sampling step ${q.step} / ${q.steps}`);
    }
  });
  if (!r) return;
  loss.setData([r.dae.history.map((h) => h.step), r.dae.history.map((h) => h.loss)]);
  show('dae-max', r.dae.max, `${r.dae.max.toFixed(4)} (${r.dae.distances.map((d) => d.toFixed(3)).join(', ')})`);
  show('kss-max', r.kss.max, `${r.kss.max.toFixed(4)} (${r.kss.distances.map((d) => d.toFixed(3)).join(', ')})`);
  show('support', r.supportError, r.supportError.toExponential(2));
  $('times').textContent = `${(r.dae.ms / 1000).toFixed(2)} s / ${(r.kss.ms / 1000).toFixed(2)} s`;
  r.projections.forEach((pr, k) => scatter($('projections'), `component ${k + 1}`, pr.truth, pr.generated));
});

function show(id: string, value: number, text: string): void {
  $(id).textContent = text;
  $(id).dataset.value = String(value);
}

// ---- phase transition ----------------------------------------------------------------------------

$('phase-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const p = phaseParams(e.target as HTMLFormElement);
  const cells = new Map<string, number>();
  drawHeatmap(p, cells);
  await runJob({ kind: 'phase', params: p }, (q) => {
    if (q.stage !== 'phase') return;
    cells.set(`${q.cell.N},${q.cell.d}`, q.cell.rate);
    setProgress(q.done / q.total, `cell ${q.done} / ${q.total}`);
    drawHeatmap(p, cells);
  });
});

/** The phase form as parameters. */
function phaseParams(form: HTMLFormElement): PhaseParams {
  const v = formValues(form);
  return { n: +v.n, K: +v.K, ds: list(v.ds), Ns: list(v.Ns), trials: +v.trials, method: v.method as 'kss', tau: +v.tau, seed: 1 };
}
drawHeatmap(phaseParams($('phase-form') as HTMLFormElement), new Map());

function drawHeatmap(p: PhaseParams, cells: Map<string, number>): void {
  const canvas = $('heatmap') as HTMLCanvasElement, ctx = canvas.getContext('2d')!;
  const left = 60, top = 20, bottom = 50, right = 90;
  const w = (canvas.width - left - right) / p.Ns.length, h = (canvas.height - top - bottom) / p.ds.length;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '12px system-ui';
  ctx.textAlign = 'center';
  p.ds.forEach((d, i) => p.Ns.forEach((N, j) => {
    const rate = cells.get(`${N},${d}`);
    const y = top + (p.ds.length - 1 - i) * h, x = left + j * w;
    ctx.fillStyle = rate === undefined ? '#f3f3f3' : ramp(rate);
    ctx.fillRect(x, y, w - 1, h - 1);
    if (rate !== undefined) {
      ctx.fillStyle = rate > 0.5 ? '#fff' : '#222';
      ctx.fillText(rate.toFixed(2), x + w / 2, y + h / 2 + 4);
    }
  }));
  ctx.fillStyle = '#222';
  p.Ns.forEach((N, j) => ctx.fillText(String(N), left + j * w + w / 2, canvas.height - bottom + 16));
  ctx.fillText('samples per component N', left + (canvas.width - left - right) / 2, canvas.height - 12);
  ctx.textAlign = 'right';
  p.ds.forEach((d, i) => ctx.fillText(String(d), left - 8, top + (p.ds.length - 1 - i) * h + h / 2 + 4));
  ctx.save();
  ctx.translate(16, top + (canvas.height - top - bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText('d', 0, 0);
  ctx.restore();
  // Legend: success rate 0 .. 1.
  for (let i = 0; i <= 20; i++) {
    ctx.fillStyle = ramp(i / 20);
    ctx.fillRect(canvas.width - right + 30, top + (20 - i) * 10, 16, 10);
  }
  ctx.fillStyle = '#222';
  ctx.textAlign = 'left';
  ctx.fillText('1', canvas.width - right + 52, top + 10);
  ctx.fillText('0', canvas.width - right + 52, top + 210);
  ctx.fillText('success', canvas.width - right + 22, top + 230);
}

/** White to blue. */
function ramp(t: number): string {
  const c = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${c(247, 8)},${c(251, 48)},${c(255, 107)})`;
}

// ---- MNIST ---------------------------------------------------------------------------------------

$('mnist-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const v = formValues(e.target as HTMLFormElement);
  const r = await runJob<MnistResult>({
    kind: 'mnist',
    params: { classes: list(v.classes), perClass: +v.perClass, d: +v.d, steps: +v.steps, samples: +v.samples, seed: +v.seed },
  }, (q) => {
    if (q.stage === 'mnist') setProgress(q.step / q.steps, `DAE step ${q.step} / ${q.steps}, loss ${q.loss.toPrecision(4)}`);
  });
  if (!r) return;
  $('basis').replaceChildren(...r.basis.map((imgs) => {
    const row = document.createElement('div');
    row.className = 'row';
    row.append(...imgs.map((img) => digitCanvas(img)));
    return row;
  }));
  $('generated').replaceChildren(...r.generated.map((img) => digitCanvas(img)));
});

function digitCanvas(img: number[]): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = 28; c.height = 28;
  c.style.width = '56px'; c.style.height = '56px';
  const ctx = c.getContext('2d')!, data = ctx.createImageData(28, 28);
  img.forEach((v, i) => {
    const g = Math.round(255 * (1 - v));
    data.data.set([g, g, g, 255], 4 * i);
  });
  ctx.putImageData(data, 0, 0);
  return c;
}
