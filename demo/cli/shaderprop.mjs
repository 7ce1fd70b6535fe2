#!/usr/bin/env node
// The `shaderprop` command: registers the TypeScript and `.wgsl?raw` loaders, then runs the CLI.
await import('../register.mjs');
await import('./shaderprop.ts');
