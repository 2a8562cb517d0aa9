import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { leaseNamespace } from '../k8s/index.js';
import { createLeaseEngine, type LeaseEngine } from '../lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../lease/testing.js';
import { createMemoryStore } from '../store/index.js';
import { type CertificateAuthority, createCa, issueCertificate } from '../x509/index.js';
import { engineLookup } from './engine-lookup.js';
import type { LeasedIpLookup, ReviewOutcome } from './review.js';
import { review } from './review.js';
import { createWebhookServer, type ServingCertificate, type WebhookServer } from './server.js';
import { patchOf, podReview, post, unwrap } from './testing.js';

function serving(ca: CertificateAuthority): ServingCertificate {
  const issued = unwrap(
    issueCertificate(ca, {
      subject: { commonName: 'webhook' },
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      ipAddresses: ['127.0.0.1'],
      usage: ['serverAuth'],
    }),
  );
  return { cert: issued.certificate, key: issued.key };
}

const WEB = { 'akash.network/manifest-service': 'web' };
const fixed: LeasedIpLookup = (namespace, service) =>
  namespace === 'lease-ns' && service === 'web' ? { AKASH_LEASED_IP_WEB: '192.0.2.7' } : undefined;

describe('admission review', () => {
  it('patches a pod of a lease service, echoing the uid', async () => {
    const decision = await review(podReview('lease-ns', { labels: WEB }, { uid: 'u-1' }), fixed);
    assert.equal(decision.outcome, 'injected');
    assert.equal((decision.answer as { response: { uid: string } }).response.uid, 'u-1');
    assert.deepEqual(patchOf(decision.answer), [
      {
        op: 'add',
        path: '/spec/containers/0/env',
        value: [{ name: 'AKASH_LEASED_IP_WEB', value: '192.0.2.7' }],
      },
    ]);
  });

  it('allows everything else unchanged: other namespace, no label, unknown service, not CREATE, not a pod', async () => {
    const cases: [unknown, ReviewOutcome][] = [
      [podReview('other', { labels: WEB }), 'skipped'],
      [podReview('lease-ns', {}), 'skipped'],
      [podReview('lease-ns', { labels: { 'akash.network/manifest-service': 'db' } }), 'skipped'],
      [podReview('lease-ns', { labels: WEB }, { operation: 'UPDATE' }), 'skipped'],
      [podReview('lease-ns', { labels: WEB }, { kind: 'Service' }), 'skipped'],
      [podReview('lease-ns', { labels: WEB, containers: 'nope' as unknown as unknown[] }), 'malformed'],
    ];
    for (const [body, outcome] of cases) {
      const decision = await review(body, fixed);
      assert.equal(decision.outcome, outcome, JSON.stringify(body));
      assert.equal(patchOf(decision.answer), undefined);
    }
    const none = await review({ kind: 'AdmissionReview' }, fixed);
    assert.deepEqual(none, { outcome: 'malformed', answer: undefined });
    const failing = await review(podReview('lease-ns', { labels: WEB }), () => {
      throw new Error('boom');
    });
    assert.equal(failing.outcome, 'error');
    assert.equal(patchOf(failing.answer), undefined);
  });
});

describe('engine lookup (daemon mode)', () => {
  let engine: LeaseEngine;
  const lease = leaseOf('akash1tenant', 7);
  before(async () => {
    engine = unwrap(
      await createLeaseEngine({
        store: createMemoryStore(),
        provider: PROVIDER,
        pools: [{ name: 'a', addresses: ['192.0.2.0/28'] }],
      }),
    );
    unwrap(
      await engine.deploy(
        lease,
        manifestGroup('dcloud', {
          web: [{ port: 80, ip: 'web' }],
          node: [
            { port: 26656, ip: 'p2p' },
            { port: 26657, ip: 'web' },
          ],
          plain: [{ port: 8080 }],
        }),
      ),
    );
  });

  it("finds the lease by its tenant namespace and gives each service its endpoints' variables", () => {
    const { lookup, leaseOf: owner } = engineLookup(engine);
    const namespace = leaseNamespace(lease);
    assert.deepEqual(owner(namespace), lease);
    const view = engine.lease(lease)!;
    const address = (name: string) => view.endpoints.find((e) => e.name === name)!.addresses[0]!;
    assert.deepEqual(lookup(namespace, 'web'), {
      AKASH_LEASED_IP_WEB: address('web'),
      AKASH_LEASED_IPS: `web=${address('web')}`,
    });
    assert.deepEqual(lookup(namespace, 'node'), {
      AKASH_LEASED_IP_P2P: address('p2p'),
      AKASH_LEASED_IP_WEB: address('web'),
      AKASH_LEASED_IPS: `p2p=${address('p2p')},web=${address('web')}`,
    });
    // The names agree with the engine's own env().
    const env = unwrap(engine.env(lease));
    assert.equal(
      (lookup(namespace, 'node') as Record<string, string>).AKASH_LEASED_IP_P2P,
      env.node?.AKASH_LEASED_IP_P2P,
    );
    assert.equal(lookup(namespace, 'plain'), undefined);
    assert.equal(lookup('not-a-lease', 'web'), undefined);
  });

  it('finds a lease deployed later (remembered at once, or by a scan at most once a second); forgets a closed one', async () => {
    let now = 0;
    const { lookup, remember } = engineLookup(engine, { now: () => now });
    const later = leaseOf('akash1tenant', 8);
    assert.equal(lookup(leaseNamespace(later), 'web'), undefined);
    unwrap(await engine.deploy(later, manifestGroup('dcloud', { web: [{ port: 80, ip: 'other' }] })));
    // Within a second of the last scan an unknown namespace is not scanned for again...
    now = 999;
    assert.equal(lookup(leaseNamespace(later), 'web'), undefined);
    now = 1_000;
    assert.ok(lookup(leaseNamespace(later), 'web')?.AKASH_LEASED_IP_OTHER);
    // ...unless the host process names the lease.
    const third = leaseOf('akash1tenant', 9);
    unwrap(await engine.deploy(third, manifestGroup('dcloud', { web: [{ port: 80, ip: 'third' }] })));
    assert.equal(lookup(leaseNamespace(third), 'web'), undefined);
    remember(third);
    assert.ok(lookup(leaseNamespace(third), 'web')?.AKASH_LEASED_IP_THIRD);
    unwrap(await engine.close(later));
    assert.equal(lookup(leaseNamespace(later), 'web'), undefined);
  });
});

