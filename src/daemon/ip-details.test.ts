/** The routes the web console reads: a lease's IP details (owner only) and the provider's audit trail (internal). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { account, createHarness, type Harness, ipSdl, tokenOf } from './testing.js';

const alice = account(0xa11ce);
const bob = account(0xb0b);

describe('daemon IP details and audit routes', () => {
  let h: Harness;
  let dseq: string;

  before(async () => {
    h = await createHarness({ adminToken: 'an-admin-token-of-some-length' });
    h.fund(alice);
    h.fund(bob);
    const sdl = ipSdl('web-ip');
    dseq = h.lease(alice, sdl).dseq;
    const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, {
      token: tokenOf(alice, h.clock.now),
      body: sdl.manifest,
    });
    assert.equal(sent.status, 200);
  });
  after(() => h.close());

  it("tells the owner its workload's IP variables and the lease's audit trail", async () => {
    const response = await h.request('GET', `/lease/${dseq}/1/1/ip-details`, {
      token: tokenOf(alice, h.clock.now),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      env: Record<string, Record<string, string>>;
      audit: { action: string; address?: string; lease: string }[];
    };
    const address = body.env.web?.AKASH_LEASED_IP_WEB_IP ?? '';
    assert.match(address, /^203\.0\.113\.\d+$/);
    assert.ok(body.audit.some((event) => event.action === 'allocate' && event.address === address));
    assert.ok(body.audit.every((event) => event.lease.includes(`/${dseq}/1/1/`)));
  });

  it("refuses another owner's token (403)", async () => {
    const response = await h.request('GET', `/lease/${dseq}/1/1/ip-details`, {
      token: tokenOf(bob, h.clock.now),
    });
    assert.equal(response.status, 403);
  });

  it('lists the newest audit entries to the provider host only', async () => {
    const local = await h.request('GET', '/ip-audit?limit=2', { peer: '127.0.0.1' });
    assert.equal(local.status, 200);
    const events = (await local.json()) as { id: number }[];
    assert.equal(events.length, 2);
    assert.ok((events[0]?.id ?? 0) < (events[1]?.id ?? 0), 'oldest first');
    assert.equal((await h.request('GET', '/ip-audit', { peer: '198.51.100.7' })).status, 403);
    assert.equal((await h.request('GET', '/ip-audit?limit=0', { peer: '127.0.0.1' })).status, 400);
  });
});
