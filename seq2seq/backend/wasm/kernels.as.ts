// @ts-nocheck -- AssemblyScript, not TypeScript: built by `node seq2seq/backend/wasm/build.mjs` (needs the assemblyscript dev dependency) into
// kernels.wasm / kernels.shared.wasm and the embedded kernelsWasm.ts. See seq2seq/backend/wasmKernels.ts.
//
// SIMD kernels that run over the tfjs wasm backend's own heap (the memory is imported): fused multi-head
// attention forward and backward, one call for all (batch, head) pairs, and a seeded dropout mask.
// Pointers are byte offsets into that heap; strides and sizes are in float elements.
// No data segments and no allocation: this module must never write outside the buffers it is given.

/** The keep-scale of dropout element `idx` under `seed`: a counter-based hash (murmur3 finaliser), so a mask is
 * a pure function of (seed, index) and the backward pass regenerates it instead of storing it. */
function keepScale(seed: u32, idx: u32, threshold: u32, scale: f32): f32 {
  let x: u32 = seed + idx * 0x9e3779b9;
  x ^= x >> 16;
  x *= 0x85ebca6b;
  x ^= x >> 13;
  x *= 0xc2b2ae35;
  x ^= x >> 16;
  return x >= threshold ? scale : 0;
}

/** out[i] = keepScale(seed, i): 0 or 1 / (1 - rate). */
export function dropoutMask(out: usize, n: i32, seed: u32, threshold: u32, scale: f32): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), keepScale(seed, <u32>i, threshold, scale));
}

/**
 * C[i, j] (+)= alpha * sum_k A[i * aRow + k * aCol] * B[k * ldb + j] for i < M, j < N, k < K.
 * N must be a multiple of 4 (B and C rows are read and written 4 floats at a time).
 */
export function gemm(M: i32, N: i32, K: i32, a: usize, aRow: i32, aCol: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let ap = a + (<usize>(i * aRow) << 2);
      let bp = b + (<usize>j << 2);
      const aStep = <usize>aCol << 2;
      const bStep = <usize>ldb << 2;
      const r1 = <usize>aRow << 2;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const a0 = f32x4.splat(load<f32>(ap));
        const a1 = f32x4.splat(load<f32>(ap + r1));
        const a2 = f32x4.splat(load<f32>(ap + 2 * r1));
        const a3 = f32x4.splat(load<f32>(ap + 3 * r1));
        c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        ap += aStep;
        bp += bStep;
      }
      const cp = c + (<usize>(i * ldc + j) << 2);
      const rc = <usize>ldc << 2;
      put(cp, 0, c00, va, accumulate); put(cp, 16, c01, va, accumulate);
      put(cp + rc, 0, c10, va, accumulate); put(cp + rc, 16, c11, va, accumulate);
      put(cp + 2 * rc, 0, c20, va, accumulate); put(cp + 2 * rc, 16, c21, va, accumulate);
      put(cp + 3 * rc, 0, c30, va, accumulate); put(cp + 3 * rc, 16, c31, va, accumulate);
    }
    for (; j + 4 <= N; j += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let ap = a + (<usize>(i * aRow) << 2);
      let bp = b + (<usize>j << 2);
      const r1 = <usize>aRow << 2;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(ap)), b0));
        c1 = f32x4.add(c1, f32x4.mul(f32x4.splat(load<f32>(ap + r1)), b0));
        c2 = f32x4.add(c2, f32x4.mul(f32x4.splat(load<f32>(ap + 2 * r1)), b0));
        c3 = f32x4.add(c3, f32x4.mul(f32x4.splat(load<f32>(ap + 3 * r1)), b0));
        ap += <usize>aCol << 2;
        bp += <usize>ldb << 2;
      }
      const cp = c + (<usize>(i * ldc + j) << 2);
      const rc = <usize>ldc << 2;
      put(cp, 0, c0, va, accumulate); put(cp + rc, 0, c1, va, accumulate);
      put(cp + 2 * rc, 0, c2, va, accumulate); put(cp + 3 * rc, 0, c3, va, accumulate);
    }
  }
  for (; i < M; i++) {
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
      let ap = a + (<usize>(i * aRow) << 2);
      let bp = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const a0 = f32x4.splat(load<f32>(ap));
        c0 = f32x4.add(c0, f32x4.mul(a0, v128.load(bp)));
        c1 = f32x4.add(c1, f32x4.mul(a0, v128.load(bp, 16)));
        ap += <usize>aCol << 2;
        bp += <usize>ldb << 2;
      }
      const cp = c + (<usize>(i * ldc + j) << 2);
      put(cp, 0, c0, va, accumulate); put(cp, 16, c1, va, accumulate);
    }
    for (; j + 4 <= N; j += 4) {
      let c0 = f32x4.splat(0);
      let ap = a + (<usize>(i * aRow) << 2);
      let bp = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(ap)), v128.load(bp)));
        ap += <usize>aCol << 2;
        bp += <usize>ldb << 2;
      }
      put(c + (<usize>(i * ldc + j) << 2), 0, c0, va, accumulate);
    }
  }
}

