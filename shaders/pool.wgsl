// 2-D max pooling over NHWC activations, window (PH, PW), strides (SH, SW),
// padding folded into PAD_TOP / PAD_LEFT (padded cells never win).
//
//   maxpool2d_forward   out[b, oh, ow, c] = max over the window of inp[b, ih, iw, c]
//                       argmax[b, oh, ow, c] = (ih · W + iw) · C + c of that maximum
//                       (ties: the first in scan order, kh outer, kw inner)
//   maxpool2d_backward  dinp[b, ih, iw, c] = Σ dout[b, oh, ow, c] over the windows whose argmax is (ih, iw, c)
//
// RELU_GATE: a window whose maximum is not > 0 records no argmax (NONE), so
// its gradient goes nowhere. When the input is a relu's output y, that makes
// dinp the gradient before the relu as well: a window's gradient lands on its
// maximum y, and relu'(y) = (y > 0) is 1 exactly when the pooled value is > 0.
// The layer before then skips its own activation backward pass.
//
// The backward kernel gathers rather than scatters: one thread per input
// element looks at the few windows that contain it. Overlapping windows
// (stride < pool) then need no atomics, and every element is written once
// (`=`), zeros included. Where the windows tile the image without overlap
// (stride == pool), maxpool2d_backward_disjoint scatters instead: one thread
// per window writes the window's cells (each cell lies in one window at most).

override B: u32;
override H: u32;
override W: u32;
override C: u32;
override OH: u32;
override OW: u32;
override PH: u32;
override PW: u32;
override SH: u32;
override SW: u32;
override PAD_TOP: u32 = 0u;
override PAD_LEFT: u32 = 0u;
override RELU_GATE: bool = false;
override VALID: bool = false;             // 'valid' padding: every window inside the image
override WG_X: u32 = 64u;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * WG_X;
}

// Each thread takes one pixel's channels c0 .. c0 + WIDTH − 1: four at a time
// as vec4 where C is a multiple of 4 (the VEC4 define), one otherwise. The
// comparisons and sums below read the same on f32 and on vec4f.
#if VEC4
alias Value = vec4f;
alias Index = vec4u;
alias Mask = vec4<bool>;
const WIDTH = 4u;
const CHANNEL_STEP = vec4u(0u, 1u, 2u, 3u);
#else
alias Value = f32;
alias Index = u32;
alias Mask = bool;
const WIDTH = 1u;
const CHANNEL_STEP = 0u;
#endif
const NONE = 0xffffffffu;

// Thread t's place in a (B, rows, cols, C / WIDTH) grid.
struct Place {
  b: u32,
  y: u32,
  x: u32,
  block: u32,                             // channels WIDTH · block ..
}

fn place(t: u32, rows: u32, cols: u32) -> Place {
  let blocks = C / WIDTH;
  let pixel = t / blocks;                 // b · rows · cols + y · cols + x
  return Place(pixel / (rows * cols), (pixel / cols) % rows, pixel % cols, t % blocks);
}

@group(0) @binding(0) var<storage, read> inp: array<Value>;          // (B, H, W, C / WIDTH)
@group(0) @binding(1) var<storage, read_write> out: array<Value>;    // (B, OH, OW, C / WIDTH)
@group(0) @binding(2) var<storage, read_write> argmax: array<Index>; // (B, OH, OW, C / WIDTH), index within one sample

