// Grids past the adapter's limit per dimension (65,535 workgroups on most):
// Runtime.dispatch folds a grid's y axis into z (y' · z ≥ y) for programs that
// declare `foldY`, and those kernels read their y through these. Workgroups
// past the original y see a y that no row reaches, and the kernel's bounds
// checks skip them.

fn unfold_invocation(id: vec3u, groups: vec3u, wg_y: u32) -> vec3u {
  return vec3u(id.x, id.y + id.z * groups.y * wg_y, 0u);
}

fn unfold_workgroup(group: vec3u, groups: vec3u) -> vec3u {
  return vec3u(group.x, group.y + group.z * groups.y, 0u);
}
