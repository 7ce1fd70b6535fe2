// Dense layer, the fast family: the same three products as dense.wgsl, for
// shapes whose every axis is a multiple of 4 (B, IN, OUT), read and written as
// vec4 and with no bounds checks inside the loop.
//
//   dense_tiled_forward          out  = act(inp · weight + bias)     (B, IN) · (IN, OUT)
//   dense_tiled_backward_input   dinp = dout · weightᵀ               (B, OUT) · (OUT, IN)
//   dense_tiled_backward_weight  dweight = inpᵀ · dout               (IN, B) · (B, OUT)
//   dense_tiled_backward_input_act_grad: dinp ⊙ act'(y), y the previous layer's output
//
// Every thread owns a 4×4 block of its output and walks the shared axis four
// at a time: it loads a 4×4 block of each operand (8 vec4 loads) and does 64
// multiply-adds with them, as one 4×4 matrix product. The transposes are not
// materialised: they are which way each 4×4 block is multiplied.
//
//   forward          acc[r] += W · a[r]       W = mat4x4(weight rows k..k+3, 4 columns), a[r] = inp row r, k..k+3
//   backward input   acc[r] += d[r] · W       W = mat4x4(weight rows i..i+3, columns k..k+3): d · W gives dot(d, W[i])
//   backward weight  acc    += D · Xᵀ         D = mat4x4(dout rows k..k+3), X = mat4x4(inp rows k..k+3)
//
// A 4-row block of inp (or dout) is the same for all the threads of a
// workgroup row, and software adapters turn such equal-address loads into one
// load; vec4 loads cost one address computation where scalar loads cost four.
// (Measured on SwiftShader: about 1.6× the GFLOP/s of dense.wgsl's kernels.)
// The general kernels in dense.wgsl stay for the other shapes.

override B: u32;
override IN: u32;
override OUT: u32;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

// dense_tiled_forward
@group(0) @binding(0) var<storage, read> inp: array<vec4f>;          // (B, IN / 4)
@group(0) @binding(1) var<storage, read> weight: array<vec4f>;       // (IN, OUT / 4)
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;         // (OUT / 4)
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;    // (B, OUT / 4)

@compute @workgroup_size(WG_X, WG_Y)
fn dense_tiled_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let o4 = id.x;          // output columns 4·o4 .. 4·o4 + 3
  let b0 = id.y * 4u;     // output rows b0 .. b0 + 3
  if (o4 >= OUT / 4u || b0 >= B) { return; }
  let in4 = IN / 4u;
  let out4 = OUT / 4u;
  let a_row = b0 * in4;   // inp rows b0 .. b0 + 3 start at a_row + r · in4
  // acc_r holds out[b0 + r, 4·o4 .. 4·o4 + 3]
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k4 = 0u; k4 < in4; k4++) {
    let w_base = k4 * 4u * out4 + o4;
    let w = mat4x4f(weight[w_base], weight[w_base + out4], weight[w_base + 2u * out4], weight[w_base + 3u * out4]);
    acc0 += w * inp[a_row + k4];
    acc1 += w * inp[a_row + in4 + k4];
    acc2 += w * inp[a_row + 2u * in4 + k4];
    acc3 += w * inp[a_row + 3u * in4 + k4];
  }
  let bias4 = bias[o4];
  out[b0 * out4 + o4] = activate4(acc0 + bias4);
  out[(b0 + 1u) * out4 + o4] = activate4(acc1 + bias4);
  out[(b0 + 2u) * out4 + o4] = activate4(acc2 + bias4);
  out[(b0 + 3u) * out4 + o4] = activate4(acc3 + bias4);
}

// dense_tiled_backward_input
@group(0) @binding(0) var<storage, read> dout: array<vec4f>;         // (B, OUT / 4)
@group(0) @binding(1) var<storage, read> weight_t: array<vec4f>;     // (IN, OUT / 4), read as its transpose
@group(0) @binding(2) var<storage, read_write> dinp: array<vec4f>;   // (B, IN / 4)

