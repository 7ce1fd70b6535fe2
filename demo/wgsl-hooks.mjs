// Node module-loader hooks that let `import source from './x.wgsl?raw'` work
// outside Vite, exactly as it does inside Vite: the module's default export is
// the file's text. Registered by demo/register.mjs.
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  const { pathname, search } = new URL(url);
  if (search === '?raw' && pathname.endsWith('.wgsl')) {
    const text = await readFile(pathname, 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
