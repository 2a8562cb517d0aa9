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
    '--test-timeout=120000',
    // No --test-force-exit: with it, Node's runner drops already-run verdicts at a file's end and still exits
    // 0 (nodejs/node#64833; here the SDL parity file lost 12 of its 195 cases at random). Files also run one at
    // a time, since Node 20 loses subtest reports from files run side by side. Every test is counted.
    '--test-concurrency=1',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