function put(p: usize, off: usize, v: v128, alpha: v128, accumulate: i32): void {
  const x = f32x4.mul(v, alpha);
  v128.store(p + off, accumulate ? f32x4.add(v128.load(p + off), x) : x);
}

/**
 * e^x for 4 lanes: 2^n * 2^f with a degree-6 polynomial (relative error ~2e-7); x is clamped to [-87.3, 88.7], and
 * lanes below -80 give exactly 0. Why: a masked key (score - 1e9) must get probability 0, not the clamp's 1e-38,
 * which divided by the row sum is a subnormal float; subnormals then flood the backward pass (the padded rows'
 * gradients) and make every later matMul on them ~70x slower (x86 SIMD takes a microcode assist per subnormal).
 */
function expv(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-87.33654)), f32x4.splat(88.72283));
  const t = f32x4.mul(x, f32x4.splat(1.44269504));
  const n = f32x4.nearest(t);
  const f = f32x4.sub(t, n);
  let p = f32x4.splat(1.5403530e-4);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.3333558e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(9.6181291e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(5.5504109e-2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.4022651e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(6.9314718e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.0));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.and(f32x4.mul(p, e), f32x4.ge(x0, f32x4.splat(-80)));
}

/** x, or 0 where |x| is below 1e-30: keeps subnormals (and the near-subnormal values whose products are) out of
 * gradients, for the speed reason given at expv; such values are far below anything an optimizer step can see. */
function flushTiny(x: f32): f32 {
  return Mathf.abs(x) < <f32>1e-30 ? 0 : x;
}

/** dst[d * ldd + t] = src[t * lds + d] for t < T, d < D; columns T..ldd of dst are zeroed. */
function transposeTo(src: usize, lds: i32, T: i32, D: i32, dst: usize, ldd: i32): void {
  for (let d = 0; d < D; d++) {
    const row = dst + (<usize>(d * ldd) << 2);
    for (let t = 0; t < T; t++) store<f32>(row + (<usize>t << 2), load<f32>(src + (<usize>(t * lds + d) << 2)));
    for (let t = T; t < ldd; t++) store<f32>(row + (<usize>t << 2), 0);
  }
}

/** Row r of the dropped-out probabilities: pd[j] = p[j] * keepScale (rate 0: a copy). */
function dropRow(p: usize, pd: usize, n: i32, seed: u32, base: u32, threshold: u32, scale: f32, rate0: bool): void {
  if (rate0) {
    memory.copy(pd, p, <usize>n << 2);
    return;
  }
  for (let j = 0; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(pd + o, load<f32>(p + o) * keepScale(seed, base + <u32>j, threshold, scale));
  }
}

