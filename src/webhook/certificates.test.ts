import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { appError, fail, ok } from '../errors/index.js';
import { type RotationTargets, WebhookCertificates } from './certificates.js';
import type { ServingCertificate } from './server.js';

const DAY = 86_400_000;

function cas(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}

describe('webhook certificates and their rotation', () => {
  it('renews the serving certificate, then the CA with an overlap in the bundle, then drops the old CA', async () => {
    let now = Date.parse('2026-12-06T12:00:00Z');
    const created = WebhookCertificates.create({
      ipAddresses: ['127.0.0.1'],
      dnsNames: ['webhook.svc'],
      now: () => now,
    });
    assert.ok(created.ok);
    const certs = created.value;
    const published: string[] = [];
    const served: ServingCertificate[] = [];
    let refuse = false;
    const targets: RotationTargets = {
      publish: async (bundle) => {
        if (refuse) return fail(appError('K8S_UNAVAILABLE', 'down'));
        published.push(bundle);
        return ok(undefined);
      },
      serve: (certificate) => served.push(certificate),
    };
    const [firstCa] = cas(certs.caBundle());
    assert.ok(firstCa !== undefined);
    const first = new X509Certificate(certs.serving().cert);
    assert.ok(first.checkIssued(firstCa) && first.verify(firstCa.publicKey));
    assert.equal(first.checkIP('127.0.0.1'), '127.0.0.1');

    assert.deepEqual(await certs.rotate(targets), { ok: true, value: { bundle: false, certificate: false } });
    now += 21 * DAY;
    assert.deepEqual(await certs.rotate(targets), { ok: true, value: { bundle: false, certificate: true } });
    assert.equal(served.length, 1);
    assert.ok(new X509Certificate(served[0]!.cert).checkIssued(firstCa));

    // The CA nears its end: its successor is published first, a publication failure is retried.
    now += 315 * DAY;
    refuse = true;
    const failed = await certs.rotate(targets);
    assert.equal(failed.ok, false);
    refuse = false;
    assert.deepEqual(await certs.rotate(targets), { ok: true, value: { bundle: true, certificate: true } });
    const bundle = cas(published.at(-1)!);
    assert.equal(bundle.length, 2);
    const nextCa = bundle[1]!;
    // Until the apiserver had time to read the bundle, the old CA still signs.
    assert.ok(new X509Certificate(served.at(-1)!.cert).checkIssued(firstCa));
    now += 31_000;
    assert.deepEqual(await certs.rotate(targets), { ok: true, value: { bundle: false, certificate: true } });
    assert.ok(new X509Certificate(served.at(-1)!.cert).checkIssued(nextCa));
    assert.equal(cas(certs.caBundle())[0]!.fingerprint256, nextCa.fingerprint256);

    // The old CA expires and leaves the bundle.
    now += 30 * DAY;
    const dropped = await certs.rotate(targets);
    assert.ok(dropped.ok && dropped.value.bundle);
    assert.deepEqual(
      cas(published.at(-1)!).map((ca) => ca.fingerprint256),
      [nextCa.fingerprint256],
    );
  });

  it('renews on request', async () => {
    const created = WebhookCertificates.create({ ipAddresses: ['127.0.0.1'], settleMs: 0 });
    assert.ok(created.ok);
    const served: ServingCertificate[] = [];
    const targets: RotationTargets = { publish: async () => ok(undefined), serve: (c) => served.push(c) };
    const before = created.value.serving().cert;
    assert.deepEqual(await created.value.rotate(targets, 'certificate'), {
      ok: true,
      value: { bundle: false, certificate: true },
    });
    assert.notEqual(served[0]?.cert, before);
    assert.deepEqual(await created.value.rotate(targets, 'ca'), {
      ok: true,
      value: { bundle: true, certificate: true },
    });
    assert.equal(cas(created.value.caBundle()).length, 2);
  });
});
