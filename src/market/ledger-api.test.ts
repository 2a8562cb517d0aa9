import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppError, Result } from '../errors/index.js';
import { createAccountCertificate } from '../x509/index.js';
import { BidEngine, type BidGate } from './bid-engine.js';
import { leasedIpCount } from './group.js';
import { Ledger } from './ledger.js';
import { createLedgerApi, type LedgerApiOptions } from './ledger-api.js';
import { signRequest } from './ledger-auth.js';
import { LedgerClient } from './ledger-client.js';
import { runBlockClock, serveLedger } from './ledger-server.js';
import { groupSpec, hashOf, IP_LEASE, testAccount } from './testing.js';

const owner = testAccount(21);
const provider = testAccount(22);
const stranger = testAccount(23);
const BASE = 'http://ledger.test';

function value<T>(result: Result<T, AppError>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}
const uakt = (amount: number) => ({ denom: 'uakt', amount: String(amount) });

function setup(options: LedgerApiOptions = {}) {
  const ledger = value(Ledger.open({ path: ':memory:' }));
  const app = createLedgerApi(ledger, options);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { ledger, app, post };
}

/** Funds owner and provider (with public keys) and registers the provider with ip-lease. */
function seed(ledger: Ledger) {
  value(ledger.fundAccount({ address: owner.address, amount: uakt(50_000_000), pubkey: owner.pubkey }));
  value(ledger.fundAccount({ address: provider.address, amount: uakt(0), pubkey: provider.pubkey }));
  value(
    ledger.registerProvider({
      address: provider.address,
      hostUri: 'https://127.0.0.1:8443',
      attributes: [IP_LEASE],
    }),
  );
}

const deploymentBody = (groups = [groupSpec({ attributes: [IP_LEASE], units: [{ ips: [1] }] })]) => ({
  owner: owner.address,
  groups,
  hash: hashOf(5),
  deposit: uakt(5_000_000),
});

describe('ledger API (in-process, no auth)', () => {
  it('runs a deployment from order to lease to close over JSON', async () => {
    const { ledger, app, post } = setup({ auth: 'none' });
    seed(ledger);
    const created = await post('/v1/deployments', deploymentBody());
    assert.equal(created.status, 201);
    const { deployment, orders } = (await created.json()) as {
      deployment: { id: { dseq: string } };
      orders: unknown[];
    };
    assert.equal(orders.length, 1);
    const dseq = deployment.id.dseq;
    const open = await (await app.request(`/v1/orders?state=open&owner=${owner.address}`)).json();
    assert.equal((open as unknown[]).length, 1);
    const order = { owner: owner.address, dseq, gseq: 1, oseq: 1 };
    const bid = await post('/v1/bids', {
      order,
      provider: provider.address,
      price: { denom: 'uakt', amount: '20' },
    });
    assert.equal(bid.status, 201);
    const bidPath = `${owner.address}/${dseq}/1/1/${provider.address}`;
    assert.equal((await app.request(`/v1/bids/${bidPath}`)).status, 200);
    const lease = await post('/v1/leases', { bid: { ...order, provider: provider.address } });
    assert.equal(lease.status, 201);
    assert.equal(((await lease.json()) as { state: string }).state, 'active');
    const blocks = await post('/v1/blocks', { count: 2 });
    assert.equal(((await blocks.json()) as { height: number }).height, 3);
    const events = (await (await app.request('/v1/events?after=0&limit=1000')).json()) as { type: string }[];
    assert.deepEqual(
      events.slice(-3).map((e) => e.type),
      ['OrderCreated', 'BidCreated', 'LeaseCreated'],
    );
    const closed = await post(`/v1/leases/${bidPath}/close`, { actor: owner.address });
    assert.equal(((await closed.json()) as { closedReason: string }).closedReason, 'owner');
    const gone = await post(`/v1/deployments/${owner.address}/${dseq}/close`, {});
    assert.equal(((await gone.json()) as { state: string }).state, 'closed');
  });

  it('answers errors as {error, code} with the table status', async () => {
    const { ledger, app, post } = setup({ auth: 'none', maxBodyBytes: 4096 });
    seed(ledger);
    const expect = async (response: Response | Promise<Response>, status: number, code: string) => {
      const answer = await response;
      const body = (await answer.json()) as { error: string; code: string };
      assert.equal(answer.status, status, `${code}: ${body.error}`);
      assert.equal(body.code, code);
      assert.equal(typeof body.error, 'string');
      assert.match(answer.headers.get('content-type') ?? '', /application\/json/);
    };
    await expect(app.request(`/v1/deployments/${owner.address}/77`), 404, 'DEPLOYMENT_NOT_FOUND');
    await expect(app.request(`/v1/deployments/${owner.address}/0`), 400, 'INVALID_INPUT');
    await expect(app.request(`/v1/orders/${owner.address}/1/x/1`), 400, 'INVALID_INPUT');
    await expect(app.request('/v1/nowhere'), 404, 'NOT_FOUND');
    await expect(post('/v1/deployments', '{not json'), 400, 'INVALID_INPUT');
    const deep = `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`; // 3.6 KB: under this test's body limit
    await expect(post('/v1/deployments', `{"owner":${deep}}`), 400, 'INPUT_TOO_DEEP');
    await expect(post('/v1/deployments', { ...deploymentBody(), extra: 1 }), 400, 'INVALID_INPUT');
    await expect(post('/v1/deployments', 'x'.repeat(5000)), 413, 'PAYLOAD_TOO_LARGE');
    await expect(app.request('/v1/bids?state=sold'), 400, 'INVALID_INPUT');
    await expect(
      post('/v1/deployments', { ...deploymentBody(), deposit: uakt(999_999_999) }),
      402,
      'INSUFFICIENT_FUNDS',
    );
    const created = (await (await post('/v1/deployments', deploymentBody())).json()) as {
      deployment: { id: { dseq: string } };
    };
    const order = { owner: owner.address, dseq: created.deployment.id.dseq, gseq: 1, oseq: 1 };
    value(ledger.fundAccount({ address: stranger.address, amount: uakt(0) }));
    value(
      ledger.registerProvider({ address: stranger.address, hostUri: 'http://127.0.0.1:1', attributes: [] }),
    );
    await expect(
      post('/v1/bids', { order, provider: stranger.address, price: uakt(1) }),
      422,
      'ATTRIBUTE_MISMATCH',
    );
    await expect(
      post('/v1/bids', { order, provider: provider.address, price: uakt(10_000) }),
      422,
      'BID_OVER_ORDER',
    );
    await expect(post('/v1/leases', { bid: { ...order, provider: provider.address } }), 404, 'BID_NOT_FOUND');
  });
});

