#!/usr/bin/env node
// Bundles the web console (src/console/web) with esbuild into dist/console: app.js (ES2022, minified),
// app.css and index.html. `npm run build` runs it after tsc. The SDL engine is bundled from src/sdl as is:
// the bundle targets the browser, so a Node built-in reached from it fails the build here.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Zod's namespace re-exports every message locale (≈ 260 KB minified) and the bundler cannot drop them; the
 * SDL engine uses zod's English defaults only (zod configures `en` itself), so the locale index is empty here.
 */
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(build) {
    build.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/') ? { path: 'zod-locales', namespace: 'empty' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * The SDL engine requires the general YAML library on first use through `createRequire` (so the CLI's plain
 * SDL path never loads it); in the browser that require is answered from the bundle, which holds the library.
 */
const requireInBrowser = {
  name: 'require-in-browser',
  setup(build) {
    build.onResolve({ filter: /^node:module$/ }, () => ({
      path: 'node-module',
      namespace: 'browser-require',
    }));
    build.onLoad({ filter: /.*/, namespace: 'browser-require' }, () => ({
      contents: [
        "import * as yaml from 'yaml';",
        'export function createRequire() {',
        "  return (id) => { if (id === 'yaml') return yaml; throw new Error(id + ' is not in the console bundle'); };",
        '}',
      ].join('\n'),
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

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
  plugins: [zodWithoutLocales, requireInBrowser],
});
await copyFile('src/console/web/index.html', `${out}/index.html`);
await copyFile('src/console/web/app.css', `${out}/app.css`);
