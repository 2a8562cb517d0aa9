/**
 * Lease-store adapters for the lease engine's {@link LeaseStore} port: in memory, and SQLite.
 */
export { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from './audit.js';
export { createMemoryStore, MemoryLeaseStore } from './memory-store.js';
export { openSqliteFile, type SqliteDatabase } from './sqlite-file.js';
export {
  openSqliteStore,
  SCHEMA_VERSION,
  SqliteLeaseStore,
  type SqliteStoreOptions,
} from './sqlite-store.js';
