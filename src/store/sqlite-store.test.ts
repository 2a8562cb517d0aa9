import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Result } from '../errors/index.js';
import { createLeaseEngine, storeChange } from '../lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../lease/testing.js';
import { holderPathOf, openSqliteStore, SCHEMA_VERSION } from './index.js';
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

  it('upgrades a version-2 file (reservations of one family) so it takes dual-stack reservations, keeping its rows', async () => {
    const path = freshPath();
    const store = unwrap(openSqliteStore({ path }));
    const v4 = { id: 'akash1owner/1/1/1', owner: 'akash1owner', count: 2, family: 'v4' as const, at: 3 };
    unwrap(await store.commit(storeChange({ reservations: [v4] })));
    await store.close();
    const db = new Database(path);
    // the version-2 table, as shipped
    db.exec(`
      DROP TABLE reservations;
      CREATE TABLE reservations (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, count INTEGER NOT NULL CHECK (count > 0),
        family TEXT NOT NULL CHECK (family IN ('v4', 'v6')), at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      INSERT INTO reservations VALUES ('akash1owner/1/1/1', 'akash1owner', 2, 'v4', 3);
      UPDATE schema_version SET version = 2;
    `);
    assert.throws(() =>
      db.prepare("INSERT INTO reservations VALUES ('akash1owner/2/1/1', 'akash1owner', 1, 'dual', 4)").run(),
    );
    db.close();
    const upgraded = unwrap(openSqliteStore({ path }));
    assert.deepEqual(unwrap(await upgraded.load()).reservations, [v4]);
    const dual = { id: 'akash1owner/2/1/1', owner: 'akash1owner', count: 1, family: 'dual' as const, at: 4 };
    unwrap(await upgraded.commit(storeChange({ reservations: [dual] })));
    assert.deepEqual(unwrap(await upgraded.load()).reservations, [v4, dual]);
    await upgraded.close();
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

  it('creates its files for their owner only: the database, its journal and holder file 0600, its folder 0700', async () => {
    const path = freshPath();
    const store = unwrap(openSqliteStore({ path }));
    unwrap(await store.commit(storeChange({ documents: [{ namespace: 'n', key: 'k', json: '{}' }] })));
    const mode = (file: string) => statSync(file).mode & 0o777;
    assert.equal(mode(dirname(path)), 0o700);
    for (const file of [path, `${path}-wal`, holderPathOf(path)]) assert.equal(mode(file), 0o600, file);
    await store.close();
    // a file an earlier build left world-readable is narrowed on the next open
    chmodSync(path, 0o644);
    const reopened = unwrap(openSqliteStore({ path }));
    assert.equal(mode(path), 0o600);
    await reopened.close();
  });

  it('is held by one opener at a time: the next is refused with the holder named', async () => {
    const path = freshPath();
    const store = unwrap(openSqliteStore({ path }));
    const second = openSqliteStore({ path });
    assert.equal(second.ok ? 'ok' : second.error.code, 'STORE_LOCKED');
    assert.match(
      second.ok ? '' : second.error.message,
      new RegExp(`in use by process ${process.pid} \\(since `),
    );
    await store.close();
    assert.equal(existsSync(holderPathOf(path)), false, 'a clean close removes the holder file');
    const third = unwrap(openSqliteStore({ path }));
    await third.close();
    // readers that know what they do (diagnostics) may share a store that no one holds
    const shared = [
      unwrap(openSqliteStore({ path, shared: true })),
      unwrap(openSqliteStore({ path, shared: true })),
    ];
    for (const open of shared) await open.close();
  });

  it('is free again once its holder is killed (SIGKILL): the lock dies with the process', async () => {
    const path = freshPath();
    const worker = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./crash-worker.ts', import.meta.url).pathname,
        path,
        `${path}.log`,
        '7',
        '1',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    try {
      // the worker writes a line per committed step, so its first line means it holds the store
      await new Promise((resolve) => worker.stdout.once('data', resolve));
      const refused = openSqliteStore({ path });
      assert.equal(refused.ok ? 'ok' : refused.error.code, 'STORE_LOCKED');
      assert.match(refused.ok ? '' : refused.error.message, new RegExp(`process ${worker.pid} `));
    } finally {
      worker.kill('SIGKILL');
      await exited;
    }
    const after = unwrap(openSqliteStore({ path }));
    assert.ok(unwrap(await after.load()).leases.length > 0);
    await after.close();
  });
});
