#!/usr/bin/env node
// Bundles the CLI with esbuild over tsc's dist/src/cli/main.js: `npm run build` runs it after tsc. A process that
// runs one command then reads a handful of files instead of one per source module and package file (Node's ES
// module loader pays per file), and compiles them from fewer, larger sources.
//
// Each command module (src/cli/program.ts imports them on demand) and whatever only it uses becomes a chunk of
// its own, loaded when that command runs; code shared by several commands goes into shared chunks. Every chunk
// lies beside main.js, so `new URL('./main.js', import.meta.url)` (src/cli/devnet.ts) and the searches up from
// a module's folder for the repository root still hold. Packages that must load from node_modules stay there:
// better-sqlite3 (a native addon), and what the code requires through `createRequire` on first use (yaml,
// cli-table3), which esbuild leaves alone. Source maps lie beside each file, for `node --enable-source-maps`.
//
// Beside them, two CommonJS bundles: the `akash-ip` executable (src/cli/launch.ts → akash-ip.cjs), and the SDL
// commands alone (src/cli/sdl-main.ts → sdl.cjs), which the executable runs for `akash-ip sdl …` with a V8 code
// cache (src/cli/code-cache.ts) that this script makes last, by running one SDL command.
import { spawnSync } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

/**
 * Commander requires node:child_process when it loads, for subcommands that are executables of their own, which
 * this CLI does not have; loading it (with net, dgram and their bindings) costs every run a few milliseconds. Here
 * commander gets a stand-in that requires the module on first use.
 */
const childProcessOnUse = {
  name: 'child-process-on-use',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/')
        ? { path: 'child_process', namespace: 'child-process-on-use' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'child-process-on-use' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });",
      loader: 'js',
    }));
  },
};

const out = 'dist/src/cli';
/** The chunks of an earlier build (names end in esbuild's content hash); tsc's own files never match. */
const CHUNK = /-[A-Z0-9]{8}\.js(\.map)?$/;

const stale = (await readdir(out)).filter((name) => CHUNK.test(name));
await Promise.all(stale.map((name) => rm(join(out, name))));

/** What both builds share. */
const common = {
  bundle: true,
  platform: 'node',
  target: ['node20'],
  outdir: out,
  sourcemap: true,
  // node_modules is a link in worktrees: name packages by where they are found, not where the link points.
  preserveSymlinks: true,
  external: ['better-sqlite3'],
  logLevel: 'warning',
  // V8 scans all of a module's source when it loads it: without the whitespace, and with esbuild's shorter
  // equivalent syntax, the chunks an SDL command loads (the engine's, commander's) compile a few milliseconds
  // sooner. Names are kept (no identifier minification); the source maps still map.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  plugins: [childProcessOnUse],
};

const modules = await build({
  ...common,
  entryPoints: { main: 'src/cli/main.ts' },
  splitting: true,
  format: 'esm',
  chunkNames: '[name]-[hash]',
  // Bundled CommonJS packages (commander among them) call `require` for Node's built-in modules.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
});

const commonJs = await build({
  ...common,
  entryPoints: { 'akash-ip': 'src/cli/launch.ts', sdl: 'src/cli/sdl-main.ts' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // The sources ask `createRequire(import.meta.url)` for packages they load on first use; in CommonJS the
  // bundle's own file URL stands for it. The banner comes before esbuild's own "use strict", so it says it
  // first: the sources are modules, strict throughout.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "'use strict'; var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// Which source modules each file holds, for the start-up test that checks what a command loads.
const contents = Object.fromEntries(
  [modules, commonJs]
    .flatMap(({ metafile }) => Object.entries(metafile.outputs))
    .filter(([file]) => /\.c?js$/.test(file))
    .map(([file, output]) => [basename(file), Object.keys(output.inputs).sort()]),
);
await writeFile(join(out, 'bundle.json'), `${JSON.stringify(contents, null, 1)}\n`);

// The SDL commands' code cache: the first run of the new bundle writes it as it exits. A manifest compiles the
// functions most SDL commands run (read, check, build, print).
await rm(join(out, 'sdl.cjs.cache'), { force: true });
const made = spawnSync(
  process.execPath,
  [join(out, 'akash-ip.cjs'), 'sdl', 'manifest', 'examples/ip-lease-two-services.yaml'],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
if (made.status !== 0) throw new Error(`making the SDL commands' code cache failed (exit ${made.status})`);