/**
 * Attention forward for every (b, h): probs = softmax(scale * q k^T + bias[h] + keyBias[b]), out = dropout(probs) v.
 * q [B, Tq, qRs], k [B, Tk, kRs], v [B, Tk, vRs], out [B, Tq, oRs]: head h is columns h*D..h*D+D of a row.
 * bias [H, Tq, Tk]; keyMask [B, Tk] (1 real, 0 padding: -1e9 added). probs [B, H, Tq, TkP] (TkP = Tk rounded
 * up to 4; the pad columns hold 0) is kept for the backward pass. Scratch: D * TkP + Tq * TkP floats.
 */
export function attentionForward(
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, q: usize, qRs: i32, k: usize, kRs: i32, v: usize, vRs: i32,
  bias: usize, keyMask: usize, out: usize, oRs: i32, probs: usize, scale: f32, seed: u32, threshold: u32, keep: f32, scratch: usize,
): void {
  const TkP = (Tk + 3) & ~3;
  const kt = scratch;
  const pd = scratch + (<usize>(D * TkP) << 2);
  const rate0 = threshold == 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const qb = q + (<usize>(b * Tq * qRs + h * D) << 2);
      const kb = k + (<usize>(b * Tk * kRs + h * D) << 2);
      const vb = v + (<usize>(b * Tk * vRs + h * D) << 2);
      const pb = probs + (<usize>(bh * Tq * TkP) << 2);
      transposeTo(kb, kRs, Tk, D, kt, TkP);
      gemm(Tq, TkP, D, qb, qRs, 1, kt, TkP, pb, TkP, 0, scale);
      for (let i = 0; i < Tq; i++) {
        const row = pb + (<usize>(i * TkP) << 2);
        const brow = bias + (<usize>((h * Tq + i) * Tk) << 2);
        const mrow = keyMask + (<usize>(b * Tk) << 2);
        let mx: f32 = -3.0e38;
        for (let j = 0; j < Tk; j++) {
          const o = <usize>j << 2;
          const s = load<f32>(row + o) + load<f32>(brow + o) + (load<f32>(mrow + o) != 0 ? <f32>0 : <f32>-1e9);
          store<f32>(row + o, s);
          if (s > mx) mx = s;
        }
        for (let j = Tk; j < TkP; j++) store<f32>(row + (<usize>j << 2), -3.0e38);
        const vmx = f32x4.splat(mx);
        let vs = f32x4.splat(0);
        for (let j = 0; j < TkP; j += 4) {
          const o = <usize>j << 2;
          const e = expv(f32x4.sub(v128.load(row + o), vmx));
          v128.store(row + o, e);
          vs = f32x4.add(vs, e);
        }
        // pad columns (-3e38) contribute 0; they are zeroed below all the same
        const sum = f32x4.extract_lane(vs, 0) + f32x4.extract_lane(vs, 1) + f32x4.extract_lane(vs, 2) + f32x4.extract_lane(vs, 3);
        const inv = f32x4.splat(<f32>1 / sum);
        for (let j = 0; j < TkP; j += 4) {
          const o = <usize>j << 2;
          v128.store(row + o, f32x4.mul(v128.load(row + o), inv));
        }
        for (let j = Tk; j < TkP; j++) store<f32>(row + (<usize>j << 2), 0);
        dropRow(row, pd + (<usize>(i * TkP) << 2), Tk, seed, <u32>((bh * Tq + i) * Tk), threshold, keep, rate0);
      }
      gemm(Tq, D, Tk, pd, TkP, 1, vb, vRs, out + (<usize>(b * Tq * oRs + h * D) << 2), oRs, 0, 1);
    }
  }
}

/**
 * Attention backward: from dOut [B, Tq, oRs] and the kept probs, dq/dk/dv (same layouts as q/k/v, written) and
 * dBias [H, Tq, Tk] (written: the sum over the batch). Scratch: D * TkP + 2 * Tq * TkP floats.
 */
