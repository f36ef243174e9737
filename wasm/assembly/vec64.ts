// Float64 vector helpers shared by the small dense kernels (svd, eigh, stiefel; not a kernel itself):
// f64x2 SIMD with a scalar tail in the SIMD build, plain loops otherwise. Pointers to float64 arrays.

/** sum_i a[i] b[i]. */
export function dot(a: usize, b: usize, n: usize): f64 {
  let i: usize = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = i << 3;
      s0 = f64x2.add(s0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
      s1 = f64x2.add(s1, f64x2.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    }
    s0 = f64x2.add(s0, s1);
    s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  }
  for (; i < n; i++) s += load<f64>(a + (i << 3)) * load<f64>(b + (i << 3));
  return s;
}

/** The three inner products of a pair: x = a.a, y = b.b, z = a.b (written to out[0..2]). */
export function dots3(a: usize, b: usize, n: usize, out: usize): void {
  let i: usize = 0;
  let aa: f64 = 0, bb: f64 = 0, ab: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let vaa = f64x2.splat(0), vbb = f64x2.splat(0), vab = f64x2.splat(0);
    for (; i + 2 <= n; i += 2) {
      const x = v128.load(a + (i << 3)), y = v128.load(b + (i << 3));
      vaa = f64x2.add(vaa, f64x2.mul(x, x));
      vbb = f64x2.add(vbb, f64x2.mul(y, y));
      vab = f64x2.add(vab, f64x2.mul(x, y));
    }
    aa = f64x2.extract_lane(vaa, 0) + f64x2.extract_lane(vaa, 1);
    bb = f64x2.extract_lane(vbb, 0) + f64x2.extract_lane(vbb, 1);
    ab = f64x2.extract_lane(vab, 0) + f64x2.extract_lane(vab, 1);
  }
  for (; i < n; i++) {
    const x = load<f64>(a + (i << 3)), y = load<f64>(b + (i << 3));
    aa += x * x;
    bb += y * y;
    ab += x * y;
  }
  store<f64>(out, aa);
  store<f64>(out, bb, 8);
  store<f64>(out, ab, 16);
}

/** y -= c x. */
export function axmy(c: f64, x: usize, y: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vc = f64x2.splat(c);
    for (; i + 2 <= n; i += 2) {
      const o = i << 3;
      v128.store(y + o, f64x2.sub(v128.load(y + o), f64x2.mul(vc, v128.load(x + o))));
    }
  }
  for (; i < n; i++) store<f64>(y + (i << 3), load<f64>(y + (i << 3)) - c * load<f64>(x + (i << 3)));
}

/** x *= c. */
export function scal(c: f64, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vc = f64x2.splat(c);
    for (; i + 2 <= n; i += 2) v128.store(x + (i << 3), f64x2.mul(vc, v128.load(x + (i << 3))));
  }
  for (; i < n; i++) store<f64>(x + (i << 3), c * load<f64>(x + (i << 3)));
}

/** Plane rotation of two vectors: (x, y) <- (c x - s y, s x + c y). */
export function rot(x: usize, y: usize, c: f64, s: f64, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vc = f64x2.splat(c), vs = f64x2.splat(s);
    for (; i + 2 <= n; i += 2) {
      const o = i << 3;
      const a = v128.load(x + o), b = v128.load(y + o);
      v128.store(x + o, f64x2.sub(f64x2.mul(vc, a), f64x2.mul(vs, b)));
      v128.store(y + o, f64x2.add(f64x2.mul(vs, a), f64x2.mul(vc, b)));
    }
  }
  for (; i < n; i++) {
    const a = load<f64>(x + (i << 3)), b = load<f64>(y + (i << 3));
    store<f64>(x + (i << 3), c * a - s * b);
    store<f64>(y + (i << 3), s * a + c * b);
  }
}
