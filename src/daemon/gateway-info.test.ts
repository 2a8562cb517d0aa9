import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PoolSpec } from '../ipam/index.js';
import { createLeaseEngine, ipLeaseAttributes } from '../lease/index.js';
import { groupSpecWithIps, PROVIDER, requiring } from '../lease/testing.js';
import { DEFAULT_PRICING } from '../market/index.js';
import { createMemoryStore } from '../store/index.js';
import { screenGroup } from './gateway-info.js';

const OWNER = 'akash1owner';

async function screener(pools: readonly PoolSpec[]) {
  const made = await createLeaseEngine({ store: createMemoryStore(), provider: PROVIDER, pools });
  assert.ok(made.ok);
  const engine = made.value;
  // every IP attribute advertised, so the placement matches and only the pools decide
  const attributes = ipLeaseAttributes({ v4: true, v6: true, dual: true });
  const profile = { address: PROVIDER, attributes, pricing: DEFAULT_PRICING };
  return {
    engine,
    screen: (attributes: Readonly<Record<string, string>>, ips = 1) =>
      screenGroup(
        requiring(groupSpecWithIps(Array.from({ length: ips }, (_, i) => i + 1)), attributes),
        OWNER,
        profile,
        (family) => engine.inventory(family),
      ),
  };
}

describe('/validate screening per family', () => {
  it('checks each family a group’s endpoints need, and names the one missing or short', async () => {
    const v4 = await screener([{ name: 'a', addresses: ['192.0.2.0/30'] }]);
    assert.deepEqual(v4.screen({}).reasons, undefined);
    assert.deepEqual(v4.screen({ 'ip-lease-ipv6': 'true' }).reasons, [
      'NO_IP_SUPPORT: this provider has no IPv6 IP pool; it cannot lease IP endpoints',
    ]);
    const dual = await screener([{ name: 'd', addresses: ['192.0.2.0/28', '2001:db8::/127'] }]);
    assert.equal(dual.screen({ 'ip-lease-ipv6': 'true' }, 2).passed, true);
    assert.deepEqual(dual.screen({ 'ip-lease-ipv6-only': 'true' }, 3).reasons, [
      'INSUFFICIENT_IPS: the group needs 3 IPv6 leased IP(s), 2 available',
    ]);
    assert.deepEqual(dual.screen({ 'ip-lease-ipv6': 'true' }, 3).ips, { requested: 3, available: '2' });
    assert.equal(dual.screen({}, 3).passed, true);
  });
});