export function attentionBackward(
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, q: usize, qRs: i32, k: usize, kRs: i32, v: usize, vRs: i32,
  dOut: usize, oRs: i32, probs: usize, scale: f32, seed: u32, threshold: u32, keep: f32,
  dq: usize, dk: usize, dv: usize, dBias: usize, scratch: usize,
): void {
  const TkP = (Tk + 3) & ~3;
  const vt = scratch;
  const pd = scratch + (<usize>(D * TkP) << 2);
  const ds = pd + (<usize>(Tq * TkP) << 2);
  const rate0 = threshold == 0;
  memory.fill(dBias, 0, <usize>(H * Tq * Tk) << 2);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const qOff = <usize>(b * Tq * qRs + h * D) << 2;
      const kOff = <usize>(b * Tk * kRs + h * D) << 2;
      const vOff = <usize>(b * Tk * vRs + h * D) << 2;
      const oOff = <usize>(b * Tq * oRs + h * D) << 2;
      const pb = probs + (<usize>(bh * Tq * TkP) << 2);
      for (let i = 0; i < Tq; i++) {
        const pr = pd + (<usize>(i * TkP) << 2);
        dropRow(pb + (<usize>(i * TkP) << 2), pr, Tk, seed, <u32>((bh * Tq + i) * Tk), threshold, keep, rate0);
        for (let j = Tk; j < TkP; j++) store<f32>(pr + (<usize>j << 2), 0);
      }
      // dv = dropout(P)^T dOut
      gemm(Tk, D, Tq, pd, 1, TkP, dOut + oOff, oRs, dv + vOff, vRs, 0, 1);
      // dPd = dOut v^T
      transposeTo(v + vOff, vRs, Tk, D, vt, TkP);
      gemm(Tq, TkP, D, dOut + oOff, oRs, 1, vt, TkP, ds, TkP, 0, 1);
      for (let i = 0; i < Tq; i++) {
        const row = ds + (<usize>(i * TkP) << 2);
        const prow = pb + (<usize>(i * TkP) << 2);
        const base = <u32>((bh * Tq + i) * Tk);
        let dot: f32 = 0;
        for (let j = 0; j < Tk; j++) {
          const o = <usize>j << 2;
          const g = rate0 ? load<f32>(row + o) : load<f32>(row + o) * keepScale(seed, base + <u32>j, threshold, keep);
          store<f32>(row + o, g);
          dot += g * load<f32>(prow + o);
        }
        const brow = dBias + (<usize>((h * Tq + i) * Tk) << 2);
        for (let j = 0; j < Tk; j++) {
          const o = <usize>j << 2;
          const s = flushTiny(load<f32>(prow + o) * (load<f32>(row + o) - dot));
          store<f32>(row + o, s);
          store<f32>(brow + o, load<f32>(brow + o) + s);
        }
        for (let j = Tk; j < TkP; j++) store<f32>(row + (<usize>j << 2), 0);
      }
      // dq = scale * dS k ; dk = scale * dS^T q
      gemm(Tq, D, Tk, ds, TkP, 1, k + kOff, kRs, dq + qOff, qRs, 0, scale);
      gemm(Tk, D, Tq, ds, 1, TkP, q + qOff, qRs, dk + kOff, kRs, 0, scale);
    }
  }
}

/**
 * C [M, N] = A^T B for A [K, M], B [K, N] (row-major, contiguous): the weight gradient x^T dy of a dense layer,
 * where K (rows of the batch) is long and M, N (the layer's widths) are small. K is walked in chunks whose rows
 * of B stay in cache, accumulating into C. N must be a multiple of 4.
 */
