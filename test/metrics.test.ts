/**
 * Metrics against closed forms: principal angles and distances of planes at known angles, the
 * Hungarian algorithm on cost matrices with known optima, clustering accuracy on permuted labels,
 * support and memorization distances, the generalization score, and the Jacobian of every denoiser.
 */
import assert from 'node:assert/strict';
import { fromRows, matrix, type Matrix } from '../src/matrix.js';
import { clusteringAccuracy } from '../src/metrics/clustering.js';
import { jacobianSpectrum, numericalRank } from '../src/metrics/jacobian.js';
import { generalizationScore, memorizationDistance, supportError } from '../src/metrics/samples.js';
import { hungarian, matchSubspaces, principalAngles, subspaceDistance, w2 } from '../src/metrics/subspace.js';

/** An n x d basis spanned by given orthonormal columns (each a length-n array). */
function basis(cols: number[][]): Matrix {
  const n = cols[0].length, d = cols.length;
  return matrix(n, d, Float32Array.from({ length: n * d }, (_, k) => cols[k % d][Math.floor(k / d)]));
}

/** e_i in R^n scaled, plus another axis: cos(t) e_a + sin(t) e_b. */
function rot(n: number, a: number, b: number, t: number): number[] {
  const v = Array(n).fill(0);
  v[a] = Math.cos(t);
  v[b] = Math.sin(t);
  return v;
}

describe('subspace metrics', () => {
  it('principal angles of two planes in R^5 at known angles (closed form)', () => {
    const U = basis([rot(5, 0, 2, 0), rot(5, 1, 3, 0)]);
    for (const [t1, t2] of [[0.3, 1.1], [1e-3, 0.5], [0, Math.PI / 2], [1e-5, 2e-5]]) {
      const V = basis([rot(5, 0, 2, t1), rot(5, 1, 3, t2)]);
      const th = principalAngles(U, V);
      const want = [t1, t2].sort((a, b) => a - b);
      assert.equal(th.length, 2);
      for (let i = 0; i < 2; i++) assert.ok(Math.abs(th[i] - want[i]) < 2e-6 * Math.max(1, want[i]) + 1e-7, `theta ${th} want ${want}`);
      const dist = subspaceDistance(U, V);
      const wantDist = Math.sqrt((2 * (Math.sin(t1) ** 2 + Math.sin(t2) ** 2)) / 4);
      assert.ok(Math.abs(dist - wantDist) < 1e-6, `dist ${dist} want ${wantDist}`);
      const wantW2 = Math.sqrt(2 * 3 * (2 - Math.cos(t1) - Math.cos(t2)));
      assert.ok(Math.abs(w2(U, V, 3) - wantW2) < 1e-5 * Math.max(1, wantW2) + 1e-7);
    }
  });

  it('distance is 0 for the same span, 1 for orthogonal spans, and handles unequal dimensions', () => {
    const U = basis([rot(4, 0, 1, 0.4), [-Math.sin(0.4), Math.cos(0.4), 0, 0]]);
    const V = basis([rot(4, 0, 1, 0), rot(4, 1, 0, 0)]);
    assert.ok(subspaceDistance(U, V) < 1e-6);
    assert.ok(Math.abs(subspaceDistance(V, basis([rot(4, 2, 0, 0), rot(4, 3, 0, 0)])) - 1) < 1e-7);
    // A line inside a plane: ||P1 - P2||_F^2 = 1, normalised by 2 * 2.
    const line = basis([rot(4, 0, 1, 0.7)]);
    assert.ok(Math.abs(subspaceDistance(V, line) - 0.5) < 1e-6);
    assert.ok(Math.abs(subspaceDistance(line, V) - 0.5) < 1e-6);
    assert.equal(principalAngles(line, V).length, 1);
    assert.throws(() => w2(line, V), /Expected bases of equal dimension/);
  });

  it('rejects bad bases, naming the argument', () => {
    const V = basis([rot(4, 0, 1, 0)]);
    assert.throws(() => subspaceDistance(matrix(5, 1, [1, 0, 0, 0, 0]), V), /for V but received 4 x 1/);
    assert.throws(() => principalAngles(matrix(4, 1, [2, 0, 0, 0]), V), /orthonormal columns .* for U/);
    assert.throws(() => principalAngles(matrix(4, 1, [NaN, 0, 0, 0]), V), /finite values for U.data/);
    assert.throws(() => principalAngles(V, matrix(4, 0)), /columns for V/);
  });

  it('hungarian finds the optimum of known cost matrices, square and rectangular', () => {
    assert.deepEqual(hungarian([[4, 1, 3], [2, 0, 5], [3, 2, 2]]), [1, 0, 2]);
    assert.deepEqual(hungarian([[5, 9], [1, 9], [7, 2]]), [-1, 0, 1]);
    // Brute force on random matrices, square and both rectangular orientations.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const [r, c] of [[4, 4], [3, 5], [5, 3], [1, 4], [6, 6]]) {
      for (let trial = 0; trial < 5; trial++) {
        const cost = Array.from({ length: r }, () => Array.from({ length: c }, () => Math.round(rnd() * 20)));
        const a = hungarian(cost);
        const total = (as: number[]) => as.reduce((s, j, i) => s + (j < 0 ? 0 : cost[i][j]), 0);
        assert.equal(new Set(a.filter((j) => j >= 0)).size, Math.min(r, c));
        assert.equal(total(a), bruteForce(cost), `cost ${JSON.stringify(cost)} -> ${a}`);
      }
    }
    assert.deepEqual(hungarian([]), []);
    assert.throws(() => hungarian([[1, NaN]]), /cost\[0\]\[1\]/);
    assert.throws(() => hungarian([[1, 2], [1]]), /cost\[1\]/);
  });

  it('matchSubspaces pairs learned with true components under permutation, K_learned != K_true', () => {
    const e = (i: number) => rot(6, i, (i + 1) % 6, 0);
    const truth = [basis([e(0), e(1)]), basis([e(2), e(3)]), basis([e(4), e(5)])];
    const learned = [truth[2], basis([rot(6, 0, 2, 0.05), e(1)]), truth[1]];
    const m = matchSubspaces(learned, truth);
    assert.deepEqual(m.assignment, [1, 2, 0]);
    assert.ok(m.max > 0.02 && m.max < 0.05 && m.distances[1] < 1e-6);
    const fewer = matchSubspaces([truth[1]], truth);
    assert.deepEqual(fewer.assignment, [-1, 0, -1]);
    assert.deepEqual(fewer.distances.map((x) => Math.round(x * 1e6) / 1e6), [1, 0, 1]);
    const more = matchSubspaces([...learned, basis([e(5), e(4)])], truth.slice(0, 2));
    assert.deepEqual(more.assignment, [1, 2]);
    assert.throws(() => matchSubspaces([fromRows([[1], [0]])], truth), /ambient dimension of truth/);
  });
});

