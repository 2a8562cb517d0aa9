import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressesPerEndpoint,
  familyOfAddresses,
  IP_LEASE_ATTRIBUTE,
  ipLeaseAttributes,
  offeredFamilies,
  requestedFamily,
} from './family.js';

describe('the family rule', () => {
  it('reads what a group asks for from its placement attributes', () => {
    assert.equal(requestedFamily(null), undefined);
    assert.equal(requestedFamily([{ key: 'ip-lease', value: 'true' }]), undefined);
    assert.equal(requestedFamily([{ key: 'ip-lease-ipv6', value: 'true' }]), 'dual');
    assert.equal(requestedFamily([{ key: 'ip-lease-ipv6-only', value: 'true' }]), 'v6');
    // IPv6-only wins: a tenant who asks for both wants no IPv4 address
    assert.equal(
      requestedFamily([
        { key: 'ip-lease-ipv6', value: 'true' },
        { key: 'ip-lease-ipv6-only', value: 'true' },
      ]),
      'v6',
    );
    assert.equal(requestedFamily([{ key: 'ip-lease-ipv6', value: 'false' }]), undefined);
    // a glob a tenant might write is a matching matter, not a request of ours
    assert.equal(requestedFamily([{ key: 'ip-lease-ipv6*', value: 'true' }]), undefined);
  });

  it('counts a dual endpoint as two addresses and names families from addresses', () => {
    assert.deepEqual(
      [addressesPerEndpoint('v4'), addressesPerEndpoint('v6'), addressesPerEndpoint('dual')],
      [1, 1, 2],
    );
    assert.equal(familyOfAddresses(['192.0.2.1', '2001:db8::1']), 'dual');
    assert.equal(familyOfAddresses(['2001:db8::1']), 'v6');
    assert.equal(familyOfAddresses(['192.0.2.1']), 'v4');
    assert.equal(familyOfAddresses([]), undefined);
  });

  it('advertises what the auto-assign pools can serve; a dual endpoint needs one pool with both families', () => {
    const v4 = { name: 'a', addresses: ['192.0.2.0/28'] };
    const v6 = { name: 'b', addresses: ['2001:db8::/120'] };
    const both = { name: 'c', addresses: ['198.51.100.0/28', '2001:db8:1::/120'] };
    assert.deepEqual(offeredFamilies([v4]), { v4: true, v6: false, dual: false });
    assert.deepEqual(offeredFamilies([v6]), { v4: false, v6: true, dual: false });
    // two single-family pools: MetalLB gives a dual-stack Service both addresses from one pool
    assert.deepEqual(offeredFamilies([v4, v6]), { v4: true, v6: true, dual: false });
    assert.deepEqual(offeredFamilies([both]), { v4: true, v6: true, dual: true });
    assert.deepEqual(offeredFamilies([{ ...both, autoAssign: false }]), {
      v4: false,
      v6: false,
      dual: false,
    });
    assert.deepEqual(offeredFamilies([{ ...both, autoAssign: false }], 'c'), {
      v4: true,
      v6: true,
      dual: true,
    });
    assert.deepEqual(ipLeaseAttributes(offeredFamilies([both])), [
      { key: IP_LEASE_ATTRIBUTE.ipv4, value: 'true' },
      { key: IP_LEASE_ATTRIBUTE.dualStack, value: 'true' },
      { key: IP_LEASE_ATTRIBUTE.ipv6Only, value: 'true' },
    ]);
    assert.deepEqual(ipLeaseAttributes(offeredFamilies([v6])), [
      { key: 'ip-lease-ipv6-only', value: 'true' },
    ]);
    assert.deepEqual(ipLeaseAttributes(offeredFamilies([v4])), [{ key: 'ip-lease', value: 'true' }]);
  });
});
