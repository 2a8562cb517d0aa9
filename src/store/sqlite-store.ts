/**
 * The SQLite lease store (better-sqlite3): WAL journal, synchronous=FULL, foreign keys on, a busy
 * timeout, and forward-only schema migrations. The schema itself refuses double allocation: an address
 * has one holder (PRIMARY KEY), an address's port and protocol one binding (PRIMARY KEY), an owner's
 * endpoint name one allocation (UNIQUE), and an address is never both allocated and quarantined (triggers).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AppError, appError, fail, ok, type Result, withCause } from '../errors/index.js';
import type { FamilyRequest, PortBinding, Protocol, QuarantineEntry } from '../ipam/index.js';
import {
  type AllocationRecord,
  type AuditAction,
  type AuditEvent,
  type AuditQuery,
  type Declaration,
  type EndpointRecord,
  type LeaseRecord,
  type LeaseStore,
  leaseKey,
  type ReservationRecord,
  type StoreChange,
  type StoreSnapshot,
} from '../lease/index.js';
import { auditPage } from './audit.js';
import {
  openSqliteFile,
  PRIVATE_FILE_MODE,
  type SqliteDatabase,
  type SqliteStatement,
} from './sqlite-file.js';

/** Schema migrations, applied in order, each once; never edit a shipped one, append a new one. */
const MIGRATIONS: readonly string[] = [
  // Keyed tables are WITHOUT ROWID and carry only the indexes a constraint or a query needs: every
  // page a commit touches is written to the WAL and synced, so fewer pages is faster commits.
  `
  CREATE TABLE leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    dseq TEXT NOT NULL,
    gseq INTEGER NOT NULL,
    oseq INTEGER NOT NULL,
    provider TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'closed')),
    group_name TEXT NOT NULL,
    declarations TEXT NOT NULL,
    endpoints TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE allocations (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pool TEXT NOT NULL,
    lease TEXT NOT NULL REFERENCES leases (key),
    endpoint TEXT NOT NULL,
    UNIQUE (owner, endpoint)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE addresses (
    address TEXT PRIMARY KEY,
    key TEXT NOT NULL REFERENCES allocations (key) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    UNIQUE (key, ord)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE bindings (
    address TEXT NOT NULL REFERENCES addresses (address) ON DELETE CASCADE,
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    protocol TEXT NOT NULL CHECK (protocol IN ('TCP', 'UDP')),
    PRIMARY KEY (address, port, protocol)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE quarantine (
    address TEXT PRIMARY KEY,
    pool TEXT NOT NULL,
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    until INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TRIGGER allocated_not_quarantined BEFORE INSERT ON addresses
  WHEN EXISTS (SELECT 1 FROM quarantine WHERE address = NEW.address)
  BEGIN SELECT RAISE(ABORT, 'address is quarantined'); END;

  CREATE TRIGGER quarantined_not_allocated BEFORE INSERT ON quarantine
  WHEN EXISTS (SELECT 1 FROM addresses WHERE address = NEW.address)
  BEGIN SELECT RAISE(ABORT, 'address is allocated'); END;

  CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count > 0),
    family TEXT NOT NULL CHECK (family IN ('v4', 'v6')),
    at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  -- Rows are never deleted, so the rowid only grows and orders the trail.
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease TEXT NOT NULL,
    endpoint TEXT,
    address TEXT,
    port INTEGER,
    protocol TEXT,
    detail TEXT
  ) STRICT;
  CREATE INDEX audit_by_owner ON audit (owner, id);
  CREATE INDEX audit_by_address ON audit (address, id) WHERE address IS NOT NULL;
  CREATE INDEX audit_by_lease ON audit (lease, id);
  `,
  // The caller's records committed with lease changes (the daemon's manifests). A rowid table: a
  // manifest is kilobytes, and WITHOUT ROWID suits only rows far smaller than a page.
  `
  CREATE TABLE documents (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
  ) STRICT;
  `,
  // Dual-stack reservations (`count` endpoints of one address per family). SQLite cannot change a CHECK
  // in place, so the table is copied.
  `
  CREATE TABLE reservations_dual (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count > 0),
    family TEXT NOT NULL CHECK (family IN ('v4', 'v6', 'dual')),
    at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  INSERT INTO reservations_dual SELECT id, owner, count, family, at FROM reservations;
  DROP TABLE reservations;
  ALTER TABLE reservations_dual RENAME TO reservations;
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface SqliteStoreOptions {
  /** The database file; its directory is created if missing. */
  readonly path: string;
  /** How long a write waits for another connection's lock; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * Let other connections open the file too (default: no). A store has one writer: a second daemon on the same
   * file would allocate the same addresses from its own memory and trip the schema's constraints, so by default
   * the store holds the file exclusively and a second opener is refused with STORE_LOCKED naming the holder.
   */
  readonly shared?: boolean;
}

/** `<store>.lock`: who holds the store, for the refusal a second opener gets (the lock itself is SQLite's). */
export function holderPathOf(path: string): string {
  return `${path}.lock`;
}

/** What the holder file says, for a message: "pid 4242 since 2026-…", or nothing readable. */
function holderOf(path: string): string {
  try {
    const holder = JSON.parse(readFileSync(holderPathOf(path), 'utf8')) as { pid?: unknown; since?: unknown };
    if (typeof holder.pid === 'number') {
      return `process ${holder.pid}${typeof holder.since === 'string' ? ` (since ${holder.since})` : ''}`;
    }
  } catch {
    // no holder file, or one cut short: say less
  }
  return 'another process';
}

function storeLocked(path: string): AppError {
  return appError(
    'STORE_LOCKED',
    `the store ${path} is in use by ${holderOf(path)}: another provider daemon runs on it; stop that one, or ` +
      'give this one its own store path',
    { path },
  );
}

/**
 * A thrown SQLite error as ours: a message of our own (it may reach a tenant), SQLite's text as the cause (for the
 * log). A constraint the schema enforces means the change conflicts with what the store holds.
 */
function errorOf(error: unknown, what: string): AppError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  let ours: AppError;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    if (
      message.includes('addresses.address') ||
      message.includes('allocations.owner, allocations.endpoint')
    ) {
      ours = appError('IP_IN_USE', `${what} refused: the store already holds that address or endpoint`);
    } else if (message.includes('bindings.')) {
      ours = appError('PORT_IN_USE', `${what} refused: the store already holds that address's port`);
    } else {
      ours = appError('STORE_CORRUPT', `${what} refused: it breaks a rule of the store's schema`);
    }
  } else if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    ours = appError('STORE_CORRUPT', `${what} failed: the file is damaged or not a database`);
  } else {
    ours = appError('UNAVAILABLE', `${what} failed: the database did not answer as expected`);
  }
  return withCause(ours, error);
}

