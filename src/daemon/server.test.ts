import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listen, providerListener } from './server.js';
import { account, createHarness, type Harness, ipSdl, tokenOf, unwrap } from './testing.js';

const alice = account(0xa11ce);
const bob = account(0xb0b);

describe('the lease-status fast lane', () => {
  let h: Harness;
  let url: string;
  let close: () => Promise<void>;
  let dseq: string;

  before(async () => {
    h = await createHarness();
    h.fund(alice);
    h.fund(bob);
    const sdl = ipSdl('lane-ip');
    dseq = h.lease(alice, sdl).dseq;
    const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, {
      token: tokenOf(alice, h.clock.now),
      body: sdl.manifest,
    });
    assert.equal(sent.status, 200);
    const listener = providerListener(h.app, {
      service: () => h.service,
      readiness: h.readiness,
      verifier: h.verifier,
      metrics: h.metrics,
    });
    const { server, port } = unwrap(await listen(listener, '127.0.0.1', 0));
    url = `http://127.0.0.1:${port}`;
    close = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  });
  after(async () => {
    await close();
    h.close();
  });

  it('answers a verified token as the app does, and counts both lanes under one route', async () => {
    const headers = { authorization: `Bearer ${tokenOf(alice, h.clock.now, { ttlSeconds: 600 })}` };
    const first = await fetch(`${url}/lease/${dseq}/1/1/status`, { headers });
    const second = await fetch(`${url}/lease/${dseq}/1/1/status`, { headers });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('content-type'), 'application/json');
    assert.equal(await second.text(), await first.text());
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(
      metrics,
      /akash_ip_http_request_duration_seconds_count\{method="GET",route="\/lease\/:dseq\/:gseq\/:oseq\/status",status="200"\} 2/,
    );
  });

  it('leaves every refusal to the app', async () => {
    const short = tokenOf(alice, h.clock.now, { ttlSeconds: 30 });
    assert.equal(
      (await fetch(`${url}/lease/${dseq}/1/1/status`, { headers: { authorization: `Bearer ${short}` } }))
        .status,
      200,
    );
    h.clock.now += 60_000;
    try {
      const expired = await fetch(`${url}/lease/${dseq}/1/1/status`, {
        headers: { authorization: `Bearer ${short}` },
      });
      assert.equal(expired.status, 401);
      assert.equal(((await expired.json()) as { code: string }).code, 'UNAUTHENTICATED');
    } finally {
      h.clock.now -= 60_000;
    }
    const bobs = { authorization: `Bearer ${tokenOf(bob, h.clock.now)}` };
    for (let round = 0; round < 2; round++) {
      const denied = await fetch(`${url}/lease/${dseq}/1/1/status`, { headers: bobs });
      assert.equal(denied.status, 403);
      assert.equal(denied.headers.get('content-type'), 'application/json');
    }
    h.readiness.close();
    try {
      const headers = { authorization: `Bearer ${tokenOf(alice, h.clock.now)}` };
      assert.equal((await fetch(`${url}/lease/${dseq}/1/1/status`, { headers })).status, 503);
    } finally {
      h.readiness.open();
    }
  });
});