describe('ledger API authentication', () => {
  it('needs a write to be signed by the account it acts for, once, recently', async () => {
    const { ledger, post } = setup();
    seed(ledger);
    const body = JSON.stringify(deploymentBody());
    const sign = (key: Uint8Array, now = Date.now()) =>
      signRequest({ method: 'POST', pathWithQuery: '/v1/deployments', body }, key, now);
    const code = async (response: Response | Promise<Response>) =>
      ((await (await response).json()) as { code?: string }).code;
    assert.equal(await code(post('/v1/deployments', body)), 'UNAUTHENTICATED');
    assert.equal(await code(post('/v1/deployments', body, sign(provider.privateKey))), 'FORBIDDEN');
    assert.equal(
      await code(post('/v1/deployments', body, sign(owner.privateKey, Date.now() - 120_000))),
      'UNAUTHENTICATED',
    );
    const tampered = JSON.stringify({ ...deploymentBody(), deposit: uakt(6_000_000) });
    assert.equal(await code(post('/v1/deployments', tampered, sign(owner.privateKey))), 'UNAUTHENTICATED');
    const headers = sign(owner.privateKey);
    assert.equal((await post('/v1/deployments', body, headers)).status, 201);
    assert.equal(
      await code(post('/v1/deployments', body, headers)),
      'UNAUTHENTICATED',
      'a replay is refused',
    );
  });

  it('refuses an account with no public key on record', async () => {
    const { ledger, post } = setup();
    value(ledger.fundAccount({ address: stranger.address, amount: uakt(10_000_000) }));
    const body = JSON.stringify({ ...deploymentBody(), owner: stranger.address });
    const headers = signRequest(
      { method: 'POST', pathWithQuery: '/v1/deployments', body },
      stranger.privateKey,
    );
    const answer = (await (await post('/v1/deployments', body, headers)).json()) as {
      code: string;
      error: string;
    };
    assert.equal(answer.code, 'UNAUTHENTICATED');
    assert.match(answer.error, /public key/);
  });

  it('guards the faucet and the block clock with the admin token when one is set', async () => {
    const { post } = setup({ adminToken: 's3cret' });
    const fund = { address: owner.address, amount: uakt(1) };
    assert.equal((await post('/v1/faucet', fund)).status, 401);
    assert.equal((await post('/v1/faucet', fund, { authorization: 'Bearer wrong!' })).status, 401);
    assert.equal((await post('/v1/faucet', fund, { authorization: 'Bearer s3cret' })).status, 200);
    assert.equal((await post('/v1/blocks', {}, { authorization: 'Bearer s3cret' })).status, 200);
  });
});

