import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appError, fail, ok } from '../errors/index.js';
import type { Account as LedgerAccount } from '../market/index.js';
import { ledgerChain, StaticChain } from './chain.js';
import { account, ipSdl } from './testing.js';

const alice = account(0xa11ce);
const provider = account(0x9a9a).address;

describe('the ledger as the chain', () => {
  it('looks each account key up once, coalescing concurrent lookups, and retries a missing one later', async () => {
    let now = 0;
    const asked: string[] = [];
    const accounts = new Map<string, LedgerAccount>([
      [alice.address, { address: alice.address, pubkey: alice.pubkey, balance: '1' }],
    ]);
    const chain = ledgerChain(
      {
        getAccount: async (address) => {
          asked.push(address);
          const found = accounts.get(address);
          return found === undefined ? fail(appError('ACCOUNT_NOT_FOUND', 'none')) : ok(found);
        },
        listLeases: async () => ok([]),
        getDeployment: async () => fail(appError('DEPLOYMENT_NOT_FOUND', 'none')),
      },
      provider,
      () => now,
    );
    const [first, second] = await Promise.all([chain.pubkey(alice.address), chain.pubkey(alice.address)]);
    assert.deepEqual(first, ok(alice.pubkey));
    assert.deepEqual(second, ok(alice.pubkey));
    assert.deepEqual(await chain.pubkey(alice.address), ok(alice.pubkey));
    assert.equal(asked.length, 1);

    const bob = account(0xb0b).address;
    assert.deepEqual(await chain.pubkey(bob), ok(undefined));
    assert.deepEqual(await chain.pubkey(bob), ok(undefined));
    assert.equal(asked.length, 2);
    now += 5000;
    accounts.set(bob, { address: bob, pubkey: account(0xb0b).pubkey, balance: '0' });
    assert.deepEqual(await chain.pubkey(bob), ok(account(0xb0b).pubkey));
  });

  it('remembers a bounded number of accounts: a flood of made-up ones cannot grow it', async () => {
    let asked = 0;
    const chain = ledgerChain(
      {
        getAccount: async () => {
          asked++;
          return fail(appError('ACCOUNT_NOT_FOUND', 'none'));
        },
        listLeases: async () => ok([]),
        getDeployment: async () => fail(appError('DEPLOYMENT_NOT_FOUND', 'none')),
      },
      provider,
      () => 0,
      3,
    );
    const made = [1, 2, 3, 4].map((n) => account(0x5000 + n).address);
    for (const address of made) assert.deepEqual(await chain.pubkey(address), ok(undefined));
    assert.equal(asked, 4);
    await chain.pubkey(made[3]!);
    assert.equal(asked, 4, 'the latest is remembered');
    await chain.pubkey(made[0]!);
    assert.equal(asked, 5, 'the first was dropped to keep three');
  });

  it('passes ledger failures through', async () => {
    const chain = ledgerChain(
      {
        getAccount: async () => fail(appError('UNAVAILABLE', 'the ledger did not answer')),
        listLeases: async () => fail(appError('UNAVAILABLE', 'the ledger did not answer')),
        getDeployment: async () => fail(appError('UNAVAILABLE', 'the ledger did not answer')),
      },
      provider,
    );
    assert.equal((await chain.pubkey(alice.address)).ok, false);
    assert.equal((await chain.activeLeases('1')).ok, false);
  });
});

describe('the static registry', () => {
  it('knows registered leases, and one hash per deployment', async () => {
    const chain = new StaticChain([{ address: alice.address, pubkey: alice.pubkey }]);
    const sdl = ipSdl('static-ip');
    const id = (gseq: number) => ({ owner: alice.address, dseq: '7', gseq, oseq: 1, provider });
    chain.register({ id: id(1), hash: 'a'.repeat(64), spec: sdl.groups[0]! });
    chain.register({ id: id(2), hash: 'b'.repeat(64), spec: sdl.groups[0]! });
    const deployment = await chain.deployment(alice.address, '7');
    assert.ok(deployment.ok);
    assert.equal(deployment.value.hash, 'b'.repeat(64));
    assert.deepEqual(
      deployment.value.groups.map((group) => group.gseq),
      [1, 2],
    );
    const both = await chain.activeLeases('7');
    assert.deepEqual(both.ok ? both.value : [], [id(1), id(2)]);
    assert.ok(chain.remove(id(1)));
    assert.ok(!chain.remove(id(1)));
    const left = await chain.activeLeases('7');
    assert.deepEqual(left.ok ? left.value : [], [id(2)]);
    assert.equal((await chain.deployment(alice.address, '8')).ok, false);
    assert.deepEqual(await chain.pubkey(alice.address), ok(alice.pubkey));
    const stranger = await chain.pubkey(account(0xb0b).address);
    assert.ok(!stranger.ok);
    assert.equal(stranger.error.code, 'ACCOUNT_NOT_FOUND');
  });
});
