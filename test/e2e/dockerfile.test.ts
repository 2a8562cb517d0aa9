/**
 * The Dockerfile's build stage, replayed without a container engine (none runs here): only the files its
 * `COPY` lines bring in are placed in a fresh folder, `npm run build` runs there, and the image's entrypoint
 * answers `--help` from what the final stage copies out. A build input the Dockerfile forgets to copy (a
 * script, a config) fails here instead of in a provider's `docker build`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_TIMEOUT_MS = 300_000;

interface Copy {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly dest: string;
}

interface Stage {
  readonly name: string | undefined;
  readonly workdir: string;
  readonly copies: readonly Copy[];
  readonly runs: readonly string[];
  readonly entrypoint: readonly string[] | undefined;
}

/** The few instructions the project's Dockerfile uses, per stage (continuation lines are not used there). */
function stagesOf(dockerfile: string): Stage[] {
  const stages: {
    name: string | undefined;
    workdir: string;
    copies: Copy[];
    runs: string[];
    entrypoint: string[] | undefined;
  }[] = [];
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [instruction = '', ...args] = line.split(/\s+/);
    const stage = stages.at(-1);
    switch (instruction.toUpperCase()) {
      case 'FROM':
        stages.push({ name: args[2], workdir: '/', copies: [], runs: [], entrypoint: undefined });
        break;
      case 'WORKDIR':
        if (stage !== undefined) stage.workdir = posix.resolve(stage.workdir, args[0] ?? '.');
        break;
      case 'COPY': {
        const from = args[0]?.startsWith('--from=') ? args.shift()?.slice('--from='.length) : undefined;
        const dest = args.pop() ?? '.';
        stage?.copies.push({ from, sources: args, dest });
        break;
      }
      case 'RUN':
        stage?.runs.push(args.join(' '));
        break;
      case 'ENTRYPOINT':
        if (stage !== undefined) stage.entrypoint = JSON.parse(args.join(' ')) as string[];
        break;
    }
  }
  return stages;
}

describe('Dockerfile', () => {
  const work = mkdtempSync(join(tmpdir(), 'akash-ip-dockerfile-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const [build, image] = stagesOf(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

  it('builds from only what its build stage copies, and the entrypoint runs from what the image copies', () => {
    assert.ok(build !== undefined && image !== undefined, 'a build stage and an image stage');
    assert.equal(build.name, 'build');
    assert.ok(build.runs.includes('npm ci'), 'dependencies come from the lock file');
    assert.ok(
      build.runs.some((run) => run.startsWith('npm run build')),
      'the build stage runs npm run build',
    );
    // What .dockerignore leaves out of the build context no COPY can bring in (its plain-name entries).
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const app = join(work, 'build');
    for (const copy of build.copies) {
      for (const source of copy.sources) {
        assert.ok(
          !ignored.includes(source),
          `COPY ${source}: .dockerignore leaves it out of the build context`,
        );
      }
      const dest = join(app, posix.relative(build.workdir, posix.resolve(build.workdir, copy.dest)));
      for (const source of copy.sources) {
        const target = copy.dest.endsWith('/') ? join(dest, source) : dest;
        mkdirSync(dirname(target), { recursive: true });
        cpSync(join(ROOT, source), target, { recursive: true });
      }
    }
    // `npm ci` installs what package-lock.json pins: the checkout's own install of that same lock stands in.
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    const built = spawnSync('npm', ['run', 'build'], {
      cwd: app,
      encoding: 'utf8',
      timeout: BUILD_TIMEOUT_MS,
    });
    assert.equal(
      built.status,
      0,
      `npm run build in the build stage failed:\n${built.stdout}\n${built.stderr}`,
    );

    for (const copy of image.copies) {
      assert.equal(copy.from, 'build', 'the image takes only built files');
      for (const source of copy.sources) {
        const path = join(app, posix.relative(build.workdir, posix.resolve(build.workdir, source)));
        assert.ok(existsSync(path), `the image copies ${source}, which the build stage does not have`);
      }
    }
    const [command, script, ...args] = image.entrypoint ?? [];
    assert.equal(command, 'node');
    assert.ok(script !== undefined);
    const help = spawnSync(process.execPath, [script, ...args, '--help'], { cwd: app, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--provider/);
  });
});