describe('LedgerClient', () => {
  it('speaks the whole API in-process, signing with the keys it holds', async () => {
    const { ledger, app } = setup({ adminToken: 't' });
    const send = (url: string, init: RequestInit) => Promise.resolve(app.request(url, init));
    const admin = new LedgerClient({ url: BASE, adminToken: 't', fetch: send });
    const tenant = new LedgerClient({ url: BASE, keys: [owner.privateKey], fetch: send });
    const host = new LedgerClient({ url: BASE, keys: [provider.privateKey], fetch: send });
    value(
      await admin.fundAccount({ address: owner.address, amount: uakt(20_000_000), pubkey: owner.pubkey }),
    );
    value(await admin.fundAccount({ address: provider.address, amount: uakt(0), pubkey: provider.pubkey }));
    value(
      await host.registerProvider({
        address: provider.address,
        hostUri: 'https://127.0.0.1:8443',
        attributes: [IP_LEASE],
      }),
    );
    const { deployment, orders } = value(await tenant.createDeployment(deploymentBody()));
    assert.ok(Object.isFrozen(deployment) && Object.isFrozen(deployment.groups[0]?.spec));
    const orderId = orders[0]!.id;
    assert.equal(value(await host.getOrder(orderId)).spec.requirements.attributes?.[0]?.key, 'ip-lease');
    const bid = value(await host.createBid({ order: orderId, provider: provider.address, price: uakt(7) }));
    assert.equal(value(await tenant.listBids({ owner: owner.address, state: 'open' })).length, 1);
    const denied = await tenant.createBid({ order: orderId, provider: provider.address, price: uakt(7) });
    assert.equal(denied.ok ? 'ok' : denied.error.code, 'UNAUTHENTICATED');
    const lease = value(await tenant.createLease(bid.id));
    assert.equal(lease.state, 'active');
    value(await admin.advanceBlocks(10));
    assert.equal(value(await host.getAccount(provider.address)).balance, '70');
    assert.equal(value(await tenant.getLease(lease.id)).paid, '70.000000000000000000');
    assert.equal(value(await tenant.listLeases({ provider: provider.address })).length, 1);
    value(await tenant.updateDeployment({ id: deployment.id, hash: hashOf(6) }));
    value(await tenant.depositDeployment({ id: deployment.id, amount: uakt(1_000_000) }));
    assert.equal(value(await host.listProviders()).length, 1);
    assert.equal(value(await host.getProvider(provider.address)).hostUri, 'https://127.0.0.1:8443');
    assert.equal(value(await tenant.listOrders({ dseq: deployment.id.dseq })).length, 1);
    assert.equal(value(await tenant.getDeployment(deployment.id)).hash, hashOf(6));
    value(await host.closeLease({ id: lease.id, actor: provider.address }));
    assert.equal(value(await host.getBid(bid.id)).state, 'closed');
    const closed = value(await tenant.closeDeployment(deployment.id));
    assert.equal(closed.state, 'closed');
    assert.equal(value(await tenant.listDeployments({ owner: owner.address, state: 'closed' })).length, 1);
    const events = value(await tenant.eventsSince(0, 1000));
    assert.equal(events.at(-1)?.type, 'DeploymentClosed');
    assert.deepEqual(value(await tenant.status()), value(ledger.status()));
    const missing = await tenant.getDeployment({ owner: owner.address, dseq: '999' });
    assert.equal(missing.ok ? 'ok' : missing.error.code, 'DEPLOYMENT_NOT_FOUND');
  });

  it('reports an unreachable ledger as UNAVAILABLE', async () => {
    const server = await serveLedger(value(Ledger.open({ path: ':memory:' })));
    await server.close();
    const client = new LedgerClient({ url: server.url, timeoutMs: 2000 });
    const status = await client.status();
    assert.equal(status.ok ? 'ok' : status.error.code, 'UNAVAILABLE');
  });
});

