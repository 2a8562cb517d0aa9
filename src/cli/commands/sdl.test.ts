import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sdlFixture } from '../../../test/support/sdl-fixtures.js';
import { runCaptured } from '../testing.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = join(ROOT, 'examples/ip-lease.yaml');
const SDK = sdlFixture('peer/chain-sdk/testdata/sdl');
const scratch = mkdtempSync(join(tmpdir(), 'akash-ip-sdl-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, content: string | Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

describe('akash-ip sdl validate', () => {
  it('exits 0 for a valid SDL and says so on stdout', async () => {
    const r = await runCaptured(['sdl', 'validate', EXAMPLE]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /ip-lease\.yaml: ok \(SDL 2\.0, 1 group\(s\), version [0-9a-f]{64}\)\n$/);
    assert.equal(r.stderr, '');
  });

  it('exits 1 with FILE:LINE:COL: CODE: message per problem', async () => {
    const file = join(SDK, 'input/invalid/ip-without-global.yaml');
    const r = await runCaptured(['sdl', 'validate', file]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(
      lines[0],
      `${file}:14:13: SDL_IP_NOT_GLOBAL: SDL invalid: error on "web" if an IP is declared the directive must be declared as global`,
    );
    assert.match(lines[1]!, /^.*:14:13: warning: SDL_SCHEMA: schema: /);
  });

  it('checks every file and fails if any fails', async () => {
    const r = await runCaptured([
      'sdl',
      'validate',
      EXAMPLE,
      join(SDK, 'input/invalid/endpoint-not-used.yaml'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ip-lease\.yaml: ok/);
    assert.match(r.stderr, /endpoint-not-used\.yaml:\d+:\d+: SDL_ENDPOINT_UNUSED: /);
  });

  it('prints schema warnings but accepts; --strict rejects', async () => {
    const file = join(SDK, 'input/schema-only-invalid/invalid-denom.yaml');
    const loose = await runCaptured(['sdl', 'validate', file]);
    assert.equal(loose.code, 0);
    assert.match(
      loose.stderr,
      /^.*invalid-denom\.yaml:\d+:\d+: warning: SDL_SCHEMA: schema: must be one of: uakt, uact/,
    );
    const strict = await runCaptured(['sdl', 'validate', '--strict', file]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /invalid-denom\.yaml:\d+:\d+: SDL_SCHEMA: /);
  });

  it('reads - from stdin', async () => {
    const r = await runCaptured(['sdl', 'validate', '-'], 'version: "2.0"\nservices: [\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^<stdin>:\d+:\d+: SDL_YAML: /);
  });

  it('refuses missing files, directories, binary junk, broken YAML, duplicate keys and alias bombs with a position', async () => {
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 8; i++)
      bomb += `a${i}: &a${i} [${Array(10)
        .fill(i === 1 ? '*a' : `*a${i - 1}`)
        .join(', ')}]\n`;
    const cases: [string, string, RegExp][] = [
      ['missing', join(scratch, 'nope.yaml'), /nope\.yaml:1:1: SDL_IO: cannot read .*: no such file$/],
      ['directory', scratch, /:1:1: SDL_IO: cannot read .*: is a directory, not a file$/],
      ['nul', scratchFile('nul.yaml', 'version: "2.0"\nx: a\u0000b\n'), /nul\.yaml:2:5: SDL_BINARY: /],
      [
        'utf8',
        scratchFile('bad.yaml', new Uint8Array([0x61, 0x3a, 0x0a, 0x62, 0xc3, 0x28])),
        /bad\.yaml:2:2: SDL_BINARY: /,
      ],
      ['yaml', scratchFile('broken.yaml', 'version: "2.0\n'), /broken\.yaml:\d+:\d+: SDL_YAML: /],
      [
        'dup',
        scratchFile('dup.yaml', 'version: "2.0"\nversion: "2.1"\n'),
        /dup\.yaml:2:1: SDL_DUPLICATE_KEY: mapping key "version" already defined at line 1$/,
      ],
      ['bomb', scratchFile('bomb.yaml', bomb), /bomb\.yaml:\d+:\d+: SDL_ALIAS_LIMIT: /],
      ['big', scratchFile('big.yaml', `a: ${'x'.repeat(1024 * 1024)}\n`), /big\.yaml:1:1: SDL_TOO_LARGE: /],
    ];
    for (const [label, path, pattern] of cases) {
      const r = await runCaptured(['sdl', 'validate', path]);
      assert.equal(r.code, 1, label);
      assert.match(r.stderr.trimEnd(), pattern, label);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${label}: stack trace`);
    }
  });

  it('refuses oversized stdin without reading it all', async () => {
    const r = await runCaptured(['sdl', 'validate', '-'], new Uint8Array(2 * 1024 * 1024).fill(0x61));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^<stdin>:1:1: SDL_TOO_LARGE: /);
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await runCaptured(['sdl', 'validate'])).code, 2);
  });
});

describe('akash-ip sdl manifest | groups | version', () => {
  it('prints the manifest as indented Go JSON', async () => {
    const file = join(SDK, 'input/v2.1/shared-ip/input.yaml');
    const r = await runCaptured(['sdl', 'manifest', file]);
    assert.equal(r.code, 0);
    const expected = readFileSync(join(SDK, 'output-fixtures/v2.1/shared-ip/manifest.json'), 'utf8');
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(expected));
    assert.match(r.stdout, /^\[\n {2}\{\n {4}"name": "global",/);
  });

  it('prints the group specs', async () => {
    const file = join(SDK, 'input/v2.0/ip-endpoint/input.yaml');
    const r = await runCaptured(['sdl', 'groups', file]);
    assert.equal(r.code, 0);
    const expected = readFileSync(join(SDK, 'output-fixtures/v2.0/ip-endpoint/group-specs.json'), 'utf8');
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(expected));
  });

  it('prints the version hash', async () => {
    const r = await runCaptured(['sdl', 'version', join(SDK, 'input/v2.0/ip-endpoint/input.yaml')]);
    assert.deepEqual(r, {
      code: 0,
      stdout: 'aa2046c89e083b0fd7a6b7c47246a6bc5f53f254a5dacd3ac3ec5150e992560d\n',
      stderr: '',
    });
  });

  it('exits 1 without output for an invalid SDL', async () => {
    const r = await runCaptured(['sdl', 'manifest', join(SDK, 'input/invalid/invalid-port.yaml')]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /SDL_PORT_RANGE: invalid manifest: service "web": port value must be 0 < value <= 65535 \n/,
    );
  });
});

describe('the akash-ip process', () => {
  it('reads stdin and sets the exit code', () => {
    const main = join(ROOT, 'src/cli/main.ts');
    const ok = spawnSync(process.execPath, ['--import', 'tsx', main, 'sdl', 'version', '-'], {
      input: readFileSync(EXAMPLE),
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^[0-9a-f]{64}\n$/);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', main, 'sdl', 'validate', '-'], {
      input: 'version: "1.5"\n',
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, '');
    assert.match(
      bad.stderr,
      /^<stdin>:1:10: SDL_VERSION: SDL invalid: config: unsupported version "1.5.0"\n/,
    );
  });
});
