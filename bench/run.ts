/**
 * `npm run bench [-- --json] [suite-name-part...]`: runs every `bench/*.bench.ts`,
 * printing a table per suite, or one JSON object per measure with `--json`.
 * With several suites each runs in a process of its own, so that one suite's heap and JIT
 * state (a million-address allocator, say) never colours the next one's figures.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Measure, Suite } from './harness.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const filters = args.filter((arg) => !arg.startsWith('--'));
const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((part) => file.includes(part)))
  .sort();

if (suites.length > 1) {
  for (const file of suites) {
    const child = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        ...args.filter((arg) => arg.startsWith('--')),
        file,
      ],
      {
        stdio: 'inherit',
      },
    );
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
  process.exit(0);
}

for (const file of suites) {
  const module = (await import(pathToFileURL(join(here, file)).href)) as { default: Suite };
  const measures: Measure[] = [];
  await module.default((measure) => {
    measures.push(measure);
    if (json) process.stdout.write(`${JSON.stringify(measure)}\n`);
  });
  if (!json) {
    process.stdout.write(`\n${file}\n`);
    const width = Math.max(...measures.map((m) => m.name.length), 4);
    for (const m of measures) {
      const value = Number.isInteger(m.value) ? String(m.value) : m.value.toFixed(3);
      process.stdout.write(`  ${m.name.padEnd(width)}  ${value.padStart(12)} ${m.unit}\n`);
    }
  }
}