describe('ledger server on 127.0.0.1', () => {
  it('drives a provider bid engine over real HTTP', async () => {
    const ledger = value(Ledger.open({ path: ':memory:' }));
    seed(ledger);
    const server = await serveLedger(ledger);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const tenant = new LedgerClient({ url: server.url, keys: [owner.privateKey] });
      const host = new LedgerClient({ url: server.url, keys: [provider.privateKey] });
      const pool = { free: 1 };
      const gate: BidGate = {
        reserve: (_key, spec) => {
          const ips = leasedIpCount(spec);
          if (ips > pool.free)
            return { ok: false, error: { code: 'INSUFFICIENT_IPS', message: 'pool exhausted' } };
          pool.free -= ips;
          return { ok: true, value: { ips } };
        },
        unreserve: () => {
          pool.free = 1;
        },
      };
      const engine = new BidEngine({ ledger: host, provider: provider.address, gate });
      value(await engine.poll());
      const created = value(
        await tenant.createDeployment(
          deploymentBody([
            groupSpec({ name: 'ip-a', units: [{ ips: [1] }] }),
            groupSpec({ name: 'ip-b', units: [{ ips: [1] }] }),
            groupSpec({ name: 'plain' }),
          ]),
        ),
      );
      value(await engine.poll());
      const outcomes = engine.recentDecisions().map((d) => `${d.order.gseq}:${d.outcome}:${d.code ?? ''}`);
      assert.deepEqual(outcomes, ['1:bid:', '2:declined:INSUFFICIENT_IPS', '3:bid:']);
      const bids = value(await tenant.listBids({ dseq: created.deployment.id.dseq, state: 'open' }));
      assert.deepEqual(
        bids.map((b) => b.id.gseq),
        [1, 3],
      );
      value(await tenant.createLease(bids[0]!.id));
      value(await engine.poll());
      assert.deepEqual(engine.pendingOrders(), [`${owner.address}/${created.deployment.id.dseq}/3/1`]);
    } finally {
      await server.close();
    }
  });
});

describe('block clock', () => {
  it('advances one block per tick until aborted', async () => {
    const ledger = value(Ledger.open({ path: ':memory:' }));
    const controller = new AbortController();
    const heights: number[] = [];
    await runBlockClock(ledger, {
      intervalMs: 1,
      signal: controller.signal,
      onBlock: (status) => {
        heights.push(status.height);
        if (heights.length === 3) controller.abort();
      },
    });
    assert.deepEqual(heights, [2, 3, 4]);
    assert.equal(value(ledger.status()).height, 4);
  });
});

describe('certificates (Akash cert module)', () => {
  it('publishes, lists by owner, serial and state, and revokes an owner-signed certificate', async () => {
    const { ledger, app } = setup();
    seed(ledger);
    const send = (url: string, init: RequestInit) => Promise.resolve(app.request(url, init));
    const tenant = new LedgerClient({ url: BASE, keys: [owner.privateKey], fetch: send });
    const intruder = new LedgerClient({ url: BASE, keys: [stranger.privateKey], fetch: send });
    const made = value(
      createAccountCertificate({
        address: owner.address,
        kind: 'client',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
      }),
    );
    const input = { owner: owner.address, cert: made.cert, pubkey: made.pubkey };
    // signed by another account: refused before anything is stored
    const unsigned = await intruder.createCertificate(input);
    assert.equal(unsigned.ok ? 'stored' : unsigned.error.code, 'UNAUTHENTICATED');
    const published = value(await tenant.createCertificate(input));
    assert.deepEqual(
      [published.owner, published.serial, published.state],
      [owner.address, made.serial, 'valid'],
    );
    const again = await tenant.createCertificate(input);
    assert.equal(again.ok ? 'stored twice' : again.error.code, 'CERTIFICATE_EXISTS');
    const foreign = value(
      createAccountCertificate({
        address: stranger.address,
        kind: 'client',
        notBefore: new Date(),
        notAfter: new Date(Date.now() + 3_600_000),
      }),
    );
    const wrongCn = await tenant.createCertificate({
      owner: owner.address,
      cert: foreign.cert,
      pubkey: foreign.pubkey,
    });
    assert.equal(wrongCn.ok ? 'stored' : wrongCn.error.details?.reason, 'wrong-cn');

    assert.equal(value(await tenant.listCertificates({ owner: owner.address, state: 'valid' })).length, 1);
    assert.equal(value(await tenant.listCertificates({ serial: made.serial })).length, 1);
    assert.equal(value(await tenant.listCertificates({ owner: stranger.address })).length, 0);

    const wrongRevoker = await intruder.revokeCertificate({ owner: owner.address, serial: made.serial });
    assert.equal(wrongRevoker.ok ? 'revoked' : wrongRevoker.error.code, 'UNAUTHENTICATED');
    assert.equal(
      value(await tenant.revokeCertificate({ owner: owner.address, serial: made.serial })).state,
      'revoked',
    );
    const twice = await tenant.revokeCertificate({ owner: owner.address, serial: made.serial });
    assert.equal(twice.ok ? 'revoked twice' : twice.error.code, 'CERTIFICATE_NOT_FOUND');
    assert.deepEqual(
      value(await tenant.listCertificates({ owner: owner.address, state: 'revoked' })).map(
        (cert) => cert.serial,
      ),
      [made.serial],
    );
    assert.equal(value(await tenant.listCertificates({ owner: owner.address, state: 'valid' })).length, 0);
  });
});
