// End to end from Akash's own SDL test data: parse with the SDL engine, bid, deploy, read lease-status.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sdlFixture } from '../../test/support/sdl-fixtures.js';
import type { Result } from '../errors/index.js';
import { parseSdl } from '../sdl/index.js';
import { createMemoryStore } from '../store/index.js';
import { createLeaseEngine, type LeaseIpStatus } from './index.js';
import { leaseOf, PROVIDER } from './testing.js';

// Akash's own test deployments (akash-network/node x/deployment/testdata), from the peer fixtures.
const TESTDATA = sdlFixture('peer/node/x/deployment/testdata');

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** Parses a provider test SDL, bids on and deploys each of its groups as gseq 1, 2, …; returns each status. */
async function deployFixture(file: string): Promise<{ count: number; status: LeaseIpStatus }[]> {
  const sdl = parseSdl(readFileSync(join(TESTDATA, file)), { file });
  if (!sdl.ok) assert.fail(sdl.error.map((diagnostic) => diagnostic.message).join('; '));
  const engine = unwrap(
    await createLeaseEngine({
      store: createMemoryStore(),
      provider: PROVIDER,
      pools: [{ name: 'default', addresses: ['203.0.113.0/24'] }],
    }),
  );
  const out: { count: number; status: LeaseIpStatus }[] = [];
  for (const [index, group] of sdl.value.manifest.entries()) {
    const spec = sdl.value.groups.find((candidate) => candidate.name === group.name);
    assert.ok(spec !== undefined);
    const lease = leaseOf('akash1tenant', 77, index + 1);
    const { count } = unwrap(await engine.reserve(lease, spec));
    unwrap(await engine.deploy(lease, group, { groupSpec: spec }));
    out.push({ count, status: unwrap(engine.status(lease)) });
  }
  assert.equal(engine.inventory().reserved, 0n);
  return out;
}

for (const version of ['v2', 'v2.1']) {
  describe(`Akash's IP-endpoint test deployments, SDL ${version}`, () => {
    it('one endpoint: one address, as the Go e2e test reads it', async () => {
      const [web] = await deployFixture(`deployment-${version}-ip-endpoint.yaml`);
      assert.equal(web?.count, 1);
      assert.deepEqual(web?.status.ips, {
        web: [{ Port: 80, ExternalPort: 80, Protocol: 'TCP', IP: '203.0.113.0' }],
      });
    });

    it('a shared endpoint: two services, one address, one reserved IP', async () => {
      const [group] = await deployFixture(`deployment-${version}-shared-ip-endpoint.yaml`);
      assert.equal(group?.count, 1);
      assert.deepEqual(group?.status.ips, {
        anotherweb: [{ Port: 80, ExternalPort: 81, Protocol: 'TCP', IP: '203.0.113.0' }],
        web: [{ Port: 80, ExternalPort: 80, Protocol: 'TCP', IP: '203.0.113.0' }],
      });
    });

    it('several endpoints: one address each', async () => {
      const [group] = await deployFixture(`deployment-${version}-multi-ip-endpoint.yaml`);
      const addresses = new Set(
        Object.values(group?.status.ips ?? {}).flatMap((entries) => entries.map((e) => e.IP)),
      );
      assert.equal(addresses.size, group?.count);
      assert.ok((group?.count ?? 0) > 1);
    });

    it('endpoints in different groups are counted and leased per group', async () => {
      const groups = await deployFixture(`deployment-${version}-multi-groups-ip-endpoint.yaml`);
      assert.deepEqual(
        groups.map((group) => group.count),
        [1, 1],
      );
      const addresses = groups.flatMap((group) =>
        Object.values(group.status.ips ?? {})
          .flat()
          .map((entry) => entry.IP),
      );
      assert.equal(new Set(addresses).size, 2);
    });
  });
}
