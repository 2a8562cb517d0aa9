import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Declaration } from '../lease/index.js';
import { isObjectName, leasedIpName, leaseNamespace, serviceNames, sharingKey } from './names.js';

const OWNER = 'akash1tenant';
const LEASE = { owner: OWNER, dseq: '42', gseq: 1, oseq: 1, provider: 'akash1provider' };

function declaration(overrides: Partial<Declaration> = {}): Declaration {
  return { endpoint: 'web', service: 'web', port: 80, externalPort: 80, protocol: 'TCP', ...overrides };
}

describe('k8s names', () => {
  it('keeps a plain endpoint name in the sharing key and hashes any other (Go golden value)', () => {
    assert.equal(sharingKey(OWNER, 'foobar'), `${OWNER}-ip-foobar`);
    assert.equal(sharingKey(OWNER, 'meYOU'), `${OWNER}-ip-ps9pn7rkocct7m9ivtovuktb`);
    assert.ok(!sharingKey(OWNER, 'me_you').includes('me_you'));
  });

  it("names the lease namespace as Go's lease_id_to_namespace does", () => {
    // Computed with Go's crypto/sha256.Sum224 and encoding/base32 HexEncoding (no padding), lower-cased.
    assert.equal(leaseNamespace(LEASE), 'mp5eld26fjh96020lbqapg2n58lkma5pj7kuvaqo5pvj8');
  });

  it("uses Go's object names while they are valid, and a hash that keeps the port otherwise", () => {
    assert.equal(leasedIpName(OWNER, declaration()), `${OWNER}-ip-web-tcp-80`);
    const long = leasedIpName(OWNER, declaration({ endpoint: `e${'x'.repeat(300)}`, protocol: 'UDP' }));
    assert.ok(isObjectName(long));
    assert.match(long, /^plip-[0-9a-v]{24}-udp-80$/);
  });

  it('gives every declaration of a lease a distinct valid Service name', () => {
    const names = serviceNames([
      declaration(),
      declaration({ endpoint: 'api' }),
      declaration({ externalPort: 443, port: 8443 }),
      declaration({ service: `s${'x'.repeat(70)}` }),
    ]);
    assert.equal(names[2], 'web-ip-443-tcp');
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    // Same port on two endpoints of one service: Go's names would collide, so both are hashed.
    assert.notEqual(names[0], 'web-ip-80-tcp');
    assert.notEqual(names[1], 'web-ip-80-tcp');
  });
});
