/**
 * The subset of `node:assert/strict` that the kernel table (test/kernels.test.ts) uses, for running
 * that table inside a browser (test/browser.test.ts bundles it with this module in place of node's).
 * Semantics as node's strict mode: SameValue for primitives, element-wise for arrays and typed arrays.
 */
class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const show = (v: unknown): string => {
  const s = ArrayBuffer.isView(v) || Array.isArray(v) ? `[${Array.from(v as ArrayLike<unknown>).slice(0, 8).join(', ')}…]` : String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
};

function ok(value: unknown, message?: string): asserts value {
  if (!value) throw new AssertionError(message ?? `expected a truthy value, got ${show(value)}`);
}

function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!Object.is(actual, expected)) throw new AssertionError(message ?? `expected ${show(expected)}, got ${show(actual)}`);
}

function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!same(actual, expected)) throw new AssertionError(message ?? `expected deep equality: ${show(actual)} vs ${show(expected)}`);
}

function notDeepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (same(actual, expected)) throw new AssertionError(message ?? `expected values to differ: ${show(actual)}`);
}

/** `fn` throws, and the error passes `check` (a function returning true, as node's validation function). */
function throws(fn: () => unknown, check?: (e: Error) => boolean, message?: string): void {
  try {
    fn();
  } catch (e) {
    if (check && check(e as Error) !== true) throw new AssertionError(message ?? `the error did not pass the check: ${String(e)}`);
    return;
  }
  throw new AssertionError(message ?? 'expected the function to throw');
}

const assert = Object.assign(ok, { ok, equal, deepEqual, notDeepEqual, throws, AssertionError });
export default assert;
export { AssertionError, deepEqual, equal, notDeepEqual, ok, throws };
