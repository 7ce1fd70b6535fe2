// 2-D max pooling over NHWC activations, window (PH, PW), strides (SH, SW),
// padding folded into PAD_TOP / PAD_LEFT (padded cells never win).
//
//   maxpool2d_forward   out[b, oh, ow, c] = max over the window of inp[b, ih, iw, c]
//                       argmax[b, oh, ow, c] = (ih · W + iw) · C + c of that maximum
//                       (ties: the first in scan order, kh outer, kw inner)
//   maxpool2d_backward  dinp[b, ih, iw, c] = Σ dout[b, oh, ow, c] over the windows whose argmax is (ih, iw, c)
//
// The backward kernel gathers rather than scatters: one thread per input
// element looks at the few windows that contain it. Overlapping windows
// (stride < pool) then need no atomics, and every element is written once
// (`=`), zeros included.

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
override WG_X: u32 = 64u;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * WG_X;
}

// maxpool2d_forward
@group(0) @binding(0) var<storage, read> inp: array<f32>;            // (B, H, W, C)
@group(0) @binding(1) var<storage, read_write> out: array<f32>;      // (B, OH, OW, C)
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;   // (B, OH, OW, C), index within one sample

// Each thread takes CHANNELS_PER_THREAD consecutive channels of one pixel, so
// that the window arithmetic is shared by them.
const CHANNELS_PER_THREAD = 4u;
const NONE = 0xffffffffu;

@compute @workgroup_size(WG_X)
fn maxpool2d_forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = (C + CHANNELS_PER_THREAD - 1u) / CHANNELS_PER_THREAD;
  let t = thread_index(id, groups);
  if (t >= B * OH * OW * blocks) { return; }
  let c0 = (t % blocks) * CHANNELS_PER_THREAD;
  let pixel = t / blocks;                 // b · OH · OW + oh · OW + ow
  let ow = pixel % OW;
  let oh = (pixel / OW) % OH;
  let b = pixel / (OW * OH);
  let channels = min(CHANNELS_PER_THREAD, C - c0);
  var best = vec4f(0.0);
  var best_index = vec4u(NONE);
  for (var kh = 0u; kh < PH; kh++) {
    let ih = i32(oh * SH + kh) - i32(PAD_TOP);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < PW; kw++) {
      let iw = i32(ow * SW + kw) - i32(PAD_LEFT);
      if (iw < 0 || iw >= i32(W)) { continue; }
      let first = (u32(ih) * W + u32(iw)) * C + c0;   // index within the sample of channel c0
      for (var j = 0u; j < channels; j++) {
        let value = inp[b * H * W * C + first + j];
        if (best_index[j] == NONE || value > best[j]) {
          best[j] = value;
          best_index[j] = first + j;
        }
      }
    }
  }
  for (var j = 0u; j < channels; j++) {
    out[pixel * C + c0 + j] = best[j];
    argmax[pixel * C + c0 + j] = best_index[j];
  }
}

@group(0) @binding(0) var<storage, read> dout: array<f32>;           // (B, OH, OW, C)
@group(0) @binding(1) var<storage, read> argmax_b: array<u32>;       // (B, OH, OW, C)
@group(0) @binding(2) var<storage, read_write> dinp: array<f32>;     // (B, H, W, C)

@compute @workgroup_size(WG_X)
fn maxpool2d_backward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = (C + CHANNELS_PER_THREAD - 1u) / CHANNELS_PER_THREAD;
  let t = thread_index(id, groups);
  if (t >= B * H * W * blocks) { return; }
  let c0 = (t % blocks) * CHANNELS_PER_THREAD;
  let pixel = t / blocks;                 // b · H · W + ih · W + iw
  let iw = pixel % W;
  let ih = (pixel / W) % H;
  let b = pixel / (W * H);
  let channels = min(CHANNELS_PER_THREAD, C - c0);
  let index = (ih * W + iw) * C + c0;     // index within the sample of channel c0
  // Windows containing row ih: oh · SH − PAD_TOP ≤ ih ≤ oh · SH − PAD_TOP + PH − 1.
  let row = i32(ih + PAD_TOP);
  let col = i32(iw + PAD_LEFT);
  let oh_first = max(0, (row - i32(PH) + i32(SH)) / i32(SH));
  let oh_last = min(i32(OH) - 1, row / i32(SH));
  let ow_first = max(0, (col - i32(PW) + i32(SW)) / i32(SW));
  let ow_last = min(i32(OW) - 1, col / i32(SW));
  var sum = vec4f(0.0);
  for (var oh = oh_first; oh <= oh_last; oh++) {
    for (var ow = ow_first; ow <= ow_last; ow++) {
      let o = ((b * OH + u32(oh)) * OW + u32(ow)) * C + c0;
      for (var j = 0u; j < channels; j++) {
        if (argmax_b[o + j] == index + j) { sum[j] += dout[o + j]; }
      }
    }
  }
  for (var j = 0u; j < channels; j++) {
    dinp[pixel * C + c0 + j] = sum[j];
  }
}
