// `node --import ./demo/register.mjs file.ts` runs shaderprop's TypeScript
// sources directly: tsx compiles TypeScript, wgsl-hooks loads `.wgsl?raw`.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./wgsl-hooks.mjs', import.meta.url);
