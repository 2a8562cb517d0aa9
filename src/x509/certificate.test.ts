import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { time } from './der.js';
import { createCa, createCertificate, generateP256, issueCertificate } from './index.js';

const NOW = new Date('2026-12-06T12:00:00Z');
const LATER = new Date('2027-12-06T12:00:00Z');

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) assert.fail(result.error.message);
  return result.value;
}

function openssl(pem: string): string | undefined {
  const run = spawnSync('openssl', ['x509', '-text', '-noout'], { input: pem, encoding: 'utf8' });
  if (run.error !== undefined) return undefined; // not installed
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

describe('x509 certificates', () => {
  const ca = unwrap(
    createCa({
      subject: { commonName: 'akash-ip webhook CA', organization: 'akash-ip' },
      notBefore: NOW,
      notAfter: LATER,
    }),
  );

  it('creates a self-signed CA that node parses and verifies', () => {
    const cert = new X509Certificate(ca.certificate);
    assert.equal(cert.subject, 'O=akash-ip\nCN=akash-ip webhook CA');
    assert.equal(cert.issuer, cert.subject);
    assert.equal(cert.ca, true);
    assert.ok(cert.verify(ca.issuer.publicKey));
    assert.ok(cert.checkIssued(cert));
    assert.equal(new Date(cert.validFrom).getTime(), NOW.getTime());
    assert.equal(new Date(cert.validTo).getTime(), LATER.getTime());
    assert.deepEqual(cert.keyUsage, undefined); // node lists extKeyUsage only; a CA carries none
  });

  it('issues a serving certificate with DNS and IP SANs, checked by node and by openssl', () => {
    const leaf = unwrap(
      issueCertificate(ca, {
        subject: { commonName: 'akash-ip-webhook.akash-services.svc' },
        notBefore: NOW,
        notAfter: LATER,
        dnsNames: ['akash-ip-webhook.akash-services.svc', 'localhost'],
        ipAddresses: ['127.0.0.1', '2001:db8::1'],
        usage: ['serverAuth'],
      }),
    );
    const cert = new X509Certificate(leaf.certificate);
    assert.equal(cert.ca, false);
    assert.ok(cert.verify(ca.issuer.publicKey));
    assert.ok(cert.checkIssued(new X509Certificate(ca.certificate)));
    assert.equal(
      cert.subjectAltName,
      'DNS:akash-ip-webhook.akash-services.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1',
    );
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('192.0.2.1'), undefined);
    const text = openssl(leaf.certificate);
    if (text !== undefined) {
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
      assert.match(text, /TLS Web Server Authentication/);
      assert.match(text, /X509v3 Subject Key Identifier/);
      assert.match(text, /X509v3 Authority Key Identifier/);
      assert.match(text, /Not Before: Dec {2}6 12:00:00 2026 GMT/);
    }
    const caText = openssl(ca.certificate);
    if (caText !== undefined) {
      assert.match(caText, /CA:TRUE/);
      assert.match(caText, /Certificate Sign, CRL Sign/);
    }
  });

  it('a TLS client that trusts only the CA completes a handshake with the issued certificate', async () => {
    const leaf = unwrap(
      issueCertificate(ca, {
        subject: { commonName: 'localhost' },
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        ipAddresses: ['127.0.0.1'],
        usage: ['serverAuth'],
      }),
    );
    const server = createServer({ cert: leaf.certificate, key: leaf.key, minVersion: 'TLSv1.2' }, (socket) =>
      socket.end('hello'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = connect({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        ca: ca.certificate,
      });
      const received = new Promise<string>((resolve, reject) => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      await once(socket, 'secureConnect');
      assert.equal(socket.authorized, true);
      assert.equal(await received, 'hello');
      socket.destroy();

      // A client trusting another CA refuses the same certificate.
      const other = unwrap(createCa({ subject: { commonName: 'other' }, notBefore: NOW, notAfter: LATER }));
      const refused = connect({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        ca: other.certificate,
      });
      const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
      assert.equal(error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    } finally {
      server.close();
    }
  });

  it("makes an Akash-style certificate: self-signed P-256, CN = the address, the auth-version attribute, Go's key usages", () => {
    const keys = generateP256();
    const pem = unwrap(
      createCertificate({
        subject: { commonName: 'akash1provider', extra: [{ oid: '2.23.133.2.6', value: 'v0.0.1' }] },
        issuer: { name: { commonName: 'akash1provider' }, publicKey: keys.publicKey },
        publicKey: keys.publicKey,
        signingKey: keys.privateKey,
        notBefore: NOW,
        notAfter: LATER,
        keyUsage: ['keyEncipherment', 'dataEncipherment'],
        usage: ['clientAuth', 'serverAuth'],
        dnsNames: ['provider.example.com'],
        serial: 42n,
      }),
    );
    const cert = new X509Certificate(pem);
    assert.equal(cert.subject, 'CN=akash1provider\n2.23.133.2.6=v0.0.1');
    assert.equal(cert.issuer, 'CN=akash1provider');
    assert.equal(cert.serialNumber, '2A');
    assert.ok(cert.verify(keys.publicKey));
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']);
    const text = openssl(pem);
    if (text !== undefined)
      assert.match(text, /X509v3 Key Usage: critical\s+Key Encipherment, Data Encipherment/);
  });

  it('uses UTCTime until 2049 and GeneralizedTime from 2050', () => {
    assert.equal(time(new Date('2049-12-31T23:59:59Z')).toString('latin1'), '\x17\x0d491231235959Z');
    assert.equal(time(new Date('2050-01-01T00:00:00Z')).toString('latin1'), '\x18\x0f20500101000000Z');
    const keys = generateP256();
    const pem = unwrap(
      createCertificate({
        subject: { commonName: 'long' },
        publicKey: keys.publicKey,
        signingKey: keys.privateKey,
        notBefore: NOW,
        notAfter: new Date('2051-06-01T00:00:00Z'),
      }),
    );
    assert.equal(new Date(new X509Certificate(pem).validTo).toISOString(), '2051-06-01T00:00:00.000Z');
  });

  it('refuses keys that are not P-256, bad names and addresses, and an empty validity', () => {
    const keys = generateP256();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const base = {
      subject: { commonName: 'x' },
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      notBefore: NOW,
      notAfter: LATER,
    };
    const refusals = [
      createCertificate({ ...base, publicKey: rsa.publicKey }),
      createCertificate({ ...base, signingKey: rsa.privateKey }),
      createCertificate({ ...base, signingKey: keys.publicKey }),
      createCertificate({ ...base, notAfter: NOW }),
      createCertificate({ ...base, dnsNames: ['not a name'] }),
      createCertificate({ ...base, ipAddresses: ['192.0.2.300'] }),
      createCertificate({ ...base, serial: 0n }),
    ];
    for (const result of refusals) {
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, 'INVALID_INPUT');
    }
  });
});
