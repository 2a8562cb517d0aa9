/**
 * The ledger's SQLite schema, as forward-only migrations: entry i brings the schema to version i + 1.
 * Never edit a shipped entry; append a new one.
 */
import type Database from 'better-sqlite3';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';

const ID_COLUMNS = `owner TEXT NOT NULL, dseq TEXT NOT NULL, gseq INTEGER NOT NULL, oseq INTEGER NOT NULL`;

/** Amounts are TEXT: integers for uakt balances, 18-place decimals for escrow and prices. dseq is a uint64 as TEXT. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    height INTEGER NOT NULL CHECK (height >= 1)
  );
  INSERT INTO chain (id, height) VALUES (1, 1);

  CREATE TABLE accounts (
    address TEXT PRIMARY KEY,
    pubkey TEXT,
    balance TEXT NOT NULL
  );

  CREATE TABLE providers (
    address TEXT PRIMARY KEY REFERENCES accounts (address),
    host_uri TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_height INTEGER NOT NULL
  );

  CREATE TABLE deployments (
    owner TEXT NOT NULL REFERENCES accounts (address),
    dseq TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'closed')),
    hash TEXT NOT NULL,
    escrow_balance TEXT NOT NULL,
    escrow_deposited TEXT NOT NULL,
    escrow_transferred TEXT NOT NULL,
    settled_height INTEGER NOT NULL,
    created_height INTEGER NOT NULL,
    closed_height INTEGER,
    closed_reason TEXT,
    PRIMARY KEY (owner, dseq)
  );
  CREATE INDEX deployments_state ON deployments (state);

  CREATE TABLE groups (
    owner TEXT NOT NULL, dseq TEXT NOT NULL, gseq INTEGER NOT NULL CHECK (gseq >= 1),
    state TEXT NOT NULL CHECK (state IN ('open', 'active', 'closed')),
    spec TEXT NOT NULL,
    PRIMARY KEY (owner, dseq, gseq),
    FOREIGN KEY (owner, dseq) REFERENCES deployments (owner, dseq)
  );

  CREATE TABLE orders (
    ${ID_COLUMNS},
    state TEXT NOT NULL CHECK (state IN ('open', 'active', 'closed')),
    created_height INTEGER NOT NULL,
    PRIMARY KEY (owner, dseq, gseq, oseq),
    FOREIGN KEY (owner, dseq, gseq) REFERENCES groups (owner, dseq, gseq)
  );
  CREATE INDEX orders_state ON orders (state);

  CREATE TABLE bids (
    ${ID_COLUMNS},
    provider TEXT NOT NULL REFERENCES providers (address),
    state TEXT NOT NULL CHECK (state IN ('open', 'active', 'lost', 'closed')),
    price TEXT NOT NULL,
    created_height INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, dseq, gseq, oseq, provider),
    FOREIGN KEY (owner, dseq, gseq, oseq) REFERENCES orders (owner, dseq, gseq, oseq)
  );
  CREATE INDEX bids_provider ON bids (provider, state);

  CREATE TABLE leases (
    ${ID_COLUMNS},
    provider TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'closed')),
    price TEXT NOT NULL,
    paid TEXT NOT NULL,
    created_height INTEGER NOT NULL,
    closed_height INTEGER,
    closed_reason TEXT,
    PRIMARY KEY (owner, dseq, gseq, oseq, provider),
    FOREIGN KEY (owner, dseq, gseq, oseq, provider) REFERENCES bids (owner, dseq, gseq, oseq, provider)
  );
  -- an order is won at most once
  CREATE UNIQUE INDEX leases_order ON leases (owner, dseq, gseq, oseq);
  CREATE INDEX leases_provider ON leases (provider, state);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    height INTEGER NOT NULL,
    time INTEGER NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE certificates (
    owner TEXT NOT NULL REFERENCES accounts (address),
    serial TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('valid', 'revoked')),
    cert TEXT NOT NULL,
    pubkey TEXT NOT NULL,
    created_height INTEGER NOT NULL,
    PRIMARY KEY (owner, serial)
  );
  `,
];

/** Brings a database to the newest schema; each step and its version bump commit together. */
export function migrate(db: Database.Database): Result<number, AppError> {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT max(version) AS version FROM schema_version').get() as {
    version: number | null;
  };
  const current = row.version ?? 0;
  if (current > MIGRATIONS.length) {
    return fail(
      appError(
        'STORE_CORRUPT',
        `the ledger database is at schema version ${current}, newer than this build (${MIGRATIONS.length}); upgrade akash-ip`,
      ),
    );
  }
  const bump = db.prepare('INSERT INTO schema_version (version) VALUES (?)');
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      bump.run(version);
    }).immediate();
  }
  return ok(MIGRATIONS.length);
}
