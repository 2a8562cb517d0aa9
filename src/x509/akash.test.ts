import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressOf, generatePrivateKey, publicKeyOf } from '../identity/index.js';
import {
  certificateFacts,
  checkPublication,
  createAccountCertificate,
  createCertificate,
  generateP256,
  publicKeyPem,
  verifyPeerCertificate,
} from './index.js';

const NOW = new Date('2026-12-06T12:00:00Z');
const LATER = new Date('2027-12-06T12:00:00Z');

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) assert.fail(result.error.message);
  return result.value;
}

const owner = addressOf(publicKeyOf(generatePrivateKey()));
const other = addressOf(publicKeyOf(generatePrivateKey()));

describe('Akash account certificates', () => {
  const client = unwrap(
    createAccountCertificate({ address: owner, kind: 'client', notBefore: NOW, notAfter: LATER }),
  );

  it('creates a self-signed P-256 certificate with CN = the address, publishable as Akash checks it', () => {
    const facts = unwrap(checkPublication(owner, client.cert, client.pubkey));
    assert.equal(facts.commonName, owner);
    assert.equal(facts.issuerCommonName, owner);
    assert.equal(facts.serial, client.serial);
    assert.match(client.pubkey, /^-----BEGIN EC PUBLIC KEY-----\n/);
    assert.deepEqual(facts.extendedUsage, ['1.3.6.1.5.5.7.3.2']);
  });

  it('refuses to publish a certificate of another CN, a foreign public key or one signed by someone else', () => {
    const refusal = (result: { ok: boolean; error?: { code: string; details?: { reason?: unknown } } }) =>
      result.ok ? 'accepted' : `${result.error?.code}/${String(result.error?.details?.reason)}`;
    assert.equal(
      refusal(checkPublication(other, client.cert, client.pubkey)),
      'CERTIFICATE_INVALID/wrong-cn',
    );
    const second = unwrap(
      createAccountCertificate({ address: owner, kind: 'client', notBefore: NOW, notAfter: LATER }),
    );
    assert.equal(
      refusal(checkPublication(owner, client.cert, second.pubkey)),
      'CERTIFICATE_INVALID/pubkey-mismatch',
    );
    const subject = generateP256();
    const signer = generateP256();
    const forged = unwrap(
      createCertificate({
        subject: { commonName: owner },
        publicKey: subject.publicKey,
        signingKey: signer.privateKey,
        notBefore: NOW,
        notAfter: LATER,
      }),
    );
    assert.equal(
      refusal(checkPublication(owner, forged, client.pubkey)),
      'CERTIFICATE_INVALID/not-self-signed',
    );
    assert.equal(
      refusal(checkPublication(owner, 'nonsense', client.pubkey)),
      'CERTIFICATE_INVALID/unparsable',
    );
  });

  it('accepts a presented certificate only as published, in its validity window and for its use', () => {
    const presented = unwrap(certificateFacts(client.cert));
    assert.deepEqual(verifyPeerCertificate(presented, { cert: client.cert }, 'clientAuth', NOW), {
      ok: true,
      value: owner,
    });
    const reason = (result: ReturnType<typeof verifyPeerCertificate>) =>
      result.ok ? 'accepted' : result.error.details?.reason;
    assert.equal(reason(verifyPeerCertificate(presented, undefined, 'clientAuth', NOW)), 'not-published');
    assert.equal(
      reason(verifyPeerCertificate(presented, { cert: client.cert }, 'serverAuth', NOW)),
      'wrong-usage',
    );
    const after = new Date(LATER.getTime() + 1000);
    assert.equal(
      reason(verifyPeerCertificate(presented, { cert: client.cert }, 'clientAuth', after)),
      'expired',
    );
    const before = new Date(NOW.getTime() - 1000);
    assert.equal(
      reason(verifyPeerCertificate(presented, { cert: client.cert }, 'clientAuth', before)),
      'not-yet-valid',
    );
    // same owner and serial looked up, but another key published: the presented one is not what the owner signed
    const impostor = unwrap(
      createAccountCertificate({ address: owner, kind: 'client', notBefore: NOW, notAfter: LATER }),
    );
    assert.equal(
      reason(verifyPeerCertificate(presented, { cert: impostor.cert }, 'clientAuth', NOW)),
      'signature',
    );
    const server = unwrap(
      createAccountCertificate({
        address: owner,
        kind: 'server',
        notBefore: NOW,
        notAfter: LATER,
        hosts: ['localhost', '127.0.0.1'],
      }),
    );
    const serverFacts = unwrap(certificateFacts(server.cert));
    assert.match(serverFacts.x509.subjectAltName ?? '', /DNS:localhost, IP Address:127\.0\.0\.1/);
    assert.equal(
      reason(verifyPeerCertificate(serverFacts, { cert: server.cert }, 'serverAuth', NOW)),
      'accepted',
    );
  });

  it('accepts a certificate as provider-services makes it (auth-version attribute, issuer CN only, both uses)', () => {
    const keys = generateP256();
    const cert = unwrap(
      createCertificate({
        subject: { commonName: owner, extra: [{ oid: '2.23.133.2.6', value: 'v0.0.1' }] },
        issuer: { name: { commonName: owner }, publicKey: keys.publicKey },
        publicKey: keys.publicKey,
        signingKey: keys.privateKey,
        notBefore: NOW,
        notAfter: LATER,
        keyUsage: ['keyEncipherment', 'dataEncipherment'],
        usage: ['clientAuth', 'serverAuth'],
      }),
    );
    const pubkey = publicKeyPem(keys.publicKey);
    const facts = unwrap(checkPublication(owner, cert, pubkey));
    assert.equal(facts.commonName, owner);
    for (const use of ['clientAuth', 'serverAuth'] as const) {
      assert.deepEqual(verifyPeerCertificate(facts, { cert }, use, NOW), { ok: true, value: owner });
    }
  });

  it('refuses a CN that is not an akash1 address', () => {
    const keys = generateP256();
    const cert = unwrap(
      createCertificate({
        subject: { commonName: 'example.org' },
        publicKey: keys.publicKey,
        signingKey: keys.privateKey,
        notBefore: NOW,
        notAfter: LATER,
      }),
    );
    const result = verifyPeerCertificate(unwrap(certificateFacts(cert)), { cert }, 'clientAuth', NOW);
    assert.equal(result.ok ? 'accepted' : result.error.details?.reason, 'invalid-cn');
  });
});
