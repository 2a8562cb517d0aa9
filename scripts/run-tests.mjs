#!/usr/bin/env node
// Node 20's test runner does not expand globs, and a bare `node --test` at the root
// wanders into node_modules; so the file list is built here and handed over explicitly.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'test'];
const filter = process.argv.slice(2);

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = roots
  .flatMap((root) => collect(root, []))
  .filter((file) => filter.length === 0 || filter.some((part) => file.includes(part)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    './test/support/fast-check-seed.ts',
    '--test',
    '--test-force-exit',
    '--test-timeout=120000',
    // Node 20's runner drops some subtest reports when files run side by side (the counts in its summary
    // vary from run to run), so files run one at a time and every test is counted.
    '--test-concurrency=1',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
