/**
 * The `akash-ip` executable (dist/src/cli/akash-ip.cjs): SDL commands run the SDL commands' own bundle with V8's
 * code cache, everything else the whole CLI (main.js). The quick path must print exactly what the whole CLI
 * prints; the cache must be made when missing, kept when V8 takes it, remade when V8 turns it down, and never
 * break a run it cannot write.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { generatedSdl } from '../../bench/sdl.bench.js';
import { CLI, EXAMPLE_SDL } from './harness.js';

const WHOLE_CLI = join(dirname(CLI), 'main.js');
const EXAMPLES = readdirSync('examples')
  .filter((name) => name.startsWith('ip-lease'))
  .map((name) => resolve('examples', name));
const RULES = readdirSync('src/sdl/testdata/rules').map((name) => resolve('src/sdl/testdata/rules', name));

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  script: string,
  args: readonly string[],
  stdin = '',
  user: { uid?: number; gid?: number } = {},
): Promise<Outcome> {
  return new Promise((done, reject) => {
    const child = execFile(
      process.execPath,
      [script, ...args],
      { timeout: 30_000, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' }, ...user },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') reject(error);
        else done({ code: child.exitCode, stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}

describe('akash-ip sdl … through its own bundle', () => {
  const cases: { args: string[]; stdin?: string }[] = [
    { args: ['sdl', 'validate', ...EXAMPLES, ...RULES] },
    { args: ['sdl', 'validate', '--strict', ...EXAMPLES, ...RULES] },
    ...EXAMPLES.flatMap((file) => [
      { args: ['sdl', 'manifest', file] },
      { args: ['sdl', 'groups', file] },
      { args: ['sdl', 'version', file] },
    ]),
    { args: ['sdl', 'manifest', resolve('src/sdl/testdata/rules/anchors-and-merge.yaml')] },
    { args: ['sdl', 'manifest', '-'], stdin: readFileSync(EXAMPLE_SDL, 'utf8') },
    { args: ['sdl', 'manifest', '-'], stdin: 'version: "2.0"\nservices: [' },
    { args: ['--home', '/nonexistent', 'sdl', 'version', EXAMPLE_SDL] },
    { args: ['sdl', 'validate', 'no-such-file.yaml'] },
    { args: ['sdl', 'manifest', EXAMPLE_SDL, '--stirct'] },
    { args: ['sdl', 'validate'] },
    { args: ['sdl', 'nosuch'] },
    { args: ['sdl'] },
    { args: ['sdl', '--help'] },
    { args: ['sdl', 'manifest', '--help'] },
  ];

  it('prints what the whole CLI prints, with the same exit code', async () => {
    await Promise.all(
      cases.map(async ({ args, stdin }) => {
        const [quick, whole] = await Promise.all([run(CLI, args, stdin), run(WHOLE_CLI, args, stdin)]);
        assert.deepEqual(quick, whole, args.join(' '));
      }),
    );
  });

  it('stops writing, without an error, when its reader goes away (the whole CLI too)', async () => {
    const folder = mkdtempSync(join('dist', 'launch-test-'));
    after(() => rmSync(folder, { recursive: true, force: true }));
    const large = join(folder, 'large.yaml');
    writeFileSync(large, generatedSdl());
    for (const script of [CLI, WHOLE_CLI]) {
      // The manifest is larger than a pipe holds: the command must meet the closed pipe.
      const child = spawn(process.execPath, [script, 'sdl', 'manifest', large], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((done) => child.on('close', (exit) => done(exit)));
      assert.equal(stderr, '', script);
      assert.equal(code, 0, script);
    }
  });
});

describe('the SDL commands’ code cache', () => {
  /** A copy of the executable and the SDL bundle, inside dist/ so that packages resolve as they do for the real one. */
  function copyOfCli(): { cli: string; cache: string } {
    const folder = mkdtempSync(join(resolve('dist'), 'launch-test-'));
    after(() => rmSync(folder, { recursive: true, force: true }));
    for (const file of ['akash-ip.cjs', 'sdl.cjs'])
      copyFileSync(join(dirname(CLI), file), join(folder, file));
    return { cli: join(folder, 'akash-ip.cjs'), cache: join(folder, 'sdl.cjs.cache') };
  }

  it('the build made one, and a run takes it as it is', async () => {
    const cache = join(dirname(CLI), 'sdl.cjs.cache');
    const before = statSync(cache);
    const outcome = await run(CLI, ['sdl', 'version', EXAMPLE_SDL]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(statSync(cache).mtimeMs, before.mtimeMs, 'V8 took the cache the build made: not rewritten');
  });

  it('a run without one writes it, and the next run keeps it', async () => {
    const { cli, cache } = copyOfCli();
    const expected = await run(WHOLE_CLI, ['sdl', 'manifest', EXAMPLE_SDL]);
    assert.deepEqual(await run(cli, ['sdl', 'manifest', EXAMPLE_SDL]), expected);
    const written = readFileSync(cache);
    const writtenAt = statSync(cache).mtimeMs;
    assert.ok(written.length > 10_000, `a cache of the compiled functions (${written.length} bytes)`);
    assert.deepEqual(await run(cli, ['sdl', 'manifest', EXAMPLE_SDL]), expected);
    assert.equal(statSync(cache).mtimeMs, writtenAt, 'accepted, so not rewritten');
    assert.deepEqual(readdirSync(dirname(cache)).sort(), ['akash-ip.cjs', 'sdl.cjs', 'sdl.cjs.cache']);
  });

  it('runs that start together without one each write a whole cache, and the next run takes it', async () => {
    const { cli, cache } = copyOfCli();
    const expected = await run(WHOLE_CLI, ['sdl', 'manifest', EXAMPLE_SDL]);
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => run(cli, ['sdl', 'manifest', EXAMPLE_SDL])),
    );
    for (const outcome of outcomes) assert.deepEqual(outcome, expected);
    assert.deepEqual(readdirSync(dirname(cache)).sort(), ['akash-ip.cjs', 'sdl.cjs', 'sdl.cjs.cache']);
    const writtenAt = statSync(cache).mtimeMs;
    assert.deepEqual(await run(cli, ['sdl', 'manifest', EXAMPLE_SDL]), expected);
    assert.equal(
      statSync(cache).mtimeMs,
      writtenAt,
      'the cache the last of them renamed into place is accepted',
    );
  });

  it('one V8 turns down is replaced, and the run is right regardless', async () => {
    const { cli, cache } = copyOfCli();
    writeFileSync(cache, Buffer.alloc(4096, 7));
    const expected = await run(WHOLE_CLI, ['sdl', 'manifest', EXAMPLE_SDL]);
    assert.deepEqual(await run(cli, ['sdl', 'manifest', EXAMPLE_SDL]), expected);
    const replaced = readFileSync(cache);
    assert.notDeepEqual(replaced, Buffer.alloc(4096, 7));
    assert.deepEqual(await run(cli, ['sdl', 'manifest', EXAMPLE_SDL]), expected);
    assert.deepEqual(readFileSync(cache), replaced, 'the replacement is accepted');
  });

  it('a read-only install runs without one and writes nothing', async () => {
    // Outside the checkout, so that another user can reach it; the example is the fast reader's, which needs no
    // package from node_modules.
    const folder = mkdtempSync(join(tmpdir(), 'akash-ip-read-only-'));
    after(() => {
      chmodSync(folder, 0o755);
      rmSync(folder, { recursive: true, force: true });
    });
    for (const file of ['akash-ip.cjs', 'sdl.cjs'])
      copyFileSync(join(dirname(CLI), file), join(folder, file));
    copyFileSync(EXAMPLE_SDL, join(folder, 'ip-lease.yaml'));
    // Root writes anywhere, so as root the run is another user's, as on a shared install.
    const root = process.getuid?.() === 0;
    chmodSync(folder, root ? 0o755 : 0o555);
    const args = ['sdl', 'manifest', join(folder, 'ip-lease.yaml')];
    const expected = await run(WHOLE_CLI, args);
    assert.equal(expected.code, 0, expected.stderr);
    assert.deepEqual(
      await run(join(folder, 'akash-ip.cjs'), args, '', root ? { uid: 65534, gid: 65534 } : {}),
      expected,
    );
    assert.deepEqual(readdirSync(folder).sort(), ['akash-ip.cjs', 'ip-lease.yaml', 'sdl.cjs']);
  });

  it('a run that cannot write one still succeeds and leaves nothing behind', async () => {
    const { cli, cache } = copyOfCli();
    // A folder where the cache file would go: unreadable as a cache, and no file can be renamed over it (this
    // holds for root too, unlike a read-only folder).
    mkdirSync(cache);
    const expected = await run(WHOLE_CLI, ['sdl', 'validate', EXAMPLE_SDL]);
    assert.deepEqual(await run(cli, ['sdl', 'validate', EXAMPLE_SDL]), expected);
    assert.deepEqual(readdirSync(dirname(cache)).sort(), ['akash-ip.cjs', 'sdl.cjs', 'sdl.cjs.cache']);
    assert.ok(statSync(cache).isDirectory());
  });
});