export function matMulTN(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize): void {
  let chunk = 65536 / N;
  if (chunk < 16) chunk = 16;
  for (let k0 = 0; k0 < K; k0 += chunk) {
    const kc = k0 + chunk <= K ? chunk : K - k0;
    gemm(M, N, kc, a + (<usize>(k0 * M) << 2), 1, M, b + (<usize>(k0 * N) << 2), N, c, N, k0 > 0 ? 1 : 0, 1);
  }
}

/** Keep-scales of elements idx..idx+3 under `seed` (keepScale on 4 lanes): a lane is `scale` or 0. */
function keepScale4(seed: u32, idx: u32, threshold: v128, scale: v128): v128 {
  let x = i32x4.add(i32x4.splat(seed), i32x4.mul(i32x4.add(i32x4.splat(idx), i32x4(0, 1, 2, 3)), i32x4.splat(0x9e3779b9)));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x85ebca6b));
  x = v128.xor(x, i32x4.shr_u(x, 13));
  x = i32x4.mul(x, i32x4.splat(0xc2b2ae35));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  return v128.and(i32x4.ge_u(x, threshold), scale);
}

/**
 * Dropout applied in one pass: out[i] = x[i] * keepScale(seed, i) (the mask of dropoutMask), after a ReLU when
 * `relu` is set. x and out may be the same buffer.
 */
