/**
 * A labelled image set from a folder of PNG files with one sub-folder per class:
 *
 *   digits/0/a.png, digits/0/b.png, …, digits/9/z.png
 *
 * Classes: when every sub-folder's name is an integer ≥ 0, that number is the
 * class (so `0`…`9` are the digits, and `10` comes after `9`); otherwise the
 * sub-folders in sorted order are classes 0, 1, 2, … (`classNames` keeps the
 * names). Files not ending in `.png` are skipped; samples are in class order,
 * then by file name. Every image must have the same width and height.
 *
 * Pixels (decoded with fast-png) become bytes 0–255:
 * - 'gray' (default): gray stays; RGB becomes its luma, 0.299 R + 0.587 G + 0.114 B
 *   (ITU-R BT.601); an alpha channel composites the image over black (value × alpha);
 *   a palette is expanded first; 16-bit samples keep their high byte (rounded).
 *   Samples have shape [height, width].
 * - 'rgb': three channels (gray is repeated, alpha composited over black), shape [height, width, 3].
 */
import { convertIndexedToRgb, decode } from 'fast-png';
import { getPlatform } from '../platform/platform.js';
import type { LabeledData } from './dataset.js';

export interface PngFolderOptions {
  /** 'gray' (default): one channel, shape [h, w]; 'rgb': shape [h, w, 3]. */
  color?: 'gray' | 'rgb';
  name?: string;
}

/** One decoded PNG as bytes: `channels` (1 or 3) per pixel, row-major. */
export function pngPixels(bytes: Uint8Array, name: string, color: 'gray' | 'rgb' = 'gray'): { width: number; height: number; data: Uint8Array } {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (error) {
    throw new Error(`${name}: not a readable PNG (${error instanceof Error ? error.message : String(error)}); re-save it as PNG.`, { cause: error });
  }
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  let max = png.depth === 16 ? 65535 : (1 << png.depth) - 1;
  if (png.palette) {
    data = convertIndexedToRgb(png as Parameters<typeof convertIndexedToRgb>[0]);
    channels = png.palette[0]?.length ?? 3;
    max = 255;
  }
  const { width, height } = png;
  const pixels = width * height;
  const hasAlpha = channels === 2 || channels === 4;
  const colorChannels = hasAlpha ? channels - 1 : channels;
  const outChannels = color === 'rgb' ? 3 : 1;
  const out = new Uint8Array(pixels * outChannels);
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    const alpha = hasAlpha ? data[base + channels - 1]! / max : 1;
    const at = (c: number) => (data[base + c]! / max) * alpha;
    if (color === 'gray') {
      const v = colorChannels === 1 ? at(0) : 0.299 * at(0) + 0.587 * at(1) + 0.114 * at(2);
      out[p] = Math.round(v * 255);
    } else {
      for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(at(colorChannels === 1 ? 0 : c) * 255);
    }
  }
  return { width, height, data: out };
}

/** Loads a folder of PNG images, one sub-folder per class (see the module's comment). */
export async function loadPngFolder(dir: string, options: PngFolderOptions = {}): Promise<LabeledData> {
  const platform = await getPlatform();
  const color = options.color ?? 'gray';
  const entries = await platform.readDir(dir);
  const folders = entries.filter((e) => e.directory).map((e) => e.name).filter((n) => !n.startsWith('.'));
  if (folders.length === 0) {
    const pngs = entries.filter((e) => !e.directory && e.name.toLowerCase().endsWith('.png')).length;
    throw new Error(
      `${dir}: no class sub-folders: a PNG data set is a folder with one sub-folder per class (${dir}/0/*.png, ${dir}/1/*.png, …)` +
        (pngs > 0 ? `; its ${pngs} PNG file(s) lie directly in it: move each into the folder of its class.` : '.'),
    );
  }
  const numeric = folders.every((n) => /^\d+$/.test(n));
  const ordered = numeric ? [...folders].sort((a, b) => Number(a) - Number(b)) : [...folders].sort();
  const classOf = (folder: string, index: number) => (numeric ? Number(folder) : index);
  const classes = numeric ? Math.max(...ordered.map(Number)) + 1 : ordered.length;

  const images: Uint8Array[] = [];
  const labels: number[] = [];
  let size: { width: number; height: number; file: string } | null = null;
  for (const [index, folder] of ordered.entries()) {
    const folderPath = platform.joinPath(dir, folder);
    const files = (await platform.readDir(folderPath)).filter((e) => !e.directory && e.name.toLowerCase().endsWith('.png'));
    if (files.length === 0) throw new Error(`${folderPath}: the class folder '${folder}' holds no .png files; remove it or add its images.`);
    for (const file of files) {
      const path = platform.joinPath(folderPath, file.name);
      const image = pngPixels(await platform.readFile(path), path, color);
      if (!size) size = { width: image.width, height: image.height, file: path };
      else if (image.width !== size.width || image.height !== size.height) {
        throw new Error(
          `${path}: the image is ${image.width}×${image.height} but ${size.file} is ${size.width}×${size.height}; ` +
            `every image of a data set must have the same size: resize them to one size.`,
        );
      }
      images.push(image.data);
      labels.push(classOf(folder, index));
    }
  }
  const per = images[0]!.length;
  const x = new Uint8Array(images.length * per);
  images.forEach((image, n) => x.set(image, n * per));
  return {
    x, y: Uint32Array.from(labels), count: images.length, classes,
    shape: color === 'rgb' ? [size!.height, size!.width, 3] : [size!.height, size!.width],
    name: options.name ?? dir,
    ...(numeric ? {} : { classNames: ordered }),
  };
}
