import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Result } from '../errors/index.js';
import { type AuditEvent, createLeaseEngine, type LeaseEngine, type LeaseStore } from '../lease/index.js';
import { PROVIDER } from '../lease/testing.js';
import { runUntilKilled } from './crash-harness.js';
import { CRASH_POOLS, CRASH_QUARANTINE_MS, clockAt, runStep } from './crash-scenario.js';
import { createMemoryStore, openSqliteStore } from './index.js';
import { canonical, normalizeSnapshot } from './store.contract.js';

const KILLS = 20;
const worker = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'akash-ip-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function auditOf(store: LeaseStore): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (;;) {
    const page = unwrap(await store.queryAudit({ afterId: events.at(-1)?.id ?? 0, limit: 10_000 }));
    events.push(...page);
    if (page.length < 10_000) return events;
  }
}

async function stateOf(store: LeaseStore): Promise<string> {
  return JSON.stringify({
    snapshot: normalizeSnapshot(unwrap(await store.load())),
    audit: canonical(await auditOf(store)),
  });
}

// 20 fresh workers one after another: its own budget, so a loaded machine's slower starts do not end it early
it(`survives ${KILLS} SIGKILLs at random points with every committed step and no address held twice`, {
  timeout: 300_000,
}, async (t) => {
  const seed = Date.now() % 100_000;
  let rng = seed;
  const random = () => {
    rng = (rng * 1103515245 + 12345) % 2147483648;
    return rng / 2147483648;
  };
  const db = join(dir, 'leases.db');
  const log = join(dir, 'steps.log');
  const model = createMemoryStore();
  let modelNow = clockAt(0);
  let modelEngine: LeaseEngine | undefined;
  let position = 0;
  let aheadOfLog = 0;
  const options = { provider: PROVIDER, pools: CRASH_POOLS, quarantineMs: CRASH_QUARANTINE_MS };
  const advanceTo = async (last: number) => {
    for (; position <= last; position++) {
      modelNow = clockAt(position);
      await runStep(modelEngine!, seed, position);
    }
  };
  for (let kill = 0; kill < KILLS; kill++) {
    modelNow = clockAt(position);
    modelEngine = unwrap(await createLeaseEngine({ ...options, store: model, now: () => modelNow }));
    await runUntilKilled(worker, [db, log, String(seed), String(position)], 1 + Math.floor(random() * 120));
    const logged = readFileSync(log, 'utf8').trim().split('\n').map(Number);
    const last = logged.at(-1) ?? position - 1;
    const context = `seed ${seed}, kill ${kill}, last logged step ${last}`;

    const integrity = new Database(db, { readonly: true });
    assert.equal(integrity.pragma('integrity_check', { simple: true }), 'ok', context);
    integrity.close();

    const store = unwrap(openSqliteStore({ path: db }));
    const snapshot = unwrap(await store.load());
    const holders = new Set<string>();
    for (const allocation of snapshot.allocations) {
      for (const address of allocation.addresses) {
        assert.ok(!holders.has(address), `${address} held twice (${context})`);
        holders.add(address);
      }
    }
    for (const entry of snapshot.quarantine)
      assert.ok(!holders.has(entry.address), `quarantined ${entry.address} held`);

    const observed = await stateOf(store);
    await advanceTo(last);
    if (observed !== (await stateOf(model))) {
      await advanceTo(last + 1);
      aheadOfLog += 1;
      assert.equal(
        observed,
        await stateOf(model),
        `the store matches neither step ${last} nor ${last + 1} (${context})`,
      );
    }
    const restarted = unwrap(await createLeaseEngine({ ...options, store, now: () => clockAt(position) }));
    assert.equal(store.totalChanges(), 0, `the restart wrote (${context})`);
    assert.deepEqual(await restarted.check(), [], context);
    await store.close();
  }
  assert.ok(position > KILLS, 'the worker made progress');
  t.diagnostic(`seed ${seed}: ${position} steps; ${aheadOfLog} kills fell between a commit and its log line`);
});