export function dropoutForward(x: usize, out: usize, n: i32, seed: u32, threshold: u32, scale: f32, relu: i32): void {
  const vt = i32x4.splat(threshold);
  const vs = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let v = v128.load(x + o);
    if (relu) v = f32x4.max(v, zero);
    v128.store(out + o, f32x4.mul(v, keepScale4(seed, <u32>i, vt, vs)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let v = load<f32>(x + o);
    if (relu && !(v > 0)) v = 0;
    store<f32>(out + o, v * keepScale(seed, <u32>i, threshold, scale));
  }
}

/**
 * Gradient of dropoutForward: dx[i] = dy[i] * keepScale(seed, i); with `relu`, dx[i] = y[i] > 0 ? dy[i] * scale : 0
 * (y is the forward output: positive exactly where the input was positive and the element was kept).
 */
export function dropoutBackward(dy: usize, y: usize, dx: usize, n: i32, seed: u32, threshold: u32, scale: f32, relu: i32): void {
  const vt = i32x4.splat(threshold);
  const vs = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(dy + o);
    if (relu) {
      v128.store(dx + o, v128.and(f32x4.gt(v128.load(y + o), zero), f32x4.mul(g, vs)));
    } else {
      v128.store(dx + o, f32x4.mul(g, keepScale4(seed, <u32>i, vt, vs)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(dy + o);
    if (relu) store<f32>(dx + o, load<f32>(y + o) > 0 ? g * scale : 0);
    else store<f32>(dx + o, g * keepScale(seed, <u32>i, threshold, scale));
  }
}

function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * T5 RMSNorm of `rows` rows of width d (a multiple of 4): y = x * r * g with r = 1 / sqrt(mean(x^2) + eps);
 * r is written to rstd [rows] for the backward pass.
 */
export function rmsNormForward(x: usize, g: usize, y: usize, rstd: usize, rows: i32, d: i32, eps: f32): void {
  const rowBytes = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let ss = f32x4.splat(0);
    for (let j: usize = 0; j < rowBytes; j += 16) {
      const v = v128.load(xr + j);
      ss = f32x4.add(ss, f32x4.mul(v, v));
    }
    const inv: f32 = <f32>1 / Mathf.sqrt(hsum(ss) / <f32>d + eps);
    store<f32>(rstd + (<usize>r << 2), inv);
    const vi = f32x4.splat(inv);
    for (let j: usize = 0; j < rowBytes; j += 16) {
      v128.store(yr + j, f32x4.mul(f32x4.mul(v128.load(xr + j), vi), v128.load(g + j)));
    }
  }
}

/**
 * Gradient of rmsNormForward: dx = r g dy - x r^3 / d * sum(g dy x) per row (written), dg = sum over rows of
 * dy x r (written).
 */
export function rmsNormBackward(dy: usize, x: usize, g: usize, rstd: usize, dx: usize, dg: usize, rows: i32, d: i32): void {
  const rowBytes = <usize>d << 2;
  memory.fill(dg, 0, rowBytes);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const dyr = dy + <usize>r * rowBytes;
    const dxr = dx + <usize>r * rowBytes;
    const inv = load<f32>(rstd + (<usize>r << 2));
    const vi = f32x4.splat(inv);
    let dot = f32x4.splat(0);
    for (let j: usize = 0; j < rowBytes; j += 16) {
      const xv = v128.load(xr + j);
      const gy = f32x4.mul(v128.load(dyr + j), v128.load(g + j));
      dot = f32x4.add(dot, f32x4.mul(gy, xv));
      v128.store(dg + j, f32x4.add(v128.load(dg + j), f32x4.mul(f32x4.mul(v128.load(dyr + j), xv), vi)));
    }
    const c = f32x4.splat(hsum(dot) * inv * inv * inv / <f32>d);
    for (let j: usize = 0; j < rowBytes; j += 16) {
      const gy = f32x4.mul(v128.load(dyr + j), v128.load(g + j));
      v128.store(dxr + j, f32x4.sub(f32x4.mul(gy, vi), f32x4.mul(c, v128.load(xr + j))));
    }
  }
}

/** The largest of the V floats at xr (SIMD four at a time, then the tail). */
function rowMax(xr: usize, V: i32): f32 {
  const V4 = V & ~3;
  let mv = f32x4.splat(-Infinity);
  for (let j = 0; j < V4; j += 4) mv = f32x4.max(mv, v128.load(xr + (<usize>j << 2)));
  let m = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (let j = V4; j < V; j++) m = Mathf.max(m, load<f32>(xr + (<usize>j << 2)));
  return m;
}

/**
 * Item scores from code scores: y[r, i] = sum_l x[r, codes[i, l]] for r < rows, i < items (x [rows, width], codes
 * [items, L] int32 column indices, y [rows, items]). Summed in f64 and rounded once, as the JS loop it replaced.
 * Rows go four at a time so each item's codes are read once per four rows.
 */
export function codeScoresForward(x: usize, width: i32, codes: usize, L: i32, items: i32, y: usize, rows: i32): void {
  const xs = <usize>width << 2;
  const ys = <usize>items << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = x + <usize>r * xs;
    const y0 = y + <usize>r * ys;
    for (let i = 0; i < items; i++) {
      const ci = codes + (<usize>i * <usize>L << 2);
      let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
      for (let l = 0; l < L; l++) {
        const c = x0 + (<usize>load<i32>(ci + (<usize>l << 2)) << 2);
        s0 += <f64>load<f32>(c);
        s1 += <f64>load<f32>(c + xs);
        s2 += <f64>load<f32>(c + 2 * xs);
        s3 += <f64>load<f32>(c + 3 * xs);
      }
      const o = y0 + (<usize>i << 2);
      store<f32>(o, <f32>s0);
      store<f32>(o + ys, <f32>s1);
      store<f32>(o + 2 * ys, <f32>s2);
      store<f32>(o + 3 * ys, <f32>s3);
    }
  }
  for (; r < rows; r++) {
    const xr = x + <usize>r * xs;
    const yr = y + <usize>r * ys;
    for (let i = 0; i < items; i++) {
      const ci = codes + (<usize>i * <usize>L << 2);
      let s: f64 = 0;
      for (let l = 0; l < L; l++) s += <f64>load<f32>(xr + (<usize>load<i32>(ci + (<usize>l << 2)) << 2));
      store<f32>(yr + (<usize>i << 2), <f32>s);
    }
  }
}

