/**
 * The HTML report of `molrg reproduce`: DIR/index.html (every figure with its caption),
 * DIR/results.json, one SVG per plot and one PNG per image grid.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReproduceResult } from '../experiments/reproduce.js';
import { type Figure, jacobianFigures, memorizationFigures, mnistFigures, phaseFigures } from './figures.js';
import { renderSvg } from './plots.js';

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Writes each figure as DIR/<name>.svg or .png; returns the file names in order. */
export async function writeFigures(dir: string, figures: readonly Figure[]): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const f of figures) {
    if (f.spec) {
      writeFileSync(join(dir, `${f.name}.svg`), await renderSvg(f.spec));
      files.push(`${f.name}.svg`);
    } else if (f.png) {
      writeFileSync(join(dir, `${f.name}.png`), f.png);
      files.push(`${f.name}.png`);
    }
  }
  return files;
}

/** All figures of a reproduce result, by section. */
export function reportSections(r: ReproduceResult): { title: string; figures: Figure[] }[] {
  const sections: { title: string; figures: Figure[] }[] = [];
  if (r.phaseK1) sections.push({ title: '1. Phase transition, one subspace: training = PCA, boundary N = d', figures: phaseFigures(r.phaseK1) });
  if (r.phaseK2) sections.push({ title: '2. Phase transition, two subspaces: DAE training = subspace clustering, boundary linear in d', figures: phaseFigures(r.phaseK2) });
  if (r.memorization) sections.push({ title: '3. Memorisation vs generalisation', figures: memorizationFigures(r.memorization) });
  if (r.jacobian) sections.push({ title: '4. Low-rank Jacobian', figures: jacobianFigures(r.jacobian) });
  if (r.mnist) sections.push({ title: '5. Real images: MNIST digits', figures: mnistFigures(r.mnist) });
  return sections;
}

/** Writes the whole report into `dir`; returns the paths written. */
export async function writeReport(dir: string, r: ReproduceResult): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(r, null, 1)}\n`);
  const sections = reportSections(r);
  const body: string[] = [];
  const written = ['results.json'];
  for (const s of sections) {
    const files = await writeFigures(dir, s.figures);
    written.push(...files);
    body.push(`<section><h2>${escape(s.title)}</h2>`);
    s.figures.forEach((f, i) => {
      body.push(`<figure><img src="${files[i]}" alt="${escape(f.title)}"><figcaption><b>${escape(f.title)}.</b> ${escape(f.caption)}</figcaption></figure>`);
    });
    body.push('</section>');
  }
  const status = r.complete ? '' : '<p class="warn">Interrupted or partial run: only the experiments and cells that finished are shown.</p>';
  const skipped = r.mnistSkipped ? `<p class="warn">MNIST skipped: ${escape(r.mnistSkipped)}.</p>` : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>molrg reproduce</title>
<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}figcaption{font-size:.95em;line-height:1.4}
.warn{color:#a33}code{background:#f4f4f4;padding:0 .2em}</style></head><body>
<h1>molrg: diffusion models learn mixtures of low-rank Gaussians</h1>
<p>Reproduction of the experiments of "Diffusion Models Learn Low-Dimensional Distributions via Subspace Clustering"
(Wang et al., arXiv 2409.02426) by <code>molrg reproduce${r.quick ? ' --quick' : ''}</code>: seed ${r.seed}, backend ${escape(r.backend)} (${escape(r.isa)}),
${r.seconds.toFixed(1)} s in all. Every number below is read from <a href="results.json">results.json</a>.</p>
${status}${skipped}
${body.join('\n')}
</body></html>
`;
  writeFileSync(join(dir, 'index.html'), html);
  written.push('index.html');
  return written.map((f) => join(dir, f));
}
