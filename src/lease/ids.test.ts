import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  endpointKey,
  isEndpointName,
  leaseKey,
  orderKey,
  orderPath,
  parseLeaseId,
  parseOrderId,
} from './ids.js';
import { envName } from './views.js';

const lease = { owner: 'akash1abc', dseq: '42', gseq: 1, oseq: 2, provider: 'akash1prov' };

describe('identities', () => {
  it("keys leases as Go's LeaseID.String() does", () => {
    assert.equal(leaseKey(lease), 'akash1abc/42/1/2/akash1prov');
    assert.equal(orderKey(lease), 'akash1abc/42/1/2');
    assert.equal(orderPath(lease), '42/1/2', "the gateway route's path, and its owner's name for it");
    assert.equal(endpointKey(leaseKey(lease), 'web'), 'akash1abc/42/1/2/akash1prov#web');
  });

  it('accepts uint64 dseqs and refuses what would break a key', () => {
    assert.ok(parseLeaseId({ ...lease, dseq: '18446744073709551615' }, 'akash1prov').ok);
    for (const bad of [
      { dseq: '18446744073709551616' },
      { dseq: '0' },
      { dseq: '-1' },
      { gseq: 0 },
      { oseq: 1.5 },
      { owner: 'akash1/abc' },
      { owner: 'Akash1abc' },
    ]) {
      const parsed = parseLeaseId({ ...lease, ...bad }, 'akash1prov');
      assert.equal(parsed.ok ? 'ok' : parsed.error.code, 'INVALID_INPUT', JSON.stringify(bad));
    }
    assert.equal(parseOrderId({ ...lease, gseq: 2 ** 32 }).ok, false);
  });

  it('refuses a lease of another provider', () => {
    const parsed = parseLeaseId(lease, 'akash1other');
    assert.match(
      parsed.ok ? '' : parsed.error.message,
      /is for provider akash1prov, this provider is akash1other/,
    );
  });

  it("follows Akash's endpoint-name rule", () => {
    for (const name of ['meow72-memes', 'meow72-mem_es', 'ab']) assert.ok(isEndpointName(name), name);
    for (const name of ['!important', 'ROAR', '996', '_kittens', '-kittens', 'a', 'a#b']) {
      assert.ok(!isEndpointName(name), name);
    }
  });

  it('names workload variables after the endpoint', () => {
    assert.equal(envName('meow72-memes'), 'AKASH_LEASED_IP_MEOW72_MEMES');
    assert.equal(envName('web_1'), 'AKASH_LEASED_IP_WEB_1');
  });
});