function migrate(db: SqliteDatabase): Result<void> {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  const row =
    exists === undefined
      ? undefined
      : (db.prepare('SELECT version FROM schema_version').get() as { version: number });
  const current = row?.version ?? 0;
  if (current > SCHEMA_VERSION) {
    return fail(
      appError(
        'STORE_CORRUPT',
        `the database has schema version ${current}; this build knows up to ${SCHEMA_VERSION}`,
      ),
    );
  }
  if (current === SCHEMA_VERSION) return ok(undefined);
  db.transaction(() => {
    if (exists === undefined) {
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT');
      db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    }
    for (let version = current; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]!);
    db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
  })();
  return ok(undefined);
}

function parsePorts(text: string | null): PortBinding[] {
  if (text === null) return [];
  return text.split(',').map((slot) => {
    const at = slot.indexOf('/');
    return { port: Number(slot.slice(0, at)), protocol: slot.slice(at + 1) as Protocol };
  });
}

type LeaseRow = [
  string,
  string,
  number,
  number,
  string,
  'active' | 'closed',
  string,
  string,
  string,
  number,
  number,
  number | null,
];

/** A {@link LeaseStore} on one SQLite file. */
export class SqliteLeaseStore implements LeaseStore {
  private readonly sql: Record<
    | 'leases'
    | 'allocations'
    | 'quarantine'
    | 'reservations'
    | 'upsertLease'
    | 'deleteAllocation'
    | 'deleteAddresses'
    | 'upsertAllocation'
    | 'insertAddress'
    | 'insertBinding'
    | 'deleteQuarantine'
    | 'upsertQuarantine'
    | 'deleteReservation'
    | 'upsertReservation'
    | 'insertAudit'
    | 'documents'
    | 'upsertDocument'
    | 'deleteDocument'
    | 'totalChanges',
    SqliteStatement
  >;
  private readonly auditQueries = new Map<string, SqliteStatement>();

