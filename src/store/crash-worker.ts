/**
 * The crash test's child: `node --import tsx crash-worker.ts <db> <log> <seed> <first-step>` runs the
 * crash scenario on a SQLite store forever, appending each step number to <log> once the step's
 * change is committed, until the parent kills it with SIGKILL.
 */
import { appendFileSync, writeSync } from 'node:fs';
import { createLeaseEngine } from '../lease/index.js';
import { PROVIDER } from '../lease/testing.js';
import { CRASH_POOLS, CRASH_QUARANTINE_MS, clockAt, runStep } from './crash-scenario.js';
import { openSqliteStore } from './index.js';

const [path, log, seedText, firstText] = process.argv.slice(2);
if (path === undefined || log === undefined || seedText === undefined || firstText === undefined) {
  throw new Error('usage: crash-worker <db> <log> <seed> <first-step>');
}
const seed = Number(seedText);
let step = Number(firstText);
let now = clockAt(step);
const store = openSqliteStore({ path });
if (!store.ok) throw new Error(store.error.message);
const engine = await createLeaseEngine({
  store: store.value,
  provider: PROVIDER,
  pools: CRASH_POOLS,
  quarantineMs: CRASH_QUARANTINE_MS,
  now: () => now,
});
if (!engine.ok) throw new Error(engine.error.message);
for (;;) {
  now = clockAt(step);
  await runStep(engine.value, seed, step);
  appendFileSync(log, `${step}\n`);
  // A synchronous write: the loop never yields, so an asynchronous pipe write would never leave.
  writeSync(1, `${step}\n`);
  step += 1;
}
