/**
 * What the built CLI loads: a command loads what it runs and no more. `--help` needs only commander and the
 * command declarations; the SDL commands add the SDL engine, but never the ledger, daemon, stores, keys'
 * curves, zod (the engine checks with its own small validators) or the general YAML parser (plain SDL goes
 * through the fast reader). The CLI is bundled (scripts/build-cli.mjs): a loaded file stands for the source
 * modules the bundle's `bundle.json` lists for it. The SDL commands run their own bundle (sdl.cjs), not the whole
 * CLI's modules.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI, EXAMPLE_SDL } from './harness.js';

/** The source modules (`src/sdl/index.ts`, `node_modules/commander/index.js`) in each file of the bundle. */
const BUNDLE = JSON.parse(readFileSync(join(dirname(CLI), 'bundle.json'), 'utf8')) as Record<
  string,
  string[]
>;

/** What a loaded URL or path stands for: the modules a file of the bundle holds, or the file itself. */
function modulesOf(loaded: string): string[] {
  const path = loaded.startsWith('file:') ? fileURLToPath(loaded) : loaded;
  const held = dirname(path) === dirname(CLI) ? BUNDLE[basename(path)] : undefined;
  return held ?? [path];
}

/** Logs every ES module the process loads (through a loader hook) and, at exit, every CommonJS one. */
const HOOKS = `export async function load(url, context, next) {
  process.stderr.write('LOADED ' + url + '\\n');
  return next(url, context);
}`;
const PRELOAD = `import { createRequire, register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});
const require = createRequire(${JSON.stringify(CLI)});
process.on('exit', () => {
  for (const path of Object.keys(require.cache)) process.stderr.write('LOADED ' + path + '\\n');
});`;

function loadedBy(...args: string[]): Promise<string[]> {
  return new Promise((done, reject) => {
    execFile(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, CLI, ...args],
      { timeout: 30_000 },
      (error, _stdout, stderr) => {
        if (error !== null) reject(new Error(`akash-ip ${args.join(' ')}: ${stderr}`));
        else done([...stderr.matchAll(/^LOADED (.+)$/gm)].flatMap((match) => modulesOf(match[1] ?? '')));
      },
    );
  });
}

/** Modules no SDL command and no help needs. */
const NEVER = [
  /node_modules\/(hono|@hono|better-sqlite3|prom-client|@noble\/curves|yaml|cli-table3)\//,
  /^src\/(market|daemon|identity|store|lease|ipam|k8s|tenant)\//,
  /^src\/cli\/(devnet|gateway|report)\.ts$/,
];

function assertNone(loaded: readonly string[], patterns: readonly RegExp[]): void {
  const unwanted = loaded.filter((url) => patterns.some((pattern) => pattern.test(url)));
  assert.deepEqual(unwanted, []);
}

describe('start-up', () => {
  it('help loads commander and the command declarations only', async () => {
    for (const args of [['--help'], ['lease-status', '--help'], ['provider', 'run', '--help']]) {
      const loaded = await loadedBy(...args);
      assert.ok(
        loaded.some((url) => url.includes('commander')),
        'the loader hook saw nothing',
      );
      assert.ok(loaded.includes('src/cli/main.ts'), 'the whole CLI');
      assertNone(loaded, [...NEVER, /node_modules\/zod\//, /^src\/sdl\//]);
    }
  });

  it('sdl commands load the SDL engine and no other command', async () => {
    const loaded = await loadedBy('sdl', 'validate', EXAMPLE_SDL);
    assert.ok(loaded.includes('src/sdl/index.ts'));
    assert.ok(loaded.includes('src/cli/sdl-main.ts'), 'the SDL commands’ own bundle');
    assertNone(loaded, [
      ...NEVER,
      /node_modules\/(zod|picocolors)\//,
      /^src\/cli\/commands\/(?!sdl|common)/,
      /^src\/cli\/(main|program)\.ts$/,
    ]);
  });
});
