// The state of one pass over a dataset, kept on the GPU so that a training step
// needs nothing from the CPU: the batch kernels read `step` to find their rows,
// the loss kernel adds its batch's loss and correct count, the optimizer reads
// `iteration` (for schedules and Adam's bias correction) and `halted`, and the
// step-advance kernel moves `step` and `iteration` on. The CPU resets it at the
// start of a pass and reads it back once per epoch (or every N steps).

struct StepState {
  step: u32,          // index of the batch in the current pass
  iteration: u32,     // optimizer updates applied since the model was compiled
  sample_count: u32,  // samples in this pass (length of its index list)
  halted: u32,        // 1 once a batch's loss was not finite: updates stop there
  halted_step: u32,   // the `step` whose loss was not finite
  loss_sum: f32,      // Σ per-sample loss over the pass so far
  correct: u32,       // samples predicted right so far
  seen: u32,          // samples counted so far
}

// Rows of the current batch that hold real samples; the last batch of a pass
// may be short, and its remaining rows are padding that every kernel ignores.
fn valid_rows(state: StepState, batch: u32) -> u32 {
  let start = state.step * batch;
  if (start >= state.sample_count) { return 0u; }
  return min(batch, state.sample_count - start);
}

// NaN and ±inf have all exponent bits set. (WGSL has no isNan, and compilers
// may fold `x != x` away.)
fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}