// dinp[b0 + r, 4·i4 .. 4·i4 + 3] in column r.
fn tiled_dinp_block(i4: u32, b0: u32) -> mat4x4f {
  let out4 = OUT / 4u;
  let w_rows = i4 * 4u * out4;
  let d_row = b0 * out4;  // dout rows b0 .. b0 + 3 start at d_row + r · out4
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k4 = 0u; k4 < out4; k4++) {
    let w = mat4x4f(weight_t[w_rows + k4], weight_t[w_rows + out4 + k4],
                    weight_t[w_rows + 2u * out4 + k4], weight_t[w_rows + 3u * out4 + k4]);
    acc0 += dout[d_row + k4] * w;
    acc1 += dout[d_row + out4 + k4] * w;
    acc2 += dout[d_row + 2u * out4 + k4] * w;
    acc3 += dout[d_row + 3u * out4 + k4] * w;
  }
  return mat4x4f(acc0, acc1, acc2, acc3);
}

@compute @workgroup_size(WG_X, WG_Y)
fn dense_tiled_backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let i4 = id.x;          // input columns 4·i4 .. 4·i4 + 3
  let b0 = id.y * 4u;
  if (i4 >= IN / 4u || b0 >= B) { return; }
  let acc = tiled_dinp_block(i4, b0);
  let in4 = IN / 4u;
  dinp[b0 * in4 + i4] = acc[0];
  dinp[(b0 + 1u) * in4 + i4] = acc[1];
  dinp[(b0 + 2u) * in4 + i4] = acc[2];
  dinp[(b0 + 3u) * in4 + i4] = acc[3];
}

// dense_tiled_backward_input_act_grad: dinp = (dout · weightᵀ) ⊙ act'(y), y the previous layer's output
@group(0) @binding(3) var<storage, read> act_y: array<vec4f>;        // (B, IN / 4)

@compute @workgroup_size(WG_X, WG_Y)
fn dense_tiled_backward_input_act_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let i4 = id.x;
  let b0 = id.y * 4u;
  if (i4 >= IN / 4u || b0 >= B) { return; }
  let acc = tiled_dinp_block(i4, b0);
  let in4 = IN / 4u;
  let e0 = b0 * in4 + i4;
  dinp[e0] = acc[0] * activation_grad_from_output4(act_y[e0]);
  dinp[e0 + in4] = acc[1] * activation_grad_from_output4(act_y[e0 + in4]);
  dinp[e0 + 2u * in4] = acc[2] * activation_grad_from_output4(act_y[e0 + 2u * in4]);
  dinp[e0 + 3u * in4] = acc[3] * activation_grad_from_output4(act_y[e0 + 3u * in4]);
}

// dense_tiled_backward_weight
@group(0) @binding(0) var<storage, read> inp_t: array<vec4f>;        // (B, IN / 4), read as its transpose
@group(0) @binding(1) var<storage, read> dout_w: array<vec4f>;       // (B, OUT / 4)
@group(0) @binding(2) var<storage, read_write> dweight: array<vec4f>; // (IN, OUT / 4)

@compute @workgroup_size(WG_X, WG_Y)
fn dense_tiled_backward_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let o4 = id.x;          // dweight columns 4·o4 .. 4·o4 + 3
  let i4 = id.y;          // dweight rows 4·i4 .. 4·i4 + 3
  if (o4 >= OUT / 4u || i4 >= IN / 4u) { return; }
  let in4 = IN / 4u;
  let out4 = OUT / 4u;
  // Column c of acc is dweight row 4·i4 + c.
  var acc = mat4x4f();
  for (var b = 0u; b < B; b += 4u) {
    let d = mat4x4f(dout_w[b * out4 + o4], dout_w[(b + 1u) * out4 + o4],
                    dout_w[(b + 2u) * out4 + o4], dout_w[(b + 3u) * out4 + o4]);
    let x = mat4x4f(inp_t[b * in4 + i4], inp_t[(b + 1u) * in4 + i4],
                    inp_t[(b + 2u) * in4 + i4], inp_t[(b + 3u) * in4 + i4]);
    acc += d * transpose(x);
  }
  let w_row = i4 * 4u * out4;
  dweight[w_row + o4] = acc[0];
  dweight[w_row + out4 + o4] = acc[1];
  dweight[w_row + 2u * out4 + o4] = acc[2];
  dweight[w_row + 3u * out4 + o4] = acc[3];
}
