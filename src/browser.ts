/**
 * The package's browser entry (what bundlers such as Vite pick): the whole
 * library on `navigator.gpu`. Nothing it imports reaches a `node:` module.
 */
import { browserPlatform, usePlatform } from './platform/platform.js';

usePlatform(browserPlatform);

export * from './index.js';
