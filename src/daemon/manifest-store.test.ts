import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type LeaseId, type LeaseStore, leaseKey, storeChange } from '../lease/index.js';
import { createMemoryStore } from '../store/index.js';
import {
  type DeployedLease,
  importLegacyManifests,
  legacyManifestPathOf,
  loadManifests,
  MANIFEST_NAMESPACE,
  manifestDocument,
} from './manifest-store.js';
import { account, ipSdl, unwrap, writeLegacyManifestFile } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'akash-ip-manifests-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const provider = account(0x9a9a).address;
const owner = account(0xa11ce).address;
const sdl = ipSdl('edge-ip');
const group = sdl.manifest[0]!;

function deployed(dseq: string, version: string, at: number): DeployedLease {
  const id: LeaseId = { owner, dseq, gseq: 1, oseq: 1, provider };
  return { id, group, version, deployedAt: at, updatedAt: at + 1 };
}

function byKey(leases: readonly DeployedLease[]): Map<string, DeployedLease> {
  return new Map(leases.map((lease) => [leaseKey(lease.id), lease]));
}

describe('manifests in the lease store', () => {
  it('gives back the leases its documents record', async () => {
    const store = createMemoryStore();
    const leases = [deployed('1', 'v1', 10), deployed('2', 'v2', 20)];
    unwrap(await store.commit(storeChange({ documents: leases.map(manifestDocument) })));
    assert.deepEqual(byKey(unwrap(await loadManifests(store))), byKey(leases));
  });

  it('refuses a record that is not JSON or stored under another lease', async () => {
    for (const json of ['{', manifestDocument(deployed('2', 'v', 1)).json ?? '']) {
      const store = createMemoryStore();
      const key = leaseKey(deployed('1', 'v', 1).id);
      unwrap(await store.commit(storeChange({ documents: [{ namespace: MANIFEST_NAMESPACE, key, json }] })));
      const loaded = await loadManifests(store);
      assert.equal(loaded.ok ? 'ok' : loaded.error.code, 'STORE_CORRUPT');
    }
  });

  it('names the old manifest file beside the lease store', () => {
    assert.equal(legacyManifestPathOf('/data/provider.db'), '/data/provider.manifests.db');
    assert.equal(legacyManifestPathOf('/data/leases'), '/data/leases.manifests.db');
  });

  it('moves an old manifest file in once, in one change, keeps the store its own records and the file renamed', async () => {
    const path = join(dir, 'a', 'provider.manifests.db');
    const old = [deployed('1', 'old-1', 10), deployed('2', 'old-2', 20), deployed('3', 'old-3', 30)];
    writeLegacyManifestFile(path, old);
    const store = createMemoryStore();
    const newer = deployed('2', 'new-2', 40);
    unwrap(await store.commit(storeChange({ documents: [manifestDocument(newer)] })));
    let commits = 0;
    const counted: LeaseStore = {
      load: () => store.load(),
      commit: (change) => {
        commits += 1;
        return store.commit(change);
      },
      queryAudit: (query) => store.queryAudit(query),
      documents: (namespace) => store.documents(namespace),
      close: () => store.close(),
    };

    const moved = unwrap(await importLegacyManifests(counted, path));
    assert.deepEqual(moved, { imported: 2, renamedTo: `${path}.migrated` });
    assert.equal(commits, 1);
    assert.deepEqual(byKey(unwrap(await loadManifests(store))), byKey([old[0]!, newer, old[2]!]));
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(`${path}.migrated`), true);

    assert.equal(unwrap(await importLegacyManifests(counted, path)), undefined);
    assert.equal(commits, 1);

    // a file that reappears does not overwrite the one kept before
    writeLegacyManifestFile(path, []);
    assert.deepEqual(unwrap(await importLegacyManifests(counted, path)), {
      imported: 0,
      renamedTo: `${path}.migrated.2`,
    });
    assert.equal(commits, 1);
    assert.equal(existsSync(`${path}.migrated`), true);
  });

  it('refuses an old file it cannot read, and leaves it where it is', async () => {
    const path = join(dir, 'b', 'provider.manifests.db');
    mkdirSync(join(dir, 'b'));
    writeFileSync(path, 'not a database, just text long enough to fill a header page '.repeat(100));
    const store = createMemoryStore();
    const moved = await importLegacyManifests(store, path);
    assert.equal(moved.ok ? 'ok' : moved.error.code, 'STORE_CORRUPT');
    assert.equal(existsSync(path), true);
    assert.deepEqual(unwrap(await store.documents(MANIFEST_NAMESPACE)), []);
  });
});