/** The gradient of codeScoresForward: dx[r, codes[i, l]] += dy[r, i] (dx [rows, width] zeroed here), in item order. */
export function codeScoresBackward(dy: usize, codes: usize, L: i32, items: i32, dx: usize, width: i32, rows: i32): void {
  memory.fill(dx, 0, <usize>rows * <usize>width << 2);
  for (let r = 0; r < rows; r++) {
    const gr = dy + (<usize>r * <usize>items << 2);
    const xr = dx + (<usize>r * <usize>width << 2);
    for (let i = 0; i < items; i++) {
      const g = load<f32>(gr + (<usize>i << 2));
      const ci = codes + (<usize>i * <usize>L << 2);
      for (let l = 0; l < L; l++) {
        const p = xr + (<usize>load<i32>(ci + (<usize>l << 2)) << 2);
        store<f32>(p, load<f32>(p) + g);
      }
    }
  }
}

/**
 * Per row of x [rows, V]: stats[r] = (max, sum of exp(x - max)), so logsumexp(x_r) = max + log(sum), the log taken by
 * the caller (the module has no math tables). Two SIMD passes over a row: the normaliser of a catalog's log-softmax
 * without writing a [rows, V] result.
 */
export function rowMaxSumExp(x: usize, stats: usize, rows: i32, V: i32): void {
  const V4 = V & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>V << 2);
    const m = rowMax(xr, V);
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    for (let j = 0; j < V4; j += 4) sv = f32x4.add(sv, expv(f32x4.sub(v128.load(xr + (<usize>j << 2)), ms)));
    let s = hsum(sv);
    for (let j = V4; j < V; j++) s += f32x4.extract_lane(expv(f32x4.splat(load<f32>(xr + (<usize>j << 2)) - m)), 0);
    store<f32>(stats + (<usize>r << 3), m);
    store<f32>(stats + (<usize>r << 3) + 4, s);
  }
}

/**
 * Softmax cross-entropy of `rows` rows of logits [rows, V] against targets [rows] (int32). Writes, per row, stats
 * [rows, 2] = (max - x[target], sum of exp(x - max)) -- the loss is stats0 + log(stats1), taken by the caller (the
 * module has no log: its math tables would need a data section) -- and the gradient with respect to the logits,
 * grad_r = softmax(x_r) - onehot(target_r) (unscaled). Three passes over a row (max, exponentials, scale) where the
 * composed ops (logSoftmax, oneHot, multiply, sum and their gradients) walk the [rows, V] tensor ~10 times.
 */
export function softmaxCrossEntropy(x: usize, targets: usize, stats: usize, grad: usize, rows: i32, V: i32): void {
  const V4 = V & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>V << 2);
    const gr = grad + (<usize>r * <usize>V << 2);
    const m = rowMax(xr, V);
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    for (let j = 0; j < V4; j += 4) {
      const e = expv(f32x4.sub(v128.load(xr + (<usize>j << 2)), ms));
      v128.store(gr + (<usize>j << 2), e);
      sv = f32x4.add(sv, e);
    }
    let s = hsum(sv);
    for (let j = V4; j < V; j++) {
      const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(xr + (<usize>j << 2)) - m)), 0);
      store<f32>(gr + (<usize>j << 2), e);
      s += e;
    }
    const t = load<i32>(targets + (<usize>r << 2));
    store<f32>(stats + (<usize>r << 3), m - load<f32>(xr + (<usize>t << 2)));
    store<f32>(stats + (<usize>r << 3) + 4, s);
    const iv = f32x4.splat(<f32>1 / s);
    for (let j = 0; j < V4; j += 4) v128.store(gr + (<usize>j << 2), f32x4.mul(v128.load(gr + (<usize>j << 2)), iv));
    for (let j = V4; j < V; j++) store<f32>(gr + (<usize>j << 2), load<f32>(gr + (<usize>j << 2)) / s);
    store<f32>(gr + (<usize>t << 2), load<f32>(gr + (<usize>t << 2)) - 1);
  }
}
