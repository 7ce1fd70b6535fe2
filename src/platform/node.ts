/**
 * The Node half of the platform: Dawn's WebGPU (the `webgpu` package), the file
 * system and the environment. The only module of the library that imports Node.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Platform } from './platform.js';

/** Vulkan ICDs of software rasterisers, tried when no hardware adapter answers. */
const SOFTWARE_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/**
 * Whether the Vulkan loader has a driver to try: a manifest (`*.json`) in one
 * of the folders it searches on Linux. Without one, asking Dawn for a hardware
 * adapter only makes the loader print "vkCreateInstance: Found no drivers!".
 */
function vulkanDriversListed(): boolean {
  const env = process.env;
  const configDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const dataDirs = [env.XDG_DATA_HOME || join(homedir(), '.local/share'), ...(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':')];
  const folders = [...configDirs, '/usr/local/etc', '/etc', ...dataDirs].filter(Boolean).map((dir) => join(dir, 'vulkan', 'icd.d'));
  return folders.some((folder) => {
    try {
      return readdirSync(folder).some((name) => name.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

/** Dawn's GPU objects, one per set of flags: with bounds checks, and without. */
const gpuPromises = new Map<boolean, Promise<GPU>>();

/** Dawn's toggle that compiles shaders without its bounds checks on buffer and array accesses. */
const NO_BOUNDS_CHECKS = 'enable-dawn-features=disable_robustness';
/** GPU timestamps at the adapter's own resolution (Dawn rounds them, as browsers do, unless told not to). */
const EXACT_TIMESTAMPS = 'disable-dawn-features=timestamp_quantization';

async function probe(create: (flags: string[]) => GPU, flags: string[]): Promise<GPU | undefined> {
  const gpu = create(flags);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? gpu : undefined;
}

async function createDawnGpu(flags: string[]): Promise<GPU> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  let webgpu: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    webgpu = (await import('webgpu')) as unknown as typeof webgpu;
  } catch (error) {
    throw new Error(`Could not load Dawn's WebGPU for Node (the 'webgpu' package): ${String(error)}. Run \`npm ci\`.`);
  }
  // GPUBufferUsage, GPUMapMode, ... as in a browser.
  for (const [name, value] of Object.entries(webgpu.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const userChoseDriver = process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES;
  // On Linux without a Vulkan driver, SwiftShader comes first: probing for hardware
  // there would only print the loader's "Found no drivers!" warnings.
  const hardwareFirst = !!userChoseDriver || !!process.env.VK_ADD_DRIVER_FILES || process.platform !== 'linux' || vulkanDriversListed();
  if (hardwareFirst) {
    const hardware = await probe(webgpu.create, flags);
    if (hardware) return hardware;
  }
  if (!userChoseDriver) {
    for (const icd of SOFTWARE_ICDS) {
      if (!existsSync(icd)) continue;
      process.env.VK_ICD_FILENAMES = icd;
      const software = await probe(webgpu.create, flags);
      if (software) return software;
    }
    delete process.env.VK_ICD_FILENAMES;
  }
  if (!hardwareFirst) {
    const hardware = await probe(webgpu.create, flags);
    if (hardware) return hardware;
  }
  throw new Error(
    'No WebGPU adapter found. shaderprop needs a Vulkan driver (Linux), Metal (macOS) or D3D12 (Windows). ' +
      'On a Linux machine without a GPU install SwiftShader, a CPU Vulkan driver: ' +
      '`apt-get install chromium libvulkan1` (shaderprop finds its ICD by itself). ' +
      (userChoseDriver ? `VK_ICD_FILENAMES/VK_DRIVER_FILES is set to '${userChoseDriver}': check that file exists. ` : '') +
      'On an NVIDIA machine with no adapter, set VK_DRIVER_FILES to the driver\'s nvidia_icd.json.',
  );
}

export const nodePlatform: Platform = {
  name: 'node',
  gpu(options) {
    const checked = options?.boundsChecks !== false;
    let gpu = gpuPromises.get(checked);
    if (!gpu) {
      gpu = createDawnGpu(checked ? [EXACT_TIMESTAMPS] : [EXACT_TIMESTAMPS, NO_BOUNDS_CHECKS]);
      gpuPromises.set(checked, gpu);
    }
    return gpu;
  },
  async readFile(path) {
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`Could not read ${path}: ${code === 'ENOENT' ? 'no such file' : String(error)}`);
    }
  },
  async writeFileAtomic(path, data) {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
    try {
      await writeFile(temporary, data);
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
  },
  async exists(path) {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  },
  async readDir(path) {
    try {
      const entries = await readdir(path, { withFileTypes: true });
      const listed = await Promise.all(entries.map(async (entry) => ({
        name: entry.name,
        // A symbolic link counts as what it points at.
        directory: entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(path, entry.name)).then((s) => s.isDirectory(), () => false))),
      })));
      return listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`Could not list ${path}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : String(error)}`);
    }
  },
  async mkdirp(path) {
    await mkdir(path, { recursive: true });
  },
  joinPath: (...parts) => join(...parts),
  env: (name) => process.env[name],
  cacheDir: () => process.env.SHADERPROP_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'shaderprop'),
};
