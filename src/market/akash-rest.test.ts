import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from './ledger.js';
import { createLedgerApi } from './ledger-api.js';
import { groupSpec, hashOf, IP_LEASE, testAccount } from './testing.js';

const owner = testAccount(31);
const DUAL = { key: 'ip-lease-ipv6', value: 'true' };

describe("the devnet's Akash-shaped REST route", () => {
  it('answers deployments/info as the Akash gateway does: proto field names, uint64 as strings, gRPC errors', async () => {
    const opened = Ledger.open({ path: ':memory:' });
    if (!opened.ok) assert.fail(opened.error.message);
    const ledger = opened.value;
    const funded = ledger.fundAccount({
      address: owner.address,
      amount: { denom: 'uakt', amount: '50000000' },
      pubkey: owner.pubkey,
    });
    if (!funded.ok) assert.fail(funded.error.message);
    const spec = groupSpec({ attributes: [IP_LEASE, DUAL], units: [{ ips: [1] }] });
    const created = ledger.createDeployment({
      owner: owner.address,
      groups: [spec],
      hash: hashOf(9),
      deposit: { denom: 'uakt', amount: '5000000' },
    });
    if (!created.ok) assert.fail(created.error.message);
    const { dseq } = created.value.deployment.id;
    const app = createLedgerApi(ledger);
    const info = await app.request(
      `/akash/deployment/v1beta4/deployments/info?id.owner=${owner.address}&id.dseq=${dseq}`,
    );
    assert.equal(info.status, 200);
    const body = (await info.json()) as {
      deployment: { id: unknown; state: string };
      groups: { id: unknown; state: string; group_spec: unknown }[];
    };
    assert.deepEqual(body.deployment.id, { owner: owner.address, dseq });
    assert.equal(body.deployment.state, 'active');
    assert.deepEqual(body.groups[0]?.id, { owner: owner.address, dseq, gseq: 1 });
    assert.equal(body.groups[0]?.state, 'open');
    assert.deepEqual(body.groups[0]?.group_spec, JSON.parse(JSON.stringify(spec)));

    const missing = await app.request(
      `/akash/deployment/v1beta4/deployments/info?id.owner=${owner.address}&id.dseq=99`,
    );
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { code: 5, message: 'deployment not found', details: [] });
    const bad = await app.request('/akash/deployment/v1beta4/deployments/info?id.owner=nobody&id.dseq=1');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: number }).code, 3);
  });
});
