/** The console's bundle budget (bench/console.bench.ts measures it with the first load). */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

const BUDGET_KIB = 260;

describe('console bundle', () => {
  it(`stays within ${BUDGET_KIB} KiB gzipped`, () => {
    assert.ok(
      existsSync('dist/console/app.js'),
      'dist/console is missing: run `npm run build` first (npm test does)',
    );
    const size = gzipSync(readFileSync('dist/console/app.js'), { level: 9 }).length / 1024;
    assert.ok(
      size <= BUDGET_KIB,
      `app.js is ${size.toFixed(1)} KiB gzipped, over the ${BUDGET_KIB} KiB budget`,
    );
  });

  it('bundles no Node built-in (the SDL engine runs in the page as is)', () => {
    const code = readFileSync('dist/console/app.js', 'utf8');
    assert.doesNotMatch(code, /\bfrom\s*"node:|require\("node:/);
  });
});
