/**
 * The bench:peers harness (issue 6) on tiny sizes, one round: it runs every workload and reports
 * every one, its PyTorch DAE loss and gradient equal molrg's on identical inputs (when PyTorch is
 * installed), the subspace errors and accuracies it reports are real, and the process's backend
 * selection is left as it was. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { backendInfo, backendKernels } from '../src/backend/index.js';
import { formatReport, type Report, runHarness } from '../bench/peers/harness.js';
import { WORKLOADS } from '../bench/peers/workloads.js';

describe('bench:peers harness (tiny sizes)', function () {
  this.timeout(180_000);
  let report: Report;
  const initial = { backend: backendInfo().backend, threads: backendInfo().threads };

  before(async () => {
    // One compiled backend and one thread everywhere keep this short on a busy machine.
    let compiled = 'native';
    try {
      backendKernels('native');
    } catch {
      compiled = 'wasm';
    }
    report = await runHarness({ tiny: true, rounds: 1, threads: 1, backends: [compiled], log: () => undefined });
  });

  it('reports every workload with a median or a reason for every implementation', () => {
    assert.deepEqual(report.workloads.map((w) => w.id), [...WORKLOADS]);
    for (const w of report.workloads) {
      assert.ok(w.entries.length + w.skipped.length > 0, `${w.id} has neither entries nor skips`);
      for (const e of w.entries) {
        assert.equal(e.error, null, `${w.id} ${e.impl} failed: ${e.error}`);
        assert.ok(e.median !== null && Number.isFinite(e.median) && e.median > 0, `${w.id} ${e.impl}: median ${e.median}`);
        assert.ok(e.samples.length >= 1);
      }
      for (const s of w.skipped) assert.ok(s.reason.length > 0);
    }
    const w1 = report.workloads[0];
    assert.ok(w1.entries.some((e) => e.impl === 'native' || e.impl === 'wasm'), 'W1 measured no compiled molrg backend');
  });

  it('survives a JSON round trip with machine info and the targets', () => {
    const back = JSON.parse(JSON.stringify(report)) as Report;
    assert.ok(typeof back.machine.cpu === 'string' && (back.machine.cpu as string).length > 0);
    assert.ok((back.machine.cores as number) >= 1);
    assert.equal(back.machine.node, process.version);
    assert.ok(back.targets.length >= 10);
    for (const t of back.targets) assert.ok(t.pass === null || typeof t.pass === 'boolean');
    const text = formatReport(report);
    for (const id of WORKLOADS) assert.ok(text.includes(`| **${id}** |`), `table lacks ${id}`);
  });

  it('matches PyTorch\'s DAE loss and gradient to molrg\'s on identical inputs (or says PyTorch is absent)', function () {
    for (const id of ['W1', 'W2']) {
      const check = report.workloads.find((w) => w.id === id)?.facts.lossCheck as {
        molrg: Record<string, { lossRelDiffVsJs: number; gradRelDiffVsJs: number }>;
        torch: { loss: number; lossRelDiffVsJs: number; gradRelDiffVsJs: number } | string;
      };
      for (const [backend, r] of Object.entries(check.molrg)) {
        assert.ok(r.lossRelDiffVsJs < 1e-5 && r.gradRelDiffVsJs < 1e-4, `${id} molrg ${backend}: ${JSON.stringify(r)}`);
      }
      if (typeof check.torch === 'string') {
        assert.match(check.torch, /PyTorch absent/);
        this.skip();
      }
      assert.ok(Number.isFinite(check.torch.loss) && check.torch.loss > 0);
      // float32 on both sides, float64 gating: agreement to float32 rounding.
      assert.ok(check.torch.lossRelDiffVsJs < 1e-5, `${id} torch loss rel. diff ${check.torch.lossRelDiffVsJs}`);
      assert.ok(check.torch.gradRelDiffVsJs < 1e-4, `${id} torch gradient rel. diff ${check.torch.gradRelDiffVsJs}`);
    }
  });

  it('measures W5 subspace errors against a float64 SVD and W7 accuracies', () => {
    const w5 = report.workloads.find((w) => w.id === 'W5')!;
    const se = w5.facts.subspaceError as { errors: Record<string, number> };
    for (const b of ['native', 'wasm', 'js']) {
      if (w5.entries.some((e) => e.impl === b)) assert.ok(se.errors[b] < 1e-5, `W5 ${b} error ${se.errors[b]}`);
    }
    if (se.errors['ml-matrix'] !== undefined) assert.ok(se.errors['ml-matrix'] < 1e-5);
    const w7 = report.workloads.find((w) => w.id === 'W7')!;
    for (const e of w7.entries) assert.ok(e.accuracy !== null && e.accuracy > 0.1 && e.accuracy <= 1, `W7 ${e.impl} accuracy ${e.accuracy}`);
  });

  it('leaves backend selection and the native pool size as it found them', () => {
    const after = backendInfo();
    assert.deepEqual({ backend: after.backend, threads: after.threads }, initial);
  });
});
