/**
 * The `molrg` executable end to end (bin/molrg.js in a child process): --json output parses, bad
 * arguments give one line on stderr and exit code 2, and fit -> sample -> jacobian round-trips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { MoLRG } from '../src/model/molrg.js';

const bin = join(__dirname, '..', 'bin', 'molrg.js');

function molrg(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('molrg CLI', function () {
  this.timeout(60_000);
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'molrg-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('phase --json prints one parseable result with the fitted boundary', () => {
    const r = molrg('phase', '--K', '1', '--n', '16', '--d', '2..4', '--N', '1..5', '--trials', '2', '--method', 'kss', '--workers', '1', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.experiment, 'phase');
    assert.deepEqual(out.methods[0].boundary.points, [{ d: 2, N: 2 }, { d: 3, N: 3 }, { d: 4, N: 4 }]);
  });

  for (const [what, args] of [
    ['an unknown flag', ['phase', '--bogus']],
    ['d > n', ['phase', '--n', '8', '--d', '9']],
    ['a missing data file', ['fit', join('no', 'such.npy'), '--K', '2', '--d', '2', '-o', 'x.safetensors']],
    ['a missing model file', ['sample', 'no-such-model.safetensors', '-o', 'x.npy']],
    ['a non-integer', ['phase', '--trials', 'many']],
    ['an unknown method', ['phase', '--method', 'pca']],
  ] as const) {
    it(`${what} gives a one-line error and exit code 2`, () => {
      const r = molrg(...args);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^molrg: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  it('fit -> sample -> jacobian round-trip with --json', () => {
    const truth = new MoLRG({ n: 12, K: 2, d: 2, seed: 4 });
    const data = join(dir, 'data.npy'), model = join(dir, 'model.safetensors'), samples = join(dir, 'samples.npy');
    writeNpy(data, truth.sample(80, 5).x);
    const fit = molrg('fit', data, '--K', '2', '--d', '2', '--method', 'kss', '-o', model, '--json');
    assert.equal(fit.code, 0, fit.stderr);
    assert.equal(JSON.parse(fit.stdout).K, 2);
    assert.ok(existsSync(model));
    const fitDae = molrg('fit', data, '--K', '2', '--d', '2', '--method', 'dae', '--steps', '50', '-o', join(dir, 'dae.safetensors'), '--json');
    assert.equal(fitDae.code, 0, fitDae.stderr);
    const s = molrg('sample', model, '--count', '7', '--steps', '6', '--sampler', 'euler', '-o', samples, '--json');
    assert.equal(s.code, 0, s.stderr);
    const x = readNpy(samples);
    assert.deepEqual([x.rows, x.cols], [7, 12]);
    const j = molrg('jacobian', model, '--sigma', '0.01,10', '--points', '2', '--json');
    assert.equal(j.code, 0, j.stderr);
    const rows = JSON.parse(j.stdout).rows as { sigma: number; meanRank: number }[];
    assert.equal(rows[0].meanRank, 2, 'rank d at small sigma');
    assert.equal(rows[1].meanRank, 4, 'rank K d at large sigma');
  });
});
