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

const { metafile } = await build({
  entryPoints: { main: 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: ['node20'],
  outdir: out,
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  // node_modules is a link in worktrees: name packages by where they are found, not where the link points.
  preserveSymlinks: true,
  external: ['better-sqlite3'],
  // Bundled CommonJS packages (commander among them) call `require` for Node's built-in modules.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
  // V8 scans all of a module's source when it loads it: without the whitespace, and with esbuild's shorter
  // equivalent syntax, the chunks an SDL command loads (the engine's, commander's) compile a few milliseconds
  // sooner. Names are kept (no identifier minification); the source maps still map.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  plugins: [childProcessOnUse],
});

// Which source modules each file holds, for the start-up test that checks what a command loads.
const contents = Object.fromEntries(
  Object.entries(metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .map(([file, output]) => [basename(file), Object.keys(output.inputs).sort()]),
);
await writeFile(join(out, 'bundle.json'), `${JSON.stringify(contents, null, 1)}\n`);
