import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ipam from './index.js';

describe('ipam door', () => {
  it('exports the allocator factory and the address and interval helpers', () => {
    for (const name of [
      'createAllocator',
      'parseAddress',
      'formatAddress',
      'parsePoolSpec',
      'subtract',
      'union',
    ]) {
      assert.equal(typeof (ipam as Record<string, unknown>)[name], 'function', name);
    }
  });

  it('stays pure: no module imports node built-ins or adapters', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const sources = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    for (const file of sources) {
      const imports = [...readFileSync(`${here}/${file}`, 'utf8').matchAll(/from '([^']+)'/g)].map(
        (m) => m[1]!,
      );
      for (const spec of imports) {
        assert.ok(spec.startsWith('./') || spec === '../errors/index.js', `${file} imports ${spec}`);
      }
    }
  });
});
