/**
 * The daemon crash test's child: `node --import tsx crash-worker.ts <db> <log> <seed> <first-step>` runs
 * the daemon crash scenario through a provider service on a SQLite store forever, appending each step
 * number to <log> once the step is done, until the parent kills it with SIGKILL.
 *
 * It writes a stdout line after every commit, not every step, and the parent kills after a random number
 * of lines: so kills land just after a commit, exactly where a step that wrote twice would be cut in half.
 */
import { appendFileSync, writeSync } from 'node:fs';
import type { LeaseStore } from '../lease/index.js';
import { openSqliteStore } from '../store/index.js';
import { clockAt, crashService, runDaemonStep } from './crash-scenario.js';

const [path, log, seedText, firstText] = process.argv.slice(2);
if (path === undefined || log === undefined || seedText === undefined || firstText === undefined) {
  throw new Error('usage: crash-worker <db> <log> <seed> <first-step>');
}
const seed = Number(seedText);
let step = Number(firstText);
const opened = openSqliteStore({ path });
if (!opened.ok) throw new Error(opened.error.message);
const sqlite = opened.value;
const store: LeaseStore = {
  load: () => sqlite.load(),
  async commit(change) {
    const committed = await sqlite.commit(change);
    // synchronous, so the line has left before the next commit begins
    writeSync(1, 'committed\n');
    return committed;
  },
  queryAudit: (query) => sqlite.queryAudit(query),
  documents: (namespace) => sqlite.documents(namespace),
  close: () => sqlite.close(),
};
const built = await crashService(store, () => clockAt(step));
if (!built.ok) throw new Error(built.error.message);
const { service, chain } = built.value;
for (;;) {
  await runDaemonStep(service, chain, seed, step);
  appendFileSync(log, `${step}\n`);
  step += 1;
}
