import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { IP_LEASE_ATTRIBUTE, type LeaseId } from '../lease/index.js';
import { Ledger, serveLedger } from '../market/index.js';
import { groupSpec, hashOf, IP_LEASE, testAccount } from '../market/testing.js';
import { MAX_ANSWER_BYTES, readDeploymentGroups } from './akash-rest.js';
import { ChainFamilies, type FamilyAnswer } from './families.js';
import { until } from './harness.js';

const owner = testAccount(41);
const provider = testAccount(42);
const DUAL = { key: IP_LEASE_ATTRIBUTE.dualStack, value: 'true' };
const V6_ONLY = { key: IP_LEASE_ATTRIBUTE.ipv6Only, value: 'true' };

/** The devnet ledger on 127.0.0.1 with one deployment of three groups: plain, dual-stack, IPv6-only. */
async function devnet() {
  const opened = Ledger.open({ path: ':memory:' });
  if (!opened.ok) throw new Error(opened.error.message);
  const ledger = opened.value;
  const funded = ledger.fundAccount({
    address: owner.address,
    amount: { denom: 'uakt', amount: '50000000' },
    pubkey: owner.pubkey,
  });
  if (!funded.ok) throw new Error(funded.error.message);
  const created = ledger.createDeployment({
    owner: owner.address,
    groups: [
      groupSpec({ name: 'plain', attributes: [IP_LEASE], units: [{ ips: [1] }] }),
      groupSpec({ name: 'dual', attributes: [IP_LEASE, DUAL], units: [{ ips: [1] }] }),
      groupSpec({ name: 'six', attributes: [V6_ONLY], units: [{ ips: [1] }] }),
    ],
    hash: hashOf(7),
    deposit: { denom: 'uakt', amount: '5000000' },
  });
  if (!created.ok) throw new Error(created.error.message);
  const server = await serveLedger(ledger, { auth: 'none' });
  return { server, dseq: created.value.deployment.id.dseq };
}

function lease(dseq: string, gseq: number): LeaseId {
  return { owner: owner.address, dseq, gseq, oseq: 1, provider: provider.address };
}

/** Asks until the answer is no longer "waiting" for a read in flight. */
async function answer(
  families: ChainFamilies,
  id: LeaseId,
  changes: { count: number },
): Promise<FamilyAnswer> {
  const first = families.familyOf(id);
  if (!('waiting' in first) || !/^reading its order/.test(first.waiting)) return first;
  const seen = changes.count;
  await until(() => changes.count > seen, 'the chain read');
  return families.familyOf(id);
}

describe('lease families from the chain (--akash-rest)', () => {
  it("reads the order's group from the devnet's Akash-shaped route: the same rule as daemon mode", async () => {
    const { server, dseq } = await devnet();
    const changes = { count: 0 };
    const families = new ChainFamilies({
      url: server.url,
      fallback: 'v4',
      onChange: () => {
        changes.count += 1;
      },
    });
    try {
      assert.deepEqual(await answer(families, lease(dseq, 1), changes), { family: 'v4' });
      // One read per deployment: its other groups are answered from it.
      assert.deepEqual(families.familyOf(lease(dseq, 2)), { family: 'dual' });
      assert.deepEqual(families.familyOf(lease(dseq, 3)), { family: 'v6' });
      assert.equal(changes.count, 1);
      assert.match((families.familyOf(lease(dseq, 9)) as { waiting: string }).waiting, /has no group 9/);
      const missing = await answer(families, lease('999', 1), changes);
      assert.match(
        (missing as { waiting: string }).waiting,
        /failed \(1×\): deployment .*\/999 is not on chain/,
      );
    } finally {
      families.stop();
      await server.close();
    }
  });

  it('a failing chain backs off for that deployment alone, then reads again', async () => {
    let calls = 0;
    let healthy = false;
    const server = createServer((request, response) => {
      calls += 1;
      if (!healthy) {
        response.writeHead(503).end('{"code":14,"message":"unavailable"}');
        return;
      }
      const url = new URL(request.url ?? '/', 'http://x');
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          deployment: {
            id: { owner: url.searchParams.get('id.owner'), dseq: url.searchParams.get('id.dseq') },
          },
          // Go's JSON tags name the group spec `spec`; read too.
          groups: [{ id: { gseq: 1 }, spec: { requirements: { attributes: [V6_ONLY] } } }],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const changes = { count: 0 };
    // the backoff is judged on this clock, so a stalled test cannot see it run out early; its timer stays real
    const clock = { now: 1_000_000 };
    const families = new ChainFamilies({
      url: `http://127.0.0.1:${port}/`,
      fallback: 'dual',
      backoff: { minMs: 20, maxMs: 40 },
      now: () => clock.now,
      onChange: () => {
        changes.count += 1;
      },
    });
    try {
      const failed = await answer(families, lease('5', 1), changes);
      assert.match((failed as { waiting: string }).waiting, /failed \(1×\): .*HTTP 503/);
      // Within the backoff nothing is read again, however often the operator asks.
      families.familyOf(lease('5', 1));
      families.familyOf(lease('5', 1));
      assert.equal(calls, 1);
      healthy = true;
      const seen = changes.count;
      clock.now += 20;
      await until(() => changes.count > seen, 'the backoff to run out');
      assert.deepEqual(await answer(families, lease('5', 1), changes), { family: 'v6' });
      assert.equal(calls, 2);
    } finally {
      families.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('an answer larger than the limit is a reason, read no further than the limit', async () => {
    let written = 0;
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 << 10, 0x20);
      // Writes until the client goes away (it stops reading past the limit), bounded at twice the limit.
      const more = (): void => {
        while (written <= 2 * MAX_ANSWER_BYTES) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', more);
        }
        response.end();
      };
      response.on('close', () => {
        written = Number.POSITIVE_INFINITY;
      });
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const read = await readDeploymentGroups(`http://127.0.0.1:${port}`, owner.address, '1', 10_000);
      assert.equal(read.ok, false);
      if (!read.ok) {
        assert.equal(read.error.code, 'UNAVAILABLE');
        assert.match(read.error.message, /larger than \d+ bytes/);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('an unreachable chain is a reason, never an exception', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const read = await readDeploymentGroups(`http://127.0.0.1:${port}`, owner.address, '1', 2000);
    assert.equal(read.ok, false);
    if (!read.ok) assert.match(read.error.message, /is unreachable/);
  });
});
