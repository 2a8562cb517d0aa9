/**
 * The manifests this provider runs, one record per lease. The lease engine keeps only the IP side of a
 * lease; lease-status also reports its services, which come from here. Two adapters: memory, and a
 * SQLite file beside the lease store's.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { type LeaseId, leaseKey } from '../lease/index.js';
import type { ManifestGroup } from '../sdl/index.js';
import { openSqliteFile, type SqliteDatabase } from '../store/index.js';
import { deepFreeze } from './frozen.js';

/** A lease whose manifest group this provider received. */
export interface DeployedLease {
  readonly id: LeaseId;
  /** The manifest group the lease runs. */
  readonly group: ManifestGroup;
  /** The manifest version it was sent with. */
  readonly version: string;
  /** Milliseconds since the epoch of the first and the latest manifest. */
  readonly deployedAt: number;
  readonly updatedAt: number;
}

/** Durable storage of deployed manifests. */
export interface ManifestStore {
  load(): Promise<Result<readonly DeployedLease[], AppError>>;
  put(lease: DeployedLease): Promise<Result<void, AppError>>;
  remove(id: LeaseId): Promise<Result<void, AppError>>;
  close(): Promise<void>;
}

/** Manifests in memory: lost on restart, like the memory lease store. */
export function memoryManifestStore(): ManifestStore {
  const rows = new Map<string, DeployedLease>();
  return {
    load: () => Promise.resolve(ok([...rows.values()])),
    put(lease) {
      rows.set(leaseKey(lease.id), lease);
      return Promise.resolve(ok(undefined));
    },
    remove(id) {
      rows.delete(leaseKey(id));
      return Promise.resolve(ok(undefined));
    },
    close: () => Promise.resolve(),
  };
}

interface Row {
  readonly owner: string;
  readonly dseq: string;
  readonly gseq: number;
  readonly oseq: number;
  readonly provider: string;
  readonly manifest_group: string;
  readonly version: string;
  readonly deployed_at: number;
  readonly updated_at: number;
}

function unavailable(error: unknown): { readonly ok: false; readonly error: AppError } {
  return fail(appError('UNAVAILABLE', `manifest store failed: ${(error as Error).message}`));
}

/** Opens (creating if needed) the manifest database at `path`. */
export function openSqliteManifestStore(path: string): Result<ManifestStore, AppError> {
  let db: SqliteDatabase;
  try {
    db = openSqliteFile(path, 5000);
    db.exec(`CREATE TABLE IF NOT EXISTS manifests (
      key TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      dseq TEXT NOT NULL,
      gseq INTEGER NOT NULL,
      oseq INTEGER NOT NULL,
      provider TEXT NOT NULL,
      manifest_group TEXT NOT NULL,
      version TEXT NOT NULL,
      deployed_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`);
  } catch (error) {
    return unavailable(error);
  }
  const upsert = db.prepare(
    `INSERT INTO manifests (key, owner, dseq, gseq, oseq, provider, manifest_group, version, deployed_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET manifest_group = excluded.manifest_group, version = excluded.version,
       updated_at = excluded.updated_at`,
  );
  const removal = db.prepare('DELETE FROM manifests WHERE key = ?');
  const all = db.prepare('SELECT * FROM manifests');
  const guarded = <T>(work: () => T): Promise<Result<T, AppError>> => {
    try {
      return Promise.resolve(ok(work()));
    } catch (error) {
      return Promise.resolve(unavailable(error));
    }
  };
  return ok({
    load: () =>
      guarded(() =>
        (all.all() as Row[]).map((row) =>
          deepFreeze({
            id: { owner: row.owner, dseq: row.dseq, gseq: row.gseq, oseq: row.oseq, provider: row.provider },
            group: JSON.parse(row.manifest_group) as ManifestGroup,
            version: row.version,
            deployedAt: row.deployed_at,
            updatedAt: row.updated_at,
          }),
        ),
      ),
    put: (lease) =>
      guarded(() => {
        const { id } = lease;
        upsert.run(
          leaseKey(id),
          id.owner,
          id.dseq,
          id.gseq,
          id.oseq,
          id.provider,
          JSON.stringify(lease.group),
          lease.version,
          lease.deployedAt,
          lease.updatedAt,
        );
      }),
    remove: (id) =>
      guarded(() => {
        removal.run(leaseKey(id));
      }),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  });
}
