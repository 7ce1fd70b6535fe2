// Asks Dawn (the `webgpu` package) for an adapter with the Vulkan driver the
// environment selects, without shaderprop's SwiftShader fallback, and prints
// one JSON line: { found, vendor, architecture, device, description }.
// bench/gpu/run.sh uses it to decide whether to point Vulkan at the NVIDIA
// driver. Exit status 0 when an adapter answered, 1 when none did.
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const { create } = await import('webgpu');
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const info = adapter?.info ?? {};
console.log(JSON.stringify({
  found: Boolean(adapter),
  vendor: info.vendor ?? '',
  architecture: info.architecture ?? '',
  device: info.device ?? '',
  description: info.description ?? '',
}));
process.exit(adapter ? 0 : 1);
