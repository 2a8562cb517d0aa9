#!/usr/bin/env node
// Bundles the web console (src/console/web) with esbuild into dist/console: app.js (ES2022, minified),
// app.css and index.html. `npm run build` runs it after tsc. The SDL engine is bundled from src/sdl as is:
// the bundle targets the browser, so a Node built-in reached from it fails the build here.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const out = 'dist/console';
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: 'src/console/web/main.ts' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  outdir: out,
  logLevel: 'warning',
});
await copyFile('src/console/web/index.html', `${out}/index.html`);
await copyFile('src/console/web/app.css', `${out}/app.css`);
