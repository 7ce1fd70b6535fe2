/**
 * The package as a user gets it: `npm pack` (whose prepack builds dist/), the
 * tarball unpacked into an empty project as `npm install` would lay it out,
 * then the README's library example run there with Node, its types checked,
 * and the `shaderprop` command run from node_modules/.bin.
 *
 * The tarball's dependencies are linked from this clone's node_modules (only
 * those package.json declares), so the test needs no registry.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { build, preview } from 'vite';
import { collectErrors, hasChromium, launchChromium } from '../browser/app.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistDir } from '../helpers.js';

const root = resolve(import.meta.dirname, '../..');
let work = '';
let app = '';
let installed = '';
let files: string[] = [];

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...env } });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'shaderprop-package-'));
  const packed = run('npm', ['pack', '--json', '--pack-destination', work], root);
  expect(packed.status, packed.stderr).toBe(0);
  // prepack's build log comes first on stdout; npm's JSON report is the array at the end.
  const report = JSON.parse(packed.stdout.slice(packed.stdout.lastIndexOf('\n[') + 1)) as { filename: string; files: { path: string }[] }[];
  files = report[0]!.files.map((f) => f.path);

  app = join(work, 'app');
  installed = join(app, 'node_modules', 'shaderprop');
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const unpacked = run('tar', ['-xzf', join(work, report[0]!.filename), '-C', installed, '--strip-components=1'], app);
  expect(unpacked.status, unpacked.stderr).toBe(0);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; bin: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies)) {
    const link = join(app, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(join(root, 'node_modules', dependency)), link);
  }
  // What npm does with `bin`: an executable linked into node_modules/.bin.
  mkdirSync(join(app, 'node_modules', '.bin'));
  for (const [name, path] of Object.entries(manifest.bin)) {
    chmodSync(join(installed, path), 0o755);
    symlinkSync(join('..', 'shaderprop', path), join(app, 'node_modules', '.bin', name));
  }
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The README's first TypeScript example: the library as `import … from 'shaderprop'`. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes("from 'shaderprop'"));
  expect(block, 'README.md has a ```ts block that imports from \'shaderprop\'').toBeDefined();
  return block!;
}

/** The static imports of a built module: `import … from '…'`, `export … from '…'`, `import '…'`. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s(?:[^;]*?\sfrom\s)?'([^']+)';/gm)].map((m) => m[1]!);
}

describe('the packed package', () => {
  it('holds the built library, its declarations and the CLI, and no sources or tests', () => {
    for (const path of ['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/node.js', 'dist/src/browser.js', 'dist/demo/cli/shaderprop.js']) {
      expect(files).toContain(path);
    }
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('shaders/') || f.startsWith('dist/web/') || f.startsWith('dist/bench/'))).toEqual([]);
    // The shaders are inlined: no module asks a loader for `?raw`.
    for (const f of files.filter((f) => f.endsWith('.js'))) {
      expect(readFileSync(join(installed, f), 'utf8'), f).not.toMatch(/\?raw['"]/);
    }
    expect(readFileSync(join(installed, 'dist/src/ops/sources.js'), 'utf8')).toMatch(/@compute/);
  });

  it('resolves `shaderprop` to the Node entry in Node, and its browser entry reaches no Node module', () => {
    const resolved = run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('shaderprop'))"], app);
    expect(resolved.stdout.trim()).toMatch(/node_modules\/shaderprop\/dist\/src\/node\.js$/);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: { '.': Record<string, string> } };
    const seen = new Set<string>();
    const outside = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of staticImports(file)) {
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
        else outside.add(specifier);
      }
    };
    visit(join(installed, manifest.exports['.'].browser!));
    expect(seen.size).toBeGreaterThan(20);
    expect([...outside].filter((s) => s.startsWith('node:') || s === 'webgpu')).toEqual([]);
    expect([...seen].map((f) => f.slice(installed.length + 1))).not.toContain('dist/src/platform/node.js');
  });

  it('bundles for the browser with Vite: the shaders inlined, no Node module', async () => {
    const web = join(app, 'web');
    mkdirSync(web);
    writeFileSync(join(web, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
    writeFileSync(join(web, 'main.js'), [
      "import { createRuntime, dense, flatten, sequential } from 'shaderprop';",
      'const rt = await createRuntime();',
      "const model = sequential([flatten(), dense(10, 'softmax')], { inputShape: [28, 28], runtime: rt });",
      'document.body.textContent = model.summary();',
    ].join('\n'));
    await build({ root: web, configFile: false, logLevel: 'silent', build: { outDir: join(web, 'out'), target: 'es2022', minify: false } });
    const bundle = readdirSync(join(web, 'out', 'assets')).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(web, 'out', 'assets', f), 'utf8')).join('\n');
    expect(bundle).toMatch(/@compute/);
    expect(bundle).toContain('navigator.gpu');
    // What Vite leaves for a Node module imported into a browser build.
    expect(bundle).not.toMatch(/__vite-browser-external|from ['"]node:|import\(['"]node:|from ['"]webgpu['"]/);
  }, 60_000);

  it.skipIf(!hasChromium)('a Vite app that imports the package trains in headless Chromium (WebGPU)', async () => {
    const web = join(app, 'train-web');
    mkdirSync(web);
    writeFileSync(join(web, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
    // Separable made-up data: class c has its bright features at j % 4 == c.
    writeFileSync(join(web, 'main.js'), [
      "import { createRuntime, Dataset, dense, sequential, sgd } from 'shaderprop';",
      'try {',
      '  const rt = await createRuntime({ autotune: false });',
      '  const n = 256, f = 16;',
      '  const x = new Float32Array(n * f), y = new Uint32Array(n);',
      '  for (let i = 0; i < n; i++) { y[i] = i % 4; for (let j = 0; j < f; j++) x[i * f + j] = (j % 4 === y[i] ? 1 : 0) + 0.1 * Math.sin(7 * i + j); }',
      "  const data = Dataset.create(rt, { x, y, shape: [f], classes: 4, name: 'bands' });",
      "  const model = sequential([dense(4, 'softmax')], { inputShape: [f], runtime: rt, seed: 1 });",
      "  model.compile({ optimizer: sgd({ learningRate: 0.5 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });",
      '  const before = await model.evaluate(data);',
      '  await model.fit(data, { epochs: 5, batchSize: 32 });',
      '  const after = await model.evaluate(data);',
      '  document.body.dataset.result = JSON.stringify({ before: before.loss, after: after.loss, accuracy: after.accuracy, adapter: rt.adapter.name });',
      '} catch (error) {',
      '  document.body.dataset.result = JSON.stringify({ error: String(error) });',
      '}',
    ].join('\n'));
    await build({ root: web, configFile: false, logLevel: 'silent', build: { outDir: join(web, 'out'), target: 'es2022', minify: false } });
    const server = await preview({ root: web, configFile: false, logLevel: 'silent', build: { outDir: join(web, 'out') }, preview: { port: 0, host: '127.0.0.1' } });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = collectErrors(page);
      await page.goto(server.resolvedUrls!.local[0]!);
      await page.waitForSelector('body[data-result]', { timeout: 90_000, state: 'attached' }).catch((error: Error) => {
        throw new Error(`${error.message}; the page's errors: ${errors.join(' | ') || 'none'}`);
      });
      const result = JSON.parse((await page.getAttribute('body', 'data-result'))!) as { error?: string; before: number; after: number; accuracy: number };
      expect(result.error).toBeUndefined();
      expect(result.after).toBeLessThan(result.before);
      expect(result.accuracy).toBeGreaterThan(0.9);
    } finally {
      await browser.close();
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  }, 150_000);

  it.skipIf(!mnistDir())('runs the README example with Node (on 600 MNIST images, one epoch)', () => {
    let code = readmeExample();
    const edits: [RegExp, string][] = [
      [/loadMnist\(\{ dir: '[^']*' \}\)/, `loadMnist({ dir: ${JSON.stringify(mnistDir())}, subset: { train: 600, test: 100 } })`],
      [/epochs: 10\b/, 'epochs: 1'],
    ];
    for (const [pattern, replacement] of edits) {
      expect(code, `the README example has ${pattern}`).toMatch(pattern);
      code = code.replace(pattern, replacement);
    }
    code += '\nconsole.log(JSON.stringify({ loss: history.history.loss, accuracy: history.history.accuracy, adapter: rt.adapter.name }));\nrt.destroy();\n';
    writeFileSync(join(app, 'example.mjs'), code);
    const r = run(process.execPath, ['example.mjs'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Total params: 109,386/);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { loss: number[]; accuracy: number[] };
    expect(result.loss).toHaveLength(1);
    expect(result.loss[0]).toBeGreaterThan(0);
    expect(result.loss[0]).toBeLessThan(2.5);
    expect(result.accuracy[0]).toBeGreaterThan(0.1);
  }, 120_000);

  it('types the README example from the declaration files', () => {
    writeFileSync(join(app, 'example.ts'), `${readmeExample()}\nexport const firstLoss: number | undefined = history.history.loss?.[0];\n`);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['example.ts'],
    }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);

  it('installs the `shaderprop` command', () => {
    const bin = join(app, 'node_modules', '.bin', 'shaderprop');
    expect(existsSync(bin)).toBe(true);
    const help = run(bin, ['--help'], app);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Usage: shaderprop/);
    expect(help.stdout).toMatch(/\brun\b[\s\S]*\blist\b|\blist\b[\s\S]*\brun\b/);
    const version = run(bin, ['--version'], app);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
    const list = run(bin, ['list', '--json'], app);
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((e) => e.id)).toContain('s001-softmax');
  });

  it.skipIf(!mnistDir())('runs an experiment with the installed command: trains, writes the report and exports', () => {
    const bin = join(app, 'node_modules', '.bin', 'shaderprop');
    const r = run(bin, ['run', 's001-softmax', '--epochs', '1', '--train-images', '240', '--test-images', '60', '--out', 'report', '--export', 'safetensors'], app, { MNIST_DIR: mnistDir()! });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/s001-softmax: test accuracy 0\.\d+/);
    expect(r.stdout).toMatch(/report: report\/index\.html/);
    // The charts (vega, in Node) are embedded as SVG pictures.
    expect(readFileSync(join(app, 'report', 'index.html'), 'utf8')).toMatch(/<img src="data:image\/svg\+xml;base64,/);
    expect(readFileSync(join(app, 'report', 's001-softmax', 'learning-curves.svg'), 'utf8')).toMatch(/^<svg/);
    expect(existsSync(join(app, 'report', 's001-softmax', 'model.safetensors'))).toBe(true);
  }, 120_000);
});
