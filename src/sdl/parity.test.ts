import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { sdlFixture } from '../../test/support/sdl-fixtures.js';
import { goJson, parseSdl, type SdlResult, sortedJson } from './index.js';

const DATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const SDK = sdlFixture('peer/chain-sdk/testdata/sdl');

type GoResult = { ok: true; version: string; groups: string } | { ok: false; error: string };
const GO: Record<string, GoResult> = JSON.parse(readFileSync(join(DATA, 'go-results.json'), 'utf8'));

/** Derived manifest versions of the Go parity fixtures (peer fixtures README, §1.1). */
const VERSIONS: Record<string, string> = {
  'v2.0/ip-endpoint': 'aa2046c89e083b0fd7a6b7c47246a6bc5f53f254a5dacd3ac3ec5150e992560d',
  'v2.1/ip-endpoint': '94563c52dacf48f4a5a8f0413e7e479bc5273f4acd6c41c4c16405b78456fbfd',
  'v2.1/shared-ip': '4d7c14fc64377c78220ed54eb0a1ddbeac5f79f19edac7dc1a3306acbfa1d999',
  'v2.0/simple': '8f8bac7161953993f3288189e3e76093a51d33f9cdff1c8242eb9ab506981737',
  'v2.0/multiple-services': '27bca68b1c45773b3a9ee6b2d4938d48c784abe068d3e2c6ba143c5f79b209e0',
  'v2.0/port-ranges': 'd776416f4651ce8279a63905135ec87e6cde1aa8413af735bebfb9adfdf294f2',
  'v2.0/http-options': '0f9e29adabc263d07fa70a66bbd4da42d7b36f323f775ea2adcabea865c77d30',
  'v2.0/gpu-basic': 'b388e6d97d15c37fc87ba0e9a555250941f7e1a04be768984cfa829a9500be47',
  'v2.0/persistent-storage': 'b6fc0503f97fd6dbf581ed7fbb98e9a73dc7058318d5c714e43baf6e0eeb7ce3',
  'v2.0/placement': '4fb78efa60477b1859498b9d2d09bc1d55ec4cf5450da5560acc6d294da86b4e',
  'v2.0/pricing': 'a024307ec1445576274beab37fc46a7f2a3ee32921e03be3d26798472f4bff25',
  'v2.0/storage-classes': '77227e370844c081af3e291af16f900488792837ee43da340e962f469d2d30cc',
  'v2.1/credentials': '9b7070ebba84bcfe5f2cc00c53b2fc3a8fe6466fb688dc33c0eef5e0095c79ac',
  'v2.1/tee-cpu': '8c58e5f80338c57f1b17780f7386512116e97b912e228f47d44cae49cfd0e63b',
  'v2.1/tee-cpu-gpu': 'fe34c2360839d3bbe3e72108b1dfd724cbebe21d491423babbf5d8ee28046818',
};

/** Go names one of several offending entries by random map order; we name a fixed one. */
const RANDOM_IN_GO: Record<string, RegExp> = {
  'peer/chain-sdk/go/sdl/_testdata/storageClass4.yaml':
    /^sdl: duplicated mount point: mount "\/etc\/nginx" already in use by volume "(config|data)"$/,
};

function parseFile(path: string, strict = false): SdlResult {
  return parseSdl(readFileSync(path), { file: path, strict });
}

function assertPositioned(result: SdlResult, lines: number): void {
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.ok(result.error.length > 0);
  for (const d of result.error) {
    assert.match(d.code, /^SDL_/);
    assert.ok(d.line >= 1 && d.line <= lines + 1, `line ${d.line} outside 1..${lines + 1}`);
    assert.ok(d.col >= 1, `col ${d.col}`);
    assert.equal(d.severity, 'error');
  }
}

describe('Go output fixtures: manifest.json, group-specs.json and the version hash', () => {
  for (const version of ['v2.0', 'v2.1']) {
    for (const name of readdirSync(join(SDK, 'input', version)).sort()) {
      it(`${version}/${name}`, () => {
        const result = parseFile(join(SDK, 'input', version, name, 'input.yaml'));
        assert.ok(result.ok, result.ok ? '' : result.error.map((d) => d.message).join('\n'));
        assert.deepEqual(result.warnings, []);
        const expected = (file: string) =>
          JSON.parse(readFileSync(join(SDK, 'output-fixtures', version, name, file), 'utf8'));
        assert.deepEqual(JSON.parse(goJson(result.value.manifest)), expected('manifest.json'));
        assert.deepEqual(JSON.parse(goJson(result.value.groups)), expected('group-specs.json'));
        assert.equal(result.value.manifestVersion, VERSIONS[`${version}/${name}`]);
      });
    }
  }
});

describe('every fixture file behaves as the Go reference does with it', () => {
  for (const [file, go] of Object.entries(GO)) {
    it(file, () => {
      const path = sdlFixture(file);
      const result = parseFile(path);
      if (go.ok) {
        assert.ok(result.ok, result.ok ? '' : result.error.map((d) => d.message).join('\n'));
        assert.equal(result.value.manifestVersion, go.version);
        assert.equal(bytesToHex(sha256(utf8ToBytes(sortedJson(result.value.groups)))), go.groups);
        return;
      }
      assertPositioned(result, readFileSync(path, 'utf8').split('\n').length);
      if (result.ok) return;
      const random = RANDOM_IN_GO[file];
      if (random) assert.match(result.error[0]!.message, random);
      else assert.equal(result.error[0]!.message, go.error);
    });
  }
});

describe('schema-only-invalid fixtures', () => {
  const dir = join(SDK, 'input/schema-only-invalid');
  for (const name of readdirSync(dir).sort()) {
    it(`${name}: accepted with a schema warning, rejected with strict`, () => {
      const loose = parseFile(join(dir, name));
      assert.ok(loose.ok);
      assert.ok(
        loose.warnings.some((w) => w.code === 'SDL_SCHEMA' && w.severity === 'warning' && w.line > 1),
      );
      const strict = parseFile(join(dir, name), true);
      assert.equal(strict.ok, false);
      if (!strict.ok) assert.ok(strict.error.every((d) => d.code === 'SDL_SCHEMA'));
    });
  }

  it('the Go parity inputs pass the schema rules, so strict accepts them', () => {
    for (const version of ['v2.0', 'v2.1']) {
      for (const name of readdirSync(join(SDK, 'input', version))) {
        const strict = parseFile(join(SDK, 'input', version, name, 'input.yaml'), true);
        assert.ok(
          strict.ok,
          `${version}/${name}: ${strict.ok ? '' : strict.error.map((d) => d.message).join('; ')}`,
        );
      }
    }
  });
});
