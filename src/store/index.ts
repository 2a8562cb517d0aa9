/**
 * Lease-store adapters for the lease engine's {@link LeaseStore} port: in memory, and SQLite.
 */
export { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from './audit.js';
export { createMemoryStore, MemoryLeaseStore } from './memory-store.js';
export { openSqliteFile, PRIVATE_FILE_MODE, preparePrivateFile, type SqliteDatabase } from './sqlite-file.js';
export {
  holderPathOf,
  openSqliteStore,
  SCHEMA_VERSION,
  SqliteLeaseStore,
  type SqliteStoreOptions,
} from './sqlite-store.js';
