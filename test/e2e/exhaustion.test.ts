/**
 * Pool exhaustion through the built CLI: provider-2's /30 (4 addresses) is filled by one deployment; then it
 * no longer bids on IP orders while provider-1 does, the CLI says why, and orders without IPs still get its bid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressOf, type DeploymentJson, EXAMPLE_SDL, ipSdl, useDevnet } from './harness.js';

describe('an exhausted provider', () => {
  const devnetOf = useDevnet();

  it('does not bid on IP orders while others do, and still bids on orders without IPs', async () => {
    const { box, bidders } = devnetOf();
    const four = await box.file('four.yaml', ipSdl({ endpoints: ['ep-a', 'ep-b', 'ep-c', 'ep-d'] }));
    const filled = await box.json<DeploymentJson>('deploy', four, '--provider', 'provider-2');
    const addresses = ['ep-a', 'ep-b', 'ep-c', 'ep-d']
      .map((name) => filled.leases[0]?.endpoints[name]?.addresses[0])
      .sort();
    assert.deepEqual(addresses, ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']);
    const pool = await box.json<{ available: number; capacity: number }[]>(
      'provider',
      'pool',
      '--provider',
      'provider-2',
    );
    assert.equal(pool[0]?.available, 0);

    const refused = await box.run('deploy', EXAMPLE_SDL, '--provider', 'provider-2');
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /provider-2 has no free IPs \(1 needed, 0 of 4 free\) \(INSUFFICIENT_IPS\)/);
    assert.match(refused.stderr, /try --pick cheapest/);

    const elsewhere = await box.run('deploy', EXAMPLE_SDL, '--pick', 'cheapest', '-o', 'json');
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.match(elsewhere.stderr, /provider-2 will not bid: provider-2 has no free IPs/);
    const placed = JSON.parse(elsewhere.stdout) as DeploymentJson;
    assert.equal(placed.leases[0]?.provider, 'provider-1');
    assert.match(addressOf(placed, 'myendpoint'), /^203\.0\.113\./);
    assert.deepEqual(await bidders(placed.dseq), ['provider-1']);

    const plain = await box.file('plain.yaml', ipSdl({ endpoints: [] }));
    const open = await box.json<DeploymentJson>('deploy', plain, '--pick', 'cheapest');
    assert.equal(open.leases[0]?.state, 'active');
    assert.deepEqual(await bidders(open.dseq), ['provider-1', 'provider-2', 'provider-3']);
  });
});
