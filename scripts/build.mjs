#!/usr/bin/env node
// `npm run build`: compiles the library (src/) and the command line
// (demo/cli/shaderprop.ts) with tsc into dist/ (JavaScript and declaration
// files, tsconfig.build.json), then replaces each `import x from '….wgsl?raw'`
// with the shader's text as a string constant, so the package runs in Node and
// in any bundler without a loader for `?raw`.
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
// dist/web is the browser demo's build (`npm run demo:build`): left alone.
const outputs = ['src', 'demo', 'bench'].map((d) => join(dist, d));
for (const dir of outputs) rmSync(dir, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error('build: tsc failed (see above); nothing was inlined.');
  process.exit(compiled.status ?? 1);
}
// The CLI's `bench --tfjs` imports bench/tfjs.ts, which needs TensorFlow.js (a
// development dependency): it is not part of the package.
rmSync(join(dist, 'bench'), { recursive: true, force: true });

const RAW_IMPORT = /^import (\w+) from '([^']+\.wgsl)\?raw';$/gm;
const LEFT_OVER = /\?raw['"]/;

function* jsFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(path);
    else if (entry.name.endsWith('.js')) yield path;
  }
}

let inlined = 0;
for (const dir of outputs.slice(0, 2)) {
  for (const file of jsFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    if (!LEFT_OVER.test(text)) continue;
    // dist/<path>.js was compiled from <path>.ts: its imports are relative to that source.
    const sourceDir = dirname(join(root, relative(dist, file)));
    const replaced = text.replace(RAW_IMPORT, (_, name, specifier) => {
      inlined++;
      return `const ${name} = ${JSON.stringify(readFileSync(resolve(sourceDir, specifier), 'utf8'))};`;
    });
    if (LEFT_OVER.test(replaced)) {
      console.error(`build: ${relative(root, file)} still has a '?raw' import the inliner does not recognise: write it as \`import name from '….wgsl?raw';\` on one line.`);
      process.exit(1);
    }
    writeFileSync(file, replaced);
  }
}
// The package's `bin`: run directly, so it starts with a shebang.
const cli = join(dist, 'demo', 'cli', 'shaderprop.js');
const cliText = readFileSync(cli, 'utf8');
if (!cliText.startsWith('#!')) writeFileSync(cli, `#!/usr/bin/env node\n${cliText}`);
chmodSync(cli, 0o755);

console.log(`build: dist/ written, ${inlined} WGSL sources inlined.`);