describe('clustering and sample metrics', () => {
  it('clustering accuracy is invariant to relabelling and counts the best matching', () => {
    const truth = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2];
    assert.equal(clusteringAccuracy([5, 5, 5, 9, 9, 9, 7, 7, 7, 7], truth), 1);
    assert.equal(clusteringAccuracy(Int32Array.from([2, 2, 0, 1, 1, 1, 0, 0, 0, 0]), truth), 0.9);
    // More clusters than labels: the extra cluster counts as wrong.
    assert.equal(clusteringAccuracy([0, 0, 0, 1, 1, 1, 2, 2, 3, 3], truth), 0.8);
    assert.equal(clusteringAccuracy([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], truth), 0.4);
    assert.throws(() => clusteringAccuracy([0, 1], truth), /one label per sample \(10\) for labels/);
    assert.throws(() => clusteringAccuracy([0.5], [0]), /integer labels for labels/);
    assert.throws(() => clusteringAccuracy([], []), /at least one label for truth/);
  });

  it('support error, memorization distance and generalization score (closed forms)', () => {
    const plane = basis([rot(3, 0, 1, 0), rot(3, 1, 0, 0)]); // the x-y plane
    const axis = basis([rot(3, 2, 0, 0)]); // the z axis
    const x = fromRows([[3, 4, 0], [0, 3, 4], [1, 0, 1e-4], [0, 0, 0], [0, 0, -2]]);
    const se = supportError(x, [plane, axis]);
    const want = [0, Math.min(4 / 5, 3 / 5), 1e-4 / Math.hypot(1, 1e-4), 0, 0];
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(se[i] - want[i]) < 1e-6 * (1 + want[i]) && (want[i] === 0 || Math.abs(se[i] / want[i] - 1) < 1e-3), `row ${i}: ${se[i]} vs ${want[i]}`);
    const train = fromRows([[3, 4, 0], [0, 0, -1]]);
    const md = memorizationDistance(x, train);
    assert.equal(md[0], 0);
    assert.ok(Math.abs(md[4] - 0.5) < 1e-7);
    assert.equal(md[3], Infinity);
    // Counted: rows 2 (near the plane, far from train), 3 (zero: on every subspace, no copy) and 4
    // (on the axis, half its length from a training sample); not row 0 (a copy) nor row 1 (off support).
    const g = generalizationScore(x, train, [plane, axis]);
    assert.equal(g.score, 3 / 5);
    assert.deepEqual(Array.from(g.support), Array.from(se));
    assert.equal(generalizationScore(x, train, [plane, axis], { tauM: 0.6 }).score, 2 / 5);
    assert.throws(() => supportError(matrix(1, 4), [plane]), /3 columns for x but received 1 x 4/);
    assert.throws(() => memorizationDistance(x, matrix(0, 3)), /at least 1 rows for train/);
    assert.throws(() => memorizationDistance(matrix(1, 3, [NaN, 0, 0]), train), /finite values for x.data/);
    assert.throws(() => generalizationScore(matrix(0, 3), train, [plane]), /at least 1 rows for samples/);
    assert.throws(() => generalizationScore(x, train, [plane], { tauS: 0 }), /for tauS but received 0/);
  });

  it('numerical rank and the spectrum of a known matrix', () => {
    const J = fromRows([[3, 0, 0], [0, 2e-3, 0], [0, 0, 1e-4]]);
    const sv = jacobianSpectrum(J);
    assert.ok(Math.abs(sv[0] - 3) < 1e-6 && Math.abs(sv[1] - 2e-3) < 1e-8 && Math.abs(sv[2] - 1e-4) < 1e-8);
    assert.equal(numericalRank(J), 1);
    assert.equal(numericalRank(sv, 1e-4), 2);
    assert.equal(numericalRank(matrix(2, 2)), 0);
    assert.throws(() => numericalRank(J, 0), /for relTol but received 0/);
  });
});

/** Minimum total cost over all injective assignments of the smaller side (brute force). */
function bruteForce(cost: number[][]): number {
  const r = cost.length, c = cost[0].length;
  const t = r <= c ? cost : Array.from({ length: c }, (_, j) => cost.map((row) => row[j]));
  const rows = t.length, cols = t[0].length;
  let best = Infinity;
  const used = new Array(cols).fill(false);
  const go = (i: number, acc: number) => {
    if (i === rows) { best = Math.min(best, acc); return; }
    for (let j = 0; j < cols; j++) if (!used[j]) { used[j] = true; go(i + 1, acc + t[i][j]); used[j] = false; }
  };
  go(0, 0);
  return best;
}
