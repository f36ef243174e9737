/** Clustering accuracy against true labels under the best matching of cluster ids (SPEC section 7). */
import { fail } from '../backend/validate.js';
import { hungarian } from './subspace.js';

/** Integer labels as an array of numbers, checked. */
function checkLabels(name: string, value: unknown): ArrayLike<number> {
  if (!(value instanceof Int32Array) && !(value instanceof Uint32Array) && !Array.isArray(value)) {
    fail('an Int32Array or an array of integer labels', name, value, TypeError);
  }
  const a = value as ArrayLike<number>;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isInteger(a[i])) throw new RangeError(`Expected integer labels for ${name} but received ${a[i]} at index ${i}`);
  }
  return a;
}

/**
 * The fraction of samples whose cluster agrees with the true label under the best one-to-one map
 * from cluster ids to true labels (Hungarian algorithm on the contingency table), in [0, 1].
 * The two labelings may use different ids and different numbers of clusters.
 * @param labels - the clustering, one integer per sample
 * @param truth - the true labels, same length, >= 1
 */
export function clusteringAccuracy(labels: Int32Array | readonly number[], truth: Int32Array | readonly number[]): number {
  const a = checkLabels('labels', labels), b = checkLabels('truth', truth);
  if (b.length < 1) fail('at least one label', 'truth', truth);
  if (a.length !== b.length) fail(`one label per sample (${b.length})`, 'labels', labels);
  const ids = (x: ArrayLike<number>) => {
    const m = new Map<number, number>();
    for (let i = 0; i < x.length; i++) if (!m.has(x[i])) m.set(x[i], m.size);
    return m;
  };
  const ia = ids(a), ib = ids(b);
  const counts = Array.from({ length: ia.size }, () => new Array<number>(ib.size).fill(0));
  for (let i = 0; i < a.length; i++) counts[ia.get(a[i]) as number][ib.get(b[i]) as number]++;
  const assignment = hungarian(counts.map((row) => row.map((c) => -c)));
  let hits = 0;
  assignment.forEach((j, i) => { if (j >= 0) hits += counts[i][j]; });
  return hits / a.length;
}