@compute @workgroup_size(WG_X)
fn maxpool2d_forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = C / WIDTH;
  let t = thread_index(id, groups);
  if (t >= B * OH * OW * blocks) { return; }
  let o = place(t, OH, OW);
  let b = o.b;
  let oh = o.y;
  let ow = o.x;
  let block = o.block;
  var best = Value(0.0);
  var best_index = Index(NONE);
  if (VALID) {
    // Every window lies inside the image: no bounds to check.
    let origin = (oh * SH) * W + ow * SW;  // the window's first input pixel within the sample
    for (var k = 0u; k < PH * PW; k++) {    // one flat loop: loops cost more than divisions
      let cell = origin + (k / PW) * W + k % PW;
      let value = inp[(b * H * W + cell) * blocks + block];
      let wins = (best_index == Index(NONE)) | (value > best);
      best = select(best, value, wins);
      best_index = select(best_index, cell * C + block * WIDTH + CHANNEL_STEP, wins);
    }
    out[t] = best;
    argmax[t] = select(best_index, Index(NONE), Mask(RELU_GATE) & (best <= Value(0.0)));
    return;
  }
  for (var kh = 0u; kh < PH; kh++) {
    let ih = i32(oh * SH + kh) - i32(PAD_TOP);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < PW; kw++) {
      let iw = i32(ow * SW + kw) - i32(PAD_LEFT);
      if (iw < 0 || iw >= i32(W)) { continue; }
      let cell = u32(ih) * W + u32(iw);   // input pixel within the sample
      let value = inp[(b * H * W + cell) * blocks + block];
      let wins = (best_index == Index(NONE)) | (value > best);
      best = select(best, value, wins);
      best_index = select(best_index, cell * C + block * WIDTH + CHANNEL_STEP, wins);
    }
  }
  out[t] = best;
  argmax[t] = select(best_index, Index(NONE), Mask(RELU_GATE) & (best <= Value(0.0)));
}

@group(0) @binding(0) var<storage, read> dout: array<Value>;         // (B, OH, OW, C / WIDTH)
@group(0) @binding(1) var<storage, read> argmax_b: array<Index>;     // (B, OH, OW, C / WIDTH)
@group(0) @binding(2) var<storage, read_write> dinp: array<Value>;   // (B, H, W, C / WIDTH)

// maxpool2d_backward_disjoint: the same for windows that tile the image
// (DISJOINT), scattered instead of gathered: one thread per window and block
// of channels reads its dout and argmax once and writes every input element of
// its territory, the window's cells, and for the last window row and column
// the rows and columns past them that no window covers (they get 0).
@compute @workgroup_size(WG_X)
fn maxpool2d_backward_disjoint(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = C / WIDTH;
  let t = thread_index(id, groups);
  if (t >= B * OH * OW * blocks) { return; }
  let o = place(t, OH, OW);
  let b = o.b;
  let oh = o.y;
  let ow = o.x;
  let block = o.block;
  let d = dout[t];
  let a = argmax_b[t];
  // The territory: rows [r0, r1) and columns [c0, c1) of the image.
  let r0 = u32(max(0, i32(oh * SH) - i32(PAD_TOP)));
  let r1 = select(min(H, (oh + 1u) * SH - PAD_TOP), H, oh == OH - 1u);
  let c0 = u32(max(0, i32(ow * SW) - i32(PAD_LEFT)));
  let c1 = select(min(W, (ow + 1u) * SW - PAD_LEFT), W, ow == OW - 1u);
  let cols = c1 - c0;
  for (var k = 0u; k < (r1 - r0) * cols; k++) {   // one flat loop over the territory
    let cell = (r0 + k / cols) * W + c0 + k % cols;
    dinp[(b * H * W + cell) * blocks + block] = select(Value(0.0), d, a == cell * C + block * WIDTH + CHANNEL_STEP);
  }
}

@compute @workgroup_size(WG_X)
fn maxpool2d_backward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = C / WIDTH;
  let t = thread_index(id, groups);
  if (t >= B * H * W * blocks) { return; }
  let i = place(t, H, W);
  let b = i.b;
  let ih = i.y;
  let iw = i.x;
  let block = i.block;
  let index = (ih * W + iw) * C + block * WIDTH + CHANNEL_STEP;   // within the sample, per channel
  // Windows containing row ih: oh · SH − PAD_TOP ≤ ih ≤ oh · SH − PAD_TOP + PH − 1.
  let row = i32(ih + PAD_TOP);
  let col = i32(iw + PAD_LEFT);
  let oh_first = max(0, (row - i32(PH) + i32(SH)) / i32(SH));
  let oh_last = min(i32(OH) - 1, row / i32(SH));
  let ow_first = max(0, (col - i32(PW) + i32(SW)) / i32(SW));
  let ow_last = min(i32(OW) - 1, col / i32(SW));
  var sum = Value(0.0);
  for (var oh = oh_first; oh <= oh_last; oh++) {
    for (var ow = ow_first; ow <= ow_last; ow++) {
      let o = ((b * OH + u32(oh)) * OW + u32(ow)) * blocks + block;
      sum += select(Value(0.0), dout[o], argmax_b[o] == index);
    }
  }
  dinp[t] = sum;
}
