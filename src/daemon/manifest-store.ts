/**
 * The manifests this provider runs, one record per lease. The lease engine keeps only the IP side of a
 * lease; lease-status also reports its services, which come from here. They are documents of the lease
 * store (namespace `manifest`, keyed by lease key), handed to the engine with each deploy and close, so a
 * lease's addresses and its manifest are committed in one change: a crash keeps both or neither.
 *
 * Earlier builds kept them in a second SQLite file beside the lease store's; {@link importLegacyManifests}
 * moves such a file's records in once.
 */
import { existsSync, renameSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { deepFreeze } from '../frozen/index.js';
import { type LeaseId, type LeaseStore, leaseKey, type StoreDocument, storeChange } from '../lease/index.js';
import { parseJsonText } from '../market/index.js';
import type { ManifestGroup } from '../sdl/index.js';
import { openSqliteFile } from '../store/index.js';

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

/** The lease-store namespace of deployed manifests. */
export const MANIFEST_NAMESPACE = 'manifest';

/** The document that records `lease`; commit it with the engine's deploy of the lease. */
export function manifestDocument(lease: DeployedLease): StoreDocument {
  const { id, group, version, deployedAt, updatedAt } = lease;
  return {
    namespace: MANIFEST_NAMESPACE,
    key: leaseKey(id),
    json: JSON.stringify({ id, group, version, deployedAt, updatedAt }),
  };
}

/** The document change that forgets the lease's manifest; commit it with the engine's close of the lease. */
export function manifestRemoval(id: LeaseId): StoreDocument {
  return { namespace: MANIFEST_NAMESPACE, key: leaseKey(id), json: null };
}

/**
 * Every deployed manifest the store holds. One nested deeper than a request may be now (stored by an earlier
 * build, which bounded no depth) is left out and handed to `skipped`, rather than failing the start-up or
 * overflowing the stack on its way in: its lease keeps its addresses, and its tenant sends the manifest again.
 */
export async function loadManifests(
  store: LeaseStore,
  skipped: (key: string, error: AppError) => void = () => undefined,
): Promise<Result<readonly DeployedLease[], AppError>> {
  const documents = await store.documents(MANIFEST_NAMESPACE);
  if (!documents.ok) return documents;
  const leases: DeployedLease[] = [];
  for (const { key, json } of documents.value) {
    const parsed = parseJsonText(json, `the stored manifest of ${key}`);
    if (!parsed.ok && parsed.error.code === 'INPUT_TOO_DEEP') {
      skipped(key, parsed.error);
      continue;
    }
    if (!parsed.ok) return fail(appError('STORE_CORRUPT', parsed.error.message));
    const lease = parsed.value as DeployedLease;
    if (leaseKey(lease.id) !== key) {
      return fail(
        appError('STORE_CORRUPT', `the manifest stored as ${key} is of lease ${leaseKey(lease.id)}`),
      );
    }
    leases.push(deepFreeze(lease));
  }
  return ok(leases);
}

/** Where earlier builds kept manifests: `provider.db` → `provider.manifests.db`, beside the lease store. */
export function legacyManifestPathOf(storePath: string): string {
  const ext = extname(storePath);
  return join(dirname(storePath), `${basename(storePath, ext)}.manifests${ext === '' ? '.db' : ext}`);
}

/** What {@link importLegacyManifests} did. */
export interface LegacyImport {
  /** Records copied in; those whose lease the store already had a manifest for are left out. */
  readonly imported: number;
  /** Where the old file now is. */
  readonly renamedTo: string;
}

interface LegacyRow {
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

/**
 * Moves the manifests of an earlier build's manifest file at `path` into `store`, in one change, then
 * renames the file (and any journal beside it) to `<name>.migrated`, keeping it. Undefined when there is no
 * such file. The store's own record of a lease wins, so a start cut off between the commit and the rename
 * repeats the import harmlessly.
 */
export async function importLegacyManifests(
  store: LeaseStore,
  path: string,
): Promise<Result<LegacyImport | undefined, AppError>> {
  if (!existsSync(path)) return ok(undefined);
  let rows: LegacyRow[];
  try {
    const db = openSqliteFile(path, 5000);
    try {
      rows = db.prepare('SELECT * FROM manifests').all() as LegacyRow[];
    } finally {
      db.close();
    }
  } catch (error) {
    return fail(
      appError('STORE_CORRUPT', `cannot read the old manifest file ${path}: ${(error as Error).message}`),
    );
  }
  const present = await store.documents(MANIFEST_NAMESPACE);
  if (!present.ok) return present;
  const known = new Set(present.value.map((document) => document.key));
  const documents: StoreDocument[] = [];
  for (const row of rows) {
    let group: ManifestGroup;
    try {
      group = JSON.parse(row.manifest_group) as ManifestGroup;
    } catch (error) {
      return fail(
        appError(
          'STORE_CORRUPT',
          `the old manifest file ${path} holds a group that is not JSON: ${(error as Error).message}`,
        ),
      );
    }
    const document = manifestDocument({
      id: { owner: row.owner, dseq: row.dseq, gseq: row.gseq, oseq: row.oseq, provider: row.provider },
      group,
      version: row.version,
      deployedAt: row.deployed_at,
      updatedAt: row.updated_at,
    });
    if (!known.has(document.key)) documents.push(document);
  }
  if (documents.length > 0) {
    const committed = await store.commit(storeChange({ documents }));
    if (!committed.ok) return committed;
  }
  let renamedTo = `${path}.migrated`;
  for (let n = 2; existsSync(renamedTo); n++) renamedTo = `${path}.migrated.${n}`;
  try {
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, renamedTo + suffix);
    }
    renameSync(path, renamedTo);
  } catch (error) {
    return fail(
      appError('UNAVAILABLE', `cannot rename the old manifest file ${path}: ${(error as Error).message}`),
    );
  }
  return ok({ imported: documents.length, renamedTo });
}
