// Online weighted ridge regression with forgetting: the sufficient statistics X'WX and X'Wz are
// kept (old samples fade by `forget` per sample), and the coefficients are shrunk towards a prior
// so a site with little history gets sensible ones. Small dense systems (a handful of features).

const MIN_SPREAD = 0.1;

export class RidgeRegression {
  private readonly xtx: Float64Array;
  private readonly xtz: Float64Array;
  /** Scratch for solve(). */
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  /** Effective (faded) sum of weights and number of samples. */
  private weight = 0;
  private count = 0;

  constructor(
    readonly size: number,
    private readonly forget: number,
  ) {
    this.xtx = new Float64Array(size * size);
    this.xtz = new Float64Array(size);
    this.a = new Float64Array(size * size);
    this.b = new Float64Array(size);
  }

  add(x: ArrayLike<number>, z: number, w: number): void {
    const n = this.size;
    const f = this.forget;
    for (let i = 0; i < n; i++) {
      const wxi = w * (x[i] as number);
      this.xtz[i] = f * (this.xtz[i] as number) + wxi * z;
      for (let j = i; j < n; j++)
        this.xtx[i * n + j] = f * (this.xtx[i * n + j] as number) + wxi * (x[j] as number);
    }
    this.weight = f * this.weight + w;
    this.count = f * this.count + 1;
  }

  /**
   * argmin Σ w (z − x·β)² + Σᵢ λᵢ (βᵢ − priorᵢ)², with λᵢ = `strength` · (X'WX)ᵢᵢ / samples: the
   * prior of each coefficient weighs as much as `strength` average samples of its feature, so
   * the data outweigh it once there are many more samples than `strength`.
   */
  solve(
    prior: ArrayLike<number>,
    strength: number,
    out: Float64Array = new Float64Array(this.size),
  ): Float64Array {
    const n = this.size;
    const scale = this.count > 0 ? strength / this.count : 0;
    // A feature that barely varies (or has not been seen) counts as varying by ±0.1, so it keeps
    // its prior instead of getting a wild coefficient from rounding noise.
    const floor = MIN_SPREAD ** 2 * this.weight;
    const a = this.a;
    const b = this.b;
    for (let i = 0; i < n; i++) {
      const d = this.xtx[i * n + i] as number;
      const lambda = this.count > 0 ? scale * Math.max(d, floor) : 1;
      b[i] = (this.xtz[i] as number) + lambda * (prior[i] as number);
      a[i * n + i] = d + lambda;
      for (let j = i + 1; j < n; j++) a[j * n + i] = this.xtx[i * n + j] as number;
    }
    return solveSpd(a, b, n, out);
  }
}

/**
 * Solves A β = b for a symmetric positive-definite A (row-major n×n, only its lower triangle is
 * read) by Cholesky, in place: A's lower triangle becomes the factor and b is overwritten (the
 * regressions solve daily, and fresh typed arrays cost more than the arithmetic).
 */
export function solveSpd(
  a: Float64Array,
  b: Float64Array,
  n: number,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (a[i * n + k] as number) * (a[j * n + k] as number);
      if (i === j) {
        if (!(s > 0)) throw new Error('solveSpd: matrix is not positive definite');
        a[i * n + i] = Math.sqrt(s);
      } else a[i * n + j] = s / (a[j * n + j] as number);
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (a[i * n + k] as number) * (b[k] as number);
    b[i] = s / (a[i * n + i] as number);
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (a[k * n + i] as number) * (out[k] as number);
    out[i] = s / (a[i * n + i] as number);
  }
  return out;
}
