/**
 * How every SQLite file of the provider is opened, so the lease store, the manifest store and the devnet ledger
 * share one durability setting: WAL journal, synchronous=FULL (a commit survives power loss), foreign keys on, a
 * busy timeout. Files are private to their owner, like the keys: the database and its -wal/-shm 0600 (SQLite
 * gives its side files the database's mode), a folder it creates 0700.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
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

/** Mode of the database files: read and written by their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

export interface SqliteFileOptions {
  /**
   * Hold the database for this connection alone until it closes (`locking_mode=EXCLUSIVE`, taken at once): any
   * other connection, in this process or another, gets SQLITE_BUSY. The lock is the operating system's, so it
   * dies with the process, SIGKILL included. Without a shared-memory index either (WAL keeps it in the heap).
   */
  readonly exclusive?: boolean;
}

/**
 * Makes `path` a private database file before SQLite opens it: its folder created 0700 if missing, the file created
 * empty and 0600 if missing, or narrowed to its owner (with its side files) if an earlier build left it readable.
 */
export function preparePrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
    return;
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    // files an earlier build created world-readable; one we do not own is left as it is (chmod would throw)
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) {
      try {
        chmodSync(file, PRIVATE_FILE_MODE);
      } catch {
        // not ours to change
      }
    }
  }
}

/**
 * Opens (creating it and its folder) the SQLite file at `path`, or `:memory:`, with the shared pragmas. Throws what
 * better-sqlite3 throws (an unwritable folder, a file that is not a database, SQLITE_BUSY when `exclusive` and
 * another connection holds the file); callers turn it into their error.
 */
export function openSqliteFile(
  path: string,
  busyTimeoutMs: number,
  options: SqliteFileOptions = {},
): SqliteDatabase {
  if (path !== ':memory:') preparePrivateFile(path);
  const db = new Database(path) as unknown as SqliteDatabase;
  try {
    if (options.exclusive === true) {
      // before anything reads the file, and without waiting: a holder keeps it until it stops
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    }
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