  constructor(
    private readonly db: SqliteDatabase,
    /** The database file. */
    readonly path: string,
    /** The holder file this store wrote (exclusive stores), removed on close. */
    private readonly holderFile?: string,
  ) {
    const raw = (sql: string): SqliteStatement => db.prepare(sql).raw(true);
    this.sql = {
      leases: raw(
        'SELECT owner, dseq, gseq, oseq, provider, state, group_name, declarations, endpoints, created_at, updated_at, closed_at FROM leases',
      ),
      // Ports come with the first address as "80/TCP,443/TCP": one row per address instead of one per binding.
      allocations: raw(
        `SELECT a.key, a.owner, a.pool, a.lease, a.endpoint, d.address,
           CASE WHEN d.ord = 0 THEN (SELECT group_concat(b.port || '/' || b.protocol) FROM bindings b WHERE b.address = d.address) END
         FROM allocations a JOIN addresses d ON d.key = a.key ORDER BY a.key, d.ord`,
      ),
      quarantine: raw('SELECT address, pool, owner, key, until FROM quarantine'),
      reservations: raw('SELECT id, owner, count, family, at FROM reservations'),
      upsertLease: db.prepare(
        `INSERT INTO leases (key, owner, dseq, gseq, oseq, provider, state, group_name, declarations, endpoints, created_at, updated_at, closed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET state = excluded.state, group_name = excluded.group_name,
           declarations = excluded.declarations, endpoints = excluded.endpoints,
           updated_at = excluded.updated_at, closed_at = excluded.closed_at`,
      ),
      deleteAllocation: db.prepare('DELETE FROM allocations WHERE key = ?'),
      deleteAddresses: db.prepare('DELETE FROM addresses WHERE key = ?'),
      upsertAllocation: db.prepare(
        `INSERT INTO allocations (key, owner, pool, lease, endpoint) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, pool = excluded.pool,
           lease = excluded.lease, endpoint = excluded.endpoint`,
      ),
      insertAddress: db.prepare('INSERT INTO addresses (address, key, ord) VALUES (?, ?, ?)'),
      insertBinding: db.prepare('INSERT INTO bindings (address, port, protocol) VALUES (?, ?, ?)'),
      deleteQuarantine: db.prepare('DELETE FROM quarantine WHERE address = ?'),
      upsertQuarantine: db.prepare(
        `INSERT INTO quarantine (address, pool, owner, key, until) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (address) DO UPDATE SET pool = excluded.pool, owner = excluded.owner,
           key = excluded.key, until = excluded.until`,
      ),
      deleteReservation: db.prepare('DELETE FROM reservations WHERE id = ?'),
      upsertReservation: db.prepare(
        `INSERT INTO reservations (id, owner, count, family, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, count = excluded.count,
           family = excluded.family, at = excluded.at`,
      ),
      insertAudit: db.prepare(
        `INSERT INTO audit (at, actor, action, owner, lease, endpoint, address, port, protocol, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      documents: raw('SELECT key, json FROM documents WHERE namespace = ?'),
      upsertDocument: db.prepare(
        `INSERT INTO documents (namespace, key, json) VALUES (?, ?, ?)
         ON CONFLICT (namespace, key) DO UPDATE SET json = excluded.json`,
      ),
      deleteDocument: db.prepare('DELETE FROM documents WHERE namespace = ? AND key = ?'),
      totalChanges: db.prepare('SELECT total_changes() AS n'),
    };
  }

  async load(): Promise<Result<StoreSnapshot>> {
    try {
      return ok(this.read());
    } catch (error) {
      return fail(errorOf(error, 'loading the lease store'));
    }
  }

  // Rows are streamed (iterate), never collected first: at 100k leases that halves the garbage.
  private read(): StoreSnapshot {
    const leases: LeaseRecord[] = [];
    for (const row of this.sql.leases.iterate() as Iterable<LeaseRow>) {
      const [
        owner,
        dseq,
        gseq,
        oseq,
        provider,
        state,
        group,
        declarations,
        endpoints,
        createdAt,
        updatedAt,
        closedAt,
      ] = row;
      const record: LeaseRecord = {
        id: { owner, dseq, gseq, oseq, provider },
        state,
        group,
        declarations: JSON.parse(declarations) as Declaration[],
        endpoints: JSON.parse(endpoints) as EndpointRecord[],
        createdAt,
        updatedAt,
      };
      leases.push(closedAt === null ? record : { ...record, closedAt });
    }
    const allocations: AllocationRecord[] = [];
    let addresses: string[] = [];
    let previous: string | undefined;
    for (const [
      key,
      owner,
      pool,
      lease,
      endpoint,
      address,
      ports,
    ] of this.sql.allocations.iterate() as Iterable<
      [string, string, string, string, string, string, string | null]
    >) {
      if (key === previous) {
        addresses.push(address);
        continue;
      }
      previous = key;
      addresses = [address];
      allocations.push({ key, owner, pool, lease, endpoint, addresses, ports: parsePorts(ports) });
    }
    const quarantine: QuarantineEntry[] = [];
    for (const [address, pool, owner, key, until] of this.sql.quarantine.iterate() as Iterable<
      [string, string, string, string, number]
    >) {
      quarantine.push({ address, pool, owner, key, until });
    }
    const reservations: ReservationRecord[] = [];
    for (const [id, owner, count, family, at] of this.sql.reservations.iterate() as Iterable<
      [string, string, number, FamilyRequest, number]
    >) {
      reservations.push({ id, owner, count, family, at });
    }
    return { leases, allocations, quarantine, reservations };
  }

  async commit(change: StoreChange): Promise<Result<void>> {
    try {
      this.db.transaction(() => this.write(change))();
      return ok(undefined);
    } catch (error) {
      return fail(errorOf(error, 'committing a lease change'));
    }
  }

  private write(change: StoreChange): void {
    const sql = this.sql;
    for (const key of change.removedAllocations) sql.deleteAllocation.run(key);
    for (const address of change.removedQuarantine) sql.deleteQuarantine.run(address);
    for (const id of change.removedReservations) sql.deleteReservation.run(id);
    for (const lease of change.leases) {
      const { id } = lease;
      sql.upsertLease.run(
        leaseKey(id),
        id.owner,
        id.dseq,
        id.gseq,
        id.oseq,
        id.provider,
        lease.state,
        lease.group,
        JSON.stringify(lease.declarations),
        JSON.stringify(lease.endpoints),
        lease.createdAt,
        lease.updatedAt,
        lease.closedAt ?? null,
      );
    }
    for (const allocation of change.allocations) {
      sql.deleteAddresses.run(allocation.key);
      sql.upsertAllocation.run(
        allocation.key,
        allocation.owner,
        allocation.pool,
        allocation.lease,
        allocation.endpoint,
      );
      allocation.addresses.forEach((address, ord) => {
        sql.insertAddress.run(address, allocation.key, ord);
        for (const { port, protocol } of allocation.ports) sql.insertBinding.run(address, port, protocol);
      });
    }
    for (const entry of change.quarantine) {
      sql.upsertQuarantine.run(entry.address, entry.pool, entry.owner, entry.key, entry.until);
    }
    for (const reservation of change.reservations) {
      sql.upsertReservation.run(
        reservation.id,
        reservation.owner,
        reservation.count,
        reservation.family,
        reservation.at,
      );
    }
    for (const entry of change.audit) {
      sql.insertAudit.run(
        entry.at,
        entry.actor,
        entry.action,
        entry.owner,
        entry.lease,
        entry.endpoint ?? null,
        entry.address ?? null,
        entry.port ?? null,
        entry.protocol ?? null,
        entry.detail ?? null,
      );
    }
    for (const { namespace, key, json } of change.documents ?? []) {
      if (json === null) sql.deleteDocument.run(namespace, key);
      else sql.upsertDocument.run(namespace, key, json);
    }
  }

  async documents(namespace: string): Promise<Result<readonly { key: string; json: string }[]>> {
    try {
      return ok(
        (this.sql.documents.all(namespace) as [string, string][]).map(([key, json]) => ({ key, json })),
      );
    } catch (error) {
      return fail(errorOf(error, `reading the ${namespace} documents`));
    }
  }

  async queryAudit(query: AuditQuery): Promise<Result<readonly AuditEvent[]>> {
    const page = auditPage(query);
    if (!page.ok) return page;
    const filters: string[] = ['id > ?'];
    const params: unknown[] = [page.value.afterId];
    for (const column of ['owner', 'address', 'lease'] as const) {
      const value = query[column];
      if (value === undefined) continue;
      filters.push(`${column} = ?`);
      params.push(value);
    }
    const sql = `SELECT id, at, actor, action, owner, lease, endpoint, address, port, protocol, detail FROM audit WHERE ${filters.join(' AND ')} ORDER BY id LIMIT ?`;
    let statement = this.auditQueries.get(sql);
    try {
      if (statement === undefined) {
        statement = this.db.prepare(sql);
        this.auditQueries.set(sql, statement);
      }
      const rows = statement.all(...params, page.value.limit) as {
        id: number;
        at: number;
        actor: string;
        action: AuditAction;
        owner: string;
        lease: string;
        endpoint: string | null;
        address: string | null;
        port: number | null;
        protocol: Protocol | null;
        detail: string | null;
      }[];
      return ok(
        rows.map((row) => {
          const event: Record<string, unknown> = {};
          for (const [name, value] of Object.entries(row)) if (value !== null) event[name] = value;
          return event as unknown as AuditEvent;
        }),
      );
    } catch (error) {
      return fail(errorOf(error, 'querying the audit trail'));
    }
  }

  /** The connection's effective durability settings, for diagnostics. */
  pragmas(): {
    readonly journalMode: string;
    readonly synchronous: number;
    readonly foreignKeys: boolean;
    readonly busyTimeoutMs: number;
  } {
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
      foreignKeys: Number(this.db.pragma('foreign_keys', { simple: true })) === 1,
      busyTimeoutMs: Number(this.db.pragma('busy_timeout', { simple: true })),
    };
  }

  /** Row changes made through this connection since it opened: a restart that only reads leaves it at 0. */
  totalChanges(): number {
    return (this.sql.totalChanges.get() as { n: number }).n;
  }

  async close(): Promise<void> {
    this.db.close();
    if (this.holderFile !== undefined) rmSync(this.holderFile, { force: true });
  }
}

/** Opens (creating or migrating as needed) the store at `options.path`. */
export function openSqliteStore(options: SqliteStoreOptions): Result<SqliteLeaseStore> {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    return fail(appError('INVALID_INPUT', `busyTimeoutMs ${busyTimeoutMs} is not a non-negative integer`));
  }
  const exclusive = options.shared !== true && options.path !== ':memory:';
  let db: SqliteDatabase | undefined;
  try {
    db = openSqliteFile(options.path, busyTimeoutMs, { exclusive });
    const migrated = migrate(db);
    if (!migrated.ok) {
      db.close();
      return migrated;
    }
    if (!exclusive) return ok(new SqliteLeaseStore(db, options.path));
    const holderFile = holderPathOf(options.path);
    writeFileSync(holderFile, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), {
      mode: PRIVATE_FILE_MODE,
    });
    return ok(new SqliteLeaseStore(db, options.path, holderFile));
  } catch (error) {
    db?.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return fail(storeLocked(options.path));
    return fail(errorOf(error, `opening ${options.path}`));
  }
}
