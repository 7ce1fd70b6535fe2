// The adapter's ceilings, for the benchmarks (bench/train-throughput.ts):
//
//   fma_peak  arithmetic: every thread runs ITERATIONS rounds of four
//             independent vec4 fused multiply-adds, a = fma(a, b, c), on
//             registers only, then writes one number so the loop cannot be
//             removed. 32 floating-point operations per round per thread.
//   noop      dispatch overhead: one thread that does nothing.
//
// coeffs: array<vec4f, 2>   b = coeffs[0] (multiplier), c = coeffs[1] (addend),
//                           read from a buffer so the compiler cannot fold them
// out:    array<f32>        one value per thread: the sum of the 16 lanes
//
// With b = 1 and c = 0.5 every lane ends at its start + 0.5·ITERATIONS,
// exactly in f32 while that stays below 2²⁴: thread t starts its four
// accumulators at s, s + 1, s + 2, s + 3 (s = t mod 8), so
//   out[t] = 4·(4s + 6) + 16·0.5·ITERATIONS = 16s + 24 + 8·ITERATIONS.

override WG_X: u32 = 256;
override ITERATIONS: u32 = 256;

@group(0) @binding(0) var<storage, read> coeffs: array<vec4f, 2>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG_X)
fn fma_peak(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = gid.x + gid.y * groups.x * WG_X;
  if (t >= arrayLength(&out)) {
    return;
  }
  let b = coeffs[0];
  let c = coeffs[1];
  let s = f32(t % 8u);
  var a0 = vec4f(s);
  var a1 = vec4f(s + 1.0);
  var a2 = vec4f(s + 2.0);
  var a3 = vec4f(s + 3.0);
  for (var i = 0u; i < ITERATIONS; i++) {
    a0 = fma(a0, b, c);
    a1 = fma(a1, b, c);
    a2 = fma(a2, b, c);
    a3 = fma(a3, b, c);
  }
  let sum = a0 + a1 + a2 + a3;
  out[t] = sum.x + sum.y + sum.z + sum.w;
}

@compute @workgroup_size(1)
fn noop() {}
