/**
 * How every SQLite file of the provider is opened, so the lease store and the manifest store share one
 * durability setting: WAL journal, synchronous=FULL (a commit survives power loss), foreign keys on, a busy timeout.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** The part of a better-sqlite3 statement the stores use. */
export interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Rows as arrays instead of objects: cheaper when loading everything. */
  raw(toggle?: boolean): SqliteStatement;
}

/** The part of a better-sqlite3 database the stores use. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  transaction(fn: () => void): () => void;
  close(): unknown;
}

/**
 * Opens (creating it and its folder) the SQLite file at `path`, or `:memory:`, with the shared pragmas. Throws what
 * better-sqlite3 throws (an unwritable folder, a file that is not a database); callers turn it into their error.
 */
export function openSqliteFile(path: string, busyTimeoutMs: number): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path) as unknown as SqliteDatabase;
  try {
    // the timeout first: switching the journal mode may have to wait for another connection
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