describe('webhook server', () => {
  const ca = unwrap(
    createCa({
      subject: { commonName: 'test CA' },
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
    }),
  );
  let server: WebhookServer;
  let port: number;
  const outcomes: ReviewOutcome[] = [];
  let release: (() => void) | undefined;

  before(async () => {
    server = createWebhookServer({
      certificate: serving(ca),
      handlerTimeoutMs: 300,
      maxBodyBytes: 64 * 1024,
      onReview: (outcome, seconds) => {
        assert.ok(seconds >= 0);
        outcomes.push(outcome);
      },
      lookup: (namespace, service) =>
        namespace === 'slow'
          ? new Promise((resolve) => {
              release = () => resolve({ AKASH_LEASED_IP_WEB: '192.0.2.9' });
            })
          : fixed(namespace, service),
    });
    port = (await server.listen()).port;
  });

  after(async () => {
    release?.();
    await server.close();
  });

  it('answers a review over TLS 1.2+ with the patch', async () => {
    const answer = await post(port, ca.certificate, JSON.stringify(podReview('lease-ns', { labels: WEB })));
    assert.equal(answer.status, 200);
    assert.equal(patchOf(answer.body)?.length, 1);
    assert.equal(outcomes.at(-1), 'injected');
  });

  it('answers allowed without a patch when the lookup is slower than the handler timeout', async () => {
    const answer = await post(port, ca.certificate, JSON.stringify(podReview('slow', { labels: WEB })));
    assert.equal(answer.status, 200);
    assert.equal(patchOf(answer.body), undefined);
    assert.equal(outcomes.at(-1), 'timeout');
  });

  it('refuses a body over the limit, non-JSON and non-reviews (the apiserver then applies Ignore)', async () => {
    const big = await post(port, ca.certificate, Buffer.alloc(65 * 1024, 0x20));
    assert.equal(big.status, 413);
    // Without a declared length (chunked), the limit holds while reading.
    const chunked = await post(port, ca.certificate, [
      Buffer.alloc(40 * 1024, 0x20),
      Buffer.alloc(40 * 1024, 0x20),
    ]);
    assert.equal(chunked.status, 413);
    const junk = await post(port, ca.certificate, 'not json');
    assert.equal(junk.status, 400);
    const notReview = await post(port, ca.certificate, '{"kind":"Pod"}');
    assert.equal(notReview.status, 400);
    const wrongPath = await post(port, ca.certificate, '{}', '/other');
    assert.equal(wrongPath.status, 404);
    assert.deepEqual(outcomes.slice(-4), ['malformed', 'malformed', 'malformed', 'malformed']);
  });

  it('serves a new certificate to new connections after setCertificate, without a restart', async () => {
    const before = await post(port, ca.certificate, JSON.stringify(podReview('x', {})));
    const next = unwrap(
      createCa({
        subject: { commonName: 'next CA' },
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
      }),
    );
    const certificate = serving(next);
    server.setCertificate(certificate);
    const afterSwap = await post(port, next.certificate, JSON.stringify(podReview('x', {})));
    assert.equal(afterSwap.status, 200);
    assert.equal(afterSwap.serial, new X509Certificate(certificate.cert).serialNumber);
    assert.notEqual(afterSwap.serial, before.serial);
    await assert.rejects(post(port, ca.certificate, JSON.stringify(podReview('x', {}))));
  });
});
