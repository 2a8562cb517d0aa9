import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Result } from '../errors/index.js';
import { declarationsOf, leaseKey } from '../lease/index.js';
import { runUntilKilled } from '../store/crash-harness.js';
import { openSqliteStore } from '../store/index.js';
import { clockAt, crashService } from './crash-scenario.js';
import { loadManifests } from './manifest-store.js';

const KILLS = 8;
const worker = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'akash-ip-daemon-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

it(`after ${KILLS} SIGKILLs during deploys, updates and closes, addresses and manifests still agree`, async (t) => {
  const seed = Date.now() % 100_000;
  let rng = seed;
  const random = () => {
    rng = (rng * 1103515245 + 12345) % 2147483648;
    return rng / 2147483648;
  };
  const db = join(dir, 'provider.db');
  const log = join(dir, 'steps.log');
  let position = 0;
  let most = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    await runUntilKilled(worker, [db, log, String(seed), String(position)], 1 + Math.floor(random() * 60));
    // a kill before the first step's end leaves no log yet
    const logged = existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
      : [];
    const last = logged.length === 0 ? position - 1 : Number(logged.at(-1));
    position = last + 1;
    const context = `seed ${seed}, kill ${kill}, last logged step ${last}`;

    const integrity = new Database(db, { readonly: true });
    assert.equal(integrity.pragma('integrity_check', { simple: true }), 'ok', context);
    integrity.close();

    const store = unwrap(openSqliteStore({ path: db }));
    const { service } = unwrap(await crashService(store, () => clockAt(position)));
    assert.equal(store.totalChanges(), 0, `the restart wrote (${context})`);
    assert.deepEqual(await service.engine.check(), [], context);

    const manifests = new Map(unwrap(await loadManifests(store)).map((lease) => [leaseKey(lease.id), lease]));
    const active = service.engine.leases({ state: 'active' });
    assert.deepEqual(
      active.map((lease) => lease.key).sort(),
      [...manifests.keys()].sort(),
      `the leases active in the engine are not those with a manifest (${context})`,
    );
    for (const lease of active) {
      const manifest = manifests.get(lease.key);
      assert.equal(lease.group, manifest?.group.name, context);
      assert.deepEqual(
        lease.declarations,
        manifest === undefined ? undefined : unwrap(declarationsOf(manifest.group)),
        `${lease.key}'s endpoints are not those of its manifest (${context})`,
      );
    }
    const held = new Set(unwrap(await store.load()).allocations.map((allocation) => allocation.lease));
    for (const key of held)
      assert.ok(manifests.has(key), `${key} holds addresses without a manifest (${context})`);
    most = Math.max(most, manifests.size);
    await store.close();
  }
  assert.ok(position > 0, 'the worker made progress');
  assert.ok(most > 0, 'some lease was deployed');
  t.diagnostic(`seed ${seed}: ${position} steps; at most ${most} leases deployed at once`);
});
