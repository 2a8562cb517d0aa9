import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

// A dependency without an `engines` field can install fine and still crash on import under Node 20
// (client-node 2.x did): importing each one is the only check that catches it.
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};

const entryPoints: Record<string, string> = {
  '@noble/curves': '@noble/curves/secp256k1.js',
  '@noble/hashes': '@noble/hashes/sha2.js',
};

describe('runtime dependencies', () => {
  for (const name of Object.keys(manifest.dependencies)) {
    it(`imports ${name} on this Node`, async () => {
      const loaded: unknown = await import(entryPoints[name] ?? name);
      assert.ok(loaded !== null && typeof loaded === 'object');
    });
  }
});
