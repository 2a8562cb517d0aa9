import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appError, fail, ok } from '../errors/index.js';
import { Ledger } from '../market/index.js';
import { createAccountCertificate } from '../x509/index.js';
import { account, unwrap } from './fixtures.js';
import type { Logger } from './logger.js';
import {
  ClientCertificates,
  ledgerCertificates,
  loadOrCreateServerCertificate,
  publishServerCertificate,
} from './tls.js';

const provider = account(0x7151);
const tenant = account(0x7152);
const NOW = new Date('2026-12-06T12:00:00Z');
const quiet: Logger = { log: () => undefined };

describe('the gateway certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const files = {
    certFile: join(dir, 'provider-cert.pem'),
    keyFile: join(dir, 'private', 'provider-key.pem'),
  };

  it('is created on first start (CN = the provider, key 0600), kept after, and published once', async () => {
    const first = unwrap(
      await loadOrCreateServerCertificate(files, provider.address, ['127.0.0.1'], NOW, quiet),
    );
    const cert = new X509Certificate(first.cert);
    assert.equal(cert.subject, `CN=${provider.address}`);
    assert.equal(cert.issuer, cert.subject);
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(statSync(files.keyFile).mode & 0o777, 0o600);
    const again = unwrap(await loadOrCreateServerCertificate(files, provider.address, [], NOW, quiet));
    assert.equal(again.serial, first.serial);

    const ledger = unwrap(Ledger.open({ path: ':memory:' }));
    unwrap(
      ledger.fundAccount({
        address: provider.address,
        amount: { denom: 'uakt', amount: '1' },
        pubkey: provider.pubkey,
      }),
    );
    assert.deepEqual(await publishServerCertificate(ledger, provider.address, first), ok('published'));
    assert.deepEqual(await publishServerCertificate(ledger, provider.address, first), ok('already'));
    const published = unwrap(ledger.listCertificates({ owner: provider.address }));
    assert.equal(published.length, 1);
    assert.match(published[0]?.pubkey ?? '', /^-----BEGIN EC PUBLIC KEY-----\n/, 'as Akash writes it');
    ledger.close();
  });

  it('is replaced when it runs out within a day, and refused when it names another address', async () => {
    const first = unwrap(await loadOrCreateServerCertificate(files, provider.address, [], NOW, quiet));
    const late = new Date(first.notAfter.getTime() - 3_600_000);
    const renewed = unwrap(await loadOrCreateServerCertificate(files, provider.address, [], late, quiet));
    assert.notEqual(renewed.serial, first.serial);
    const foreign = unwrap(
      createAccountCertificate({
        address: tenant.address,
        kind: 'server',
        notBefore: NOW,
        notAfter: new Date(NOW.getTime() + 1e9),
      }),
    );
    writeFileSync(files.certFile, foreign.cert);
    writeFileSync(files.keyFile, foreign.key);
    const refused = await loadOrCreateServerCertificate(files, provider.address, [], NOW, quiet);
    assert.equal(refused.ok ? 'used' : refused.error.code, 'INVALID_INPUT');
  });
});

describe('mTLS client certificates', () => {
  const made = unwrap(
    createAccountCertificate({
      address: tenant.address,
      kind: 'client',
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 86_400_000),
    }),
  );
  const peer = new X509Certificate(made.cert);

  it('grant full access to the owner, and a revocation is seen once the cached answer expires', async () => {
    const ledger = unwrap(Ledger.open({ path: ':memory:' }));
    unwrap(
      ledger.fundAccount({
        address: tenant.address,
        amount: { denom: 'uakt', amount: '1' },
        pubkey: tenant.pubkey,
      }),
    );
    unwrap(ledger.createCertificate({ owner: tenant.address, cert: made.cert, pubkey: made.pubkey }));
    let now = NOW.getTime();
    let lookups = 0;
    const onLedger = ledgerCertificates(ledger);
    const certificates = new ClientCertificates({
      lookup: (owner, serial) => {
        lookups++;
        return onLedger(owner, serial);
      },
      now: () => now,
      cacheSize: 10,
      cacheMs: 10_000,
    });
    const claims = unwrap(await certificates.verify(peer));
    assert.equal(claims.iss, tenant.address);
    assert.deepEqual(claims.leases, { access: 'full' });
    assert.equal(claims.exp - claims.nbf, 900);

    unwrap(ledger.revokeCertificate({ owner: tenant.address, serial: made.serial }));
    now += 5_000;
    assert.ok((await certificates.verify(peer)).ok, 'still cached');
    assert.equal(lookups, 1);
    now += 5_000;
    const refused = await certificates.verify(peer);
    assert.equal(refused.ok ? 'accepted' : refused.error.details?.reason, 'not-published');
    assert.equal(lookups, 2);
    ledger.close();
  });

  it('answer UNAVAILABLE when the ledger cannot be asked, and remember nothing of it', async () => {
    let calls = 0;
    const certificates = new ClientCertificates({
      lookup: () => {
        calls++;
        return Promise.resolve(fail(appError('UNAVAILABLE', 'ledger down')));
      },
      now: () => NOW.getTime(),
      cacheSize: 10,
      cacheMs: 10_000,
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await certificates.verify(peer);
      assert.equal(result.ok ? 'accepted' : result.error.code, 'UNAVAILABLE');
    }
    assert.equal(calls, 2);
  });
});
