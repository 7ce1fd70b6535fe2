/**
 * Device acquisition: the adapter the host prefers (hardware first; in Node,
 * SwiftShader when no hardware adapter answers), a device that asks for the
 * adapter's real limits rather than WebGPU's defaults, and timestamp queries
 * where the adapter has them.
 */
import { getPlatform } from '../platform/platform.js';
import { Runtime, type AdapterDescription, type RuntimeOptions } from './runtime.js';
import { jsonFileStore, localStorageStore, type TuneStore } from './tuner.js';

/** Limits shaderprop raises to the adapter's maximum. */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
] as const;

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const platform = await getPlatform();
  const boundsChecks = options.boundsChecks ?? platform.env('SHADERPROP_BOUNDS_CHECKS') !== '0';
  if (options.gpu && options.boundsChecks === false) {
    throw new Error('boundsChecks: false needs the GPU object shaderprop creates: leave out `gpu` (or create yours with Dawn\'s disable_robustness toggle).');
  }
  const gpu = options.gpu ?? (await platform.gpu({ boundsChecks }));
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new Error(
      platform.name === 'browser'
        ? 'WebGPU is present but no adapter was granted. Check chrome://gpu, enable hardware acceleration, or start Chromium with --enable-unsafe-webgpu.'
        : 'No WebGPU adapter found. Install a Vulkan driver, or SwiftShader with `apt-get install chromium libvulkan1`.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  // Subgroups let the quad kernels share loads between neighbouring threads.
  if (adapter.features.has('subgroups') && options.subgroups !== false) requiredFeatures.push('subgroups' as GPUFeatureName);
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'shaderprop' });
  const printShaders = options.printShaders ?? platform.env('SHADERPROP_DEBUG_WGSL') === '1';
  const autotune = options.autotune ?? platform.env('SHADERPROP_AUTOTUNE') !== '0';
  let tuneStore: TuneStore | false = options.tuneStore ?? false;
  if (options.tuneStore === undefined && autotune) {
    if (platform.name === 'node') {
      tuneStore = jsonFileStore(
        { read: (path) => platform.readFile(path), write: (path, text) => platform.writeFileAtomic(path, text) },
        platform.joinPath(platform.cacheDir(), 'kernel-choices.json'),
      );
    } else if (typeof localStorage !== 'undefined') {
      tuneStore = localStorageStore(localStorage);
    }
  }
  return new Runtime(device, describeAdapter(adapter), {
    ...options, printShaders, boundsChecks: options.gpu ? true : boundsChecks, autotune, tuneStore,
  });
}

function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const text = `${vendor} ${architecture} ${description}`.toLowerCase();
  const name = text.includes('swiftshader')
    ? 'SwiftShader'
    : description || [vendor, architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return { vendor, architecture, device, description, name };
}

let shared: Promise<Runtime> | undefined;

/** The process-wide default runtime, created on first use. */
export function defaultRuntime(): Promise<Runtime> {
  shared ??= createRuntime();
  return shared;
}
