/**
 * The package's Node entry (`import … from 'shaderprop'` in Node): the whole
 * library, on Dawn's WebGPU (the `webgpu` package) and Node's file system.
 */
import { nodePlatform } from './platform/node.js';
import { usePlatform } from './platform/platform.js';

usePlatform(nodePlatform);

export * from './index.js';
