import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Result } from '../errors/index.js';
import { createLeaseEngine, storeChange } from '../lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../lease/testing.js';
import { openSqliteStore, SCHEMA_VERSION } from './index.js';
import { runLeaseStoreContract } from './store.contract.js';

const base = mkdtempSync(join(tmpdir(), 'akash-ip-sqlite-'));
after(() => rmSync(base, { recursive: true, force: true }));
let files = 0;

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function freshPath(): string {
  files += 1;
  return join(base, `store-${files}`, 'leases.db');
}

runLeaseStoreContract(
  'sqlite',
  async () => {
    const path = freshPath();
    const store = unwrap(openSqliteStore({ path }));
    return {
      store,
      reopen: async () => {
        await store.close();
        return unwrap(openSqliteStore({ path }));
      },
    };
  },
  { persistent: true },
);

describe('SQLite store', () => {
  it('runs in WAL mode with synchronous=FULL, foreign keys and a busy timeout', async () => {
    const store = unwrap(openSqliteStore({ path: freshPath(), busyTimeoutMs: 1234 }));
    assert.deepEqual(store.pragmas(), {
      journalMode: 'wal',
      synchronous: 2,
      foreignKeys: true,
      busyTimeoutMs: 1234,
    });
    await store.close();
  });

  it('records the schema version and opens an up-to-date file without writing', async () => {
    const path = freshPath();
    await unwrap(openSqliteStore({ path })).close();
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare('SELECT version FROM schema_version').all(), [{ version: SCHEMA_VERSION }]);
    db.close();
    const store = unwrap(openSqliteStore({ path }));
    unwrap(await store.load());
    assert.equal(store.totalChanges(), 0);
    await store.close();
  });

  it('upgrades a version-1 file (before documents) in place, keeping its data', async () => {
    const path = freshPath();
    const store = unwrap(openSqliteStore({ path }));
    const engine = unwrap(
      await createLeaseEngine({
        store,
        provider: PROVIDER,
        pools: [{ name: 'default', addresses: ['203.0.113.0/28'] }],
        now: () => 5,
      }),
    );
    unwrap(
      await engine.deploy(
        leaseOf('akash1owner', 1),
        manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }] }),
      ),
    );
    const before = unwrap(await store.load());
    await store.close();
    const db = new Database(path);
    db.exec('DROP TABLE documents; UPDATE schema_version SET version = 1');
    db.close();
    const upgraded = unwrap(openSqliteStore({ path }));
    assert.deepEqual(unwrap(await upgraded.load()), before);
    unwrap(
      await upgraded.commit(storeChange({ documents: [{ namespace: 'manifest', key: 'k', json: '{}' }] })),
    );
    assert.deepEqual(unwrap(await upgraded.documents('manifest')), [{ key: 'k', json: '{}' }]);
    await upgraded.close();
    const check = new Database(path, { readonly: true });
    assert.deepEqual(check.prepare('SELECT version FROM schema_version').all(), [
      { version: SCHEMA_VERSION },
    ]);
    check.close();
  });

  it('refuses a file from a newer build', async () => {
    const path = freshPath();
    await unwrap(openSqliteStore({ path })).close();
    const db = new Database(path);
    db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    db.close();
    const opened = openSqliteStore({ path });
    assert.equal(opened.ok ? 'ok' : opened.error.code, 'STORE_CORRUPT');
  });

  it('applies migrations in one transaction: a failing one leaves no trace', async () => {
    const path = freshPath();
    const first = unwrap(openSqliteStore({ path }));
    await first.close();
    rmSync(path);
    const db = new Database(path);
    db.exec('CREATE TABLE audit (x INTEGER)');
    db.close();
    const opened = openSqliteStore({ path });
    assert.equal(opened.ok, false);
    const check = new Database(path, { readonly: true });
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    check.close();
    assert.deepEqual(tables, [{ name: 'audit' }]);
  });

  it('refuses a file that is not a database', () => {
    const path = freshPath();
    unwrap(openSqliteStore({ path }));
    rmSync(path);
    for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
    writeFileSync(path, 'not a database, just text that is long enough to fill a header page '.repeat(100));
    const opened = openSqliteStore({ path });
    assert.equal(opened.ok ? 'ok' : opened.error.code, 'STORE_CORRUPT');
  });

  it('rebuilds an engine after a restart with zero row changes', async () => {
    const path = freshPath();
    const options = {
      provider: PROVIDER,
      pools: [{ name: 'default', addresses: ['203.0.113.0/24'] }],
      now: () => 5,
    };
    const store = unwrap(openSqliteStore({ path }));
    const engine = unwrap(await createLeaseEngine({ ...options, store }));
    const group = manifestGroup('dcloud', {
      web: [
        { port: 80, ip: 'web' },
        { port: 443, ip: 'web' },
      ],
    });
    for (let dseq = 1; dseq <= 20; dseq++)
      unwrap(await engine.deploy(leaseOf(`akash1owner${dseq % 7}`, dseq), group));
    unwrap(await engine.close(leaseOf('akash1owner3', 3)));
    await store.close();
    const reopened = unwrap(openSqliteStore({ path }));
    const again = unwrap(await createLeaseEngine({ ...options, store: reopened }));
    assert.equal(reopened.totalChanges(), 0);
    assert.equal(again.leases({ state: 'active' }).length, 19);
    assert.deepEqual(again.inventory(), engine.inventory());
    assert.deepEqual(await again.check(), []);
    await reopened.close();
  });
});
