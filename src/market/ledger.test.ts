import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import type { AppError, Result } from '../errors/index.js';
import { DEC_ONE, parseDec } from './dec.js';
import { Ledger } from './ledger.js';
import { groupSpec, hashOf, IP_LEASE, testAccount } from './testing.js';
import type { BidId, OrderId } from './types.js';

const owner = testAccount(1);
const provider = testAccount(2);
const rival = testAccount(3);
const stranger = testAccount(4);

function value<T>(result: Result<T, AppError>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}
function code(result: Result<unknown, AppError>): string {
  return result.ok ? 'ok' : result.error.code;
}
const uakt = (amount: number | bigint) => ({ denom: 'uakt', amount: String(amount) });
const price = (amount: string) => ({ denom: 'uakt', amount });

/** A ledger with a funded owner and two registered providers, one of them offering IP leases. */
function market(options: { now?: () => number; bidTtlBlocks?: number } = {}) {
  const ledger = value(Ledger.open({ path: ':memory:', ...options }));
  value(ledger.fundAccount({ address: owner.address, amount: uakt(100_000_000), pubkey: owner.pubkey }));
  for (const account of [provider, rival]) {
    value(ledger.fundAccount({ address: account.address, amount: uakt(0), pubkey: account.pubkey }));
  }
  value(
    ledger.registerProvider({
      address: provider.address,
      hostUri: 'https://127.0.0.1:8443',
      attributes: [IP_LEASE],
    }),
  );
  value(
    ledger.registerProvider({ address: rival.address, hostUri: 'https://127.0.0.1:9443', attributes: [] }),
  );
  return ledger;
}

function deploy(ledger: Ledger, groups = [groupSpec()], deposit = 5_000_000) {
  return value(
    ledger.createDeployment({ owner: owner.address, groups, hash: hashOf(1), deposit: uakt(deposit) }),
  );
}

const base = () => ({ owner: owner.address, groups: [groupSpec()], hash: hashOf(1), deposit: uakt(500_000) });

const bidOf = (order: OrderId, by = provider.address): BidId => ({ ...order, provider: by });

describe('ledger: storage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-ledger-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates once, keeps state across reopen, and uses WAL with foreign keys', () => {
    const path = join(dir, 'ledger.db');
    const first = value(Ledger.open({ path }));
    value(first.fundAccount({ address: owner.address, amount: uakt(7) }));
    first.close();
    const again = value(Ledger.open({ path }));
    assert.equal(value(again.getAccount(owner.address)).balance, '7');
    again.close();
    const db = new Database(path);
    assert.deepEqual(db.prepare('SELECT version FROM schema_version').all(), [
      { version: 1 },
      { version: 2 },
    ]);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    // accounts' keys and balances: readable by the devnet's user only
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('refuses a database from a newer build', () => {
    const path = join(dir, 'newer.db');
    value(Ledger.open({ path })).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_version (version) VALUES (99)').run();
    db.close();
    assert.equal(code(Ledger.open({ path })), 'STORE_CORRUPT');
  });
});

describe('ledger: deployments and orders', () => {
  it('creates one open order per group (oseq 1) and moves the deposit into escrow', () => {
    const ledger = market();
    const { deployment, orders } = deploy(ledger, [groupSpec({ name: 'a' }), groupSpec({ name: 'b' })]);
    assert.equal(deployment.state, 'active');
    assert.equal(deployment.escrow.balance, '5000000.000000000000000000');
    assert.deepEqual(
      orders.map((order) => [order.id.gseq, order.id.oseq, order.state, order.spec.name]),
      [
        [1, 1, 'open', 'a'],
        [2, 1, 'open', 'b'],
      ],
    );
    assert.equal(value(ledger.getAccount(owner.address)).balance, '95000000');
    assert.equal(value(ledger.listOrders({ state: 'open' })).length, 2);
    const events = value(ledger.eventsSince(0)).map((event) => event.type);
    assert.deepEqual(events.slice(-4), [
      'DeploymentCreated',
      'EscrowDeposited',
      'OrderCreated',
      'OrderCreated',
    ]);
  });

  it('picks fresh dseqs and refuses taken ones', () => {
    const ledger = market();
    const first = deploy(ledger).deployment.id.dseq;
    const second = deploy(ledger).deployment.id.dseq;
    assert.equal(BigInt(second), BigInt(first) + 1n);
    const taken = ledger.createDeployment({
      owner: owner.address,
      groups: [groupSpec()],
      hash: hashOf(1),
      deposit: uakt(500_000),
      dseq: first,
    });
    assert.equal(code(taken), 'DEPLOYMENT_EXISTS');
    for (const dseq of ['0', '01', '18446744073709551616', '1.5']) {
      assert.equal(code(ledger.createDeployment({ ...base(), dseq })), 'INVALID_INPUT', dseq);
    }
  });

  it('orders dseqs numerically, up to uint64', () => {
    const ledger = market();
    for (const dseq of ['10', '9', '18446744073709551615'])
      value(ledger.createDeployment({ ...base(), dseq }));
    assert.deepEqual(
      value(ledger.listDeployments()).map((d) => d.id.dseq),
      ['9', '10', '18446744073709551615'],
    );
    assert.equal(code(ledger.createDeployment(base())), 'INVALID_INPUT', 'no dseq after uint64 max');
  });

  it('validates owner funds, deposit, hash and groups, changing nothing on failure', () => {
    const ledger = market();
    const base = { owner: owner.address, groups: [groupSpec()], hash: hashOf(1), deposit: uakt(1_000_000) };
    const before = value(ledger.status());
    assert.equal(
      code(ledger.createDeployment({ ...base, deposit: uakt(200_000_000) })),
      'INSUFFICIENT_FUNDS',
    );
    assert.equal(code(ledger.createDeployment({ ...base, deposit: uakt(10) })), 'INVALID_INPUT');
    assert.equal(
      code(ledger.createDeployment({ ...base, deposit: { denom: 'uatom', amount: '1000000' } })),
      'INVALID_INPUT',
    );
    assert.equal(code(ledger.createDeployment({ ...base, hash: 'ABC' })), 'INVALID_INPUT');
    assert.equal(code(ledger.createDeployment({ ...base, groups: [] })), 'INVALID_INPUT');
    assert.equal(code(ledger.createDeployment({ ...base, owner: stranger.address })), 'ACCOUNT_NOT_FOUND');
    assert.deepEqual(value(ledger.status()), before);
    assert.equal(value(ledger.getAccount(owner.address)).balance, '100000000');
  });

  it('updates the version hash of an active deployment only', () => {
    const ledger = market();
    const { id } = deploy(ledger).deployment;
    assert.equal(value(ledger.updateDeployment({ id, hash: hashOf(2) })).hash, hashOf(2));
    const last = value(ledger.eventsSince(0)).at(-1);
    assert.equal(last?.type, 'DeploymentUpdated');
    value(ledger.closeDeployment(id));
    assert.equal(code(ledger.updateDeployment({ id, hash: hashOf(3) })), 'DEPLOYMENT_CLOSED');
    assert.equal(
      code(ledger.updateDeployment({ id: { ...id, dseq: '999' }, hash: hashOf(3) })),
      'DEPLOYMENT_NOT_FOUND',
    );
  });

  it('tops up escrow from the owner account', () => {
    const ledger = market();
    const { id } = deploy(ledger).deployment;
    const topped = value(ledger.depositDeployment({ id, amount: uakt(1_000_000) }));
    assert.equal(topped.escrow.balance, '6000000.000000000000000000');
    assert.equal(topped.escrow.deposited, '6000000');
    assert.equal(code(ledger.depositDeployment({ id, amount: uakt(1_000_000_000) })), 'INSUFFICIENT_FUNDS');
  });
});

describe('ledger: bids', () => {
  it('accepts a bid from a provider whose attributes match', () => {
    const ledger = market();
    const [order] = deploy(ledger, [groupSpec({ attributes: [IP_LEASE] })]).orders;
    const bid = value(
      ledger.createBid({ order: order!.id, provider: provider.address, price: price('12.5') }),
    );
    assert.equal(bid.state, 'open');
    assert.equal(bid.price.amount, '12.500000000000000000');
  });

  it('refuses a provider without ip-lease: true on an order that requires it', () => {
    const ledger = market();
    const [order] = deploy(ledger, [groupSpec({ attributes: [IP_LEASE] })]).orders;
    assert.equal(
      code(ledger.createBid({ order: order!.id, provider: rival.address, price: price('1') })),
      'ATTRIBUTE_MISMATCH',
    );
  });

  it('checks order state, duplicates, price ceiling, self-bids and registration', () => {
    const ledger = market();
    const [order] = deploy(ledger).orders;
    const id = order!.id;
    assert.equal(
      code(
        ledger.createBid({ order: id, provider: provider.address, price: price('1000.000000000000000001') }),
      ),
      'BID_OVER_ORDER',
    );
    assert.equal(
      code(ledger.createBid({ order: id, provider: provider.address, price: price('0') })),
      'INVALID_INPUT',
    );
    assert.equal(
      code(ledger.createBid({ order: id, provider: stranger.address, price: price('1') })),
      'PROVIDER_NOT_FOUND',
    );
    assert.equal(
      code(ledger.createBid({ order: { ...id, gseq: 9 }, provider: provider.address, price: price('1') })),
      'ORDER_NOT_FOUND',
    );
    value(ledger.createBid({ order: id, provider: provider.address, price: price('1000') }));
    assert.equal(
      code(ledger.createBid({ order: id, provider: provider.address, price: price('1') })),
      'BID_EXISTS',
    );
    value(ledger.fundAccount({ address: owner.address, amount: uakt(0) }));
    value(ledger.registerProvider({ address: owner.address, hostUri: 'http://127.0.0.1:1', attributes: [] }));
    assert.equal(
      code(ledger.createBid({ order: id, provider: owner.address, price: price('1') })),
      'INVALID_INPUT',
    );
    value(ledger.closeDeployment(id));
    assert.equal(
      code(ledger.createBid({ order: id, provider: rival.address, price: price('1') })),
      'ORDER_NOT_OPEN',
    );
  });

  it('closes an open bid once', () => {
    const ledger = market();
    const [order] = deploy(ledger).orders;
    value(ledger.createBid({ order: order!.id, provider: provider.address, price: price('1') }));
    assert.equal(value(ledger.closeBid(bidOf(order!.id))).state, 'closed');
    assert.equal(code(ledger.closeBid(bidOf(order!.id))), 'BID_NOT_OPEN');
    assert.equal(code(ledger.closeBid(bidOf(order!.id, rival.address))), 'BID_NOT_FOUND');
  });
});

describe('ledger: stale bids', () => {
  it('closes bids left open for bidTtlBlocks blocks (BidClosed), and no others', () => {
    const ledger = market({ bidTtlBlocks: 10 });
    const [first, second] = deploy(ledger, [groupSpec({ name: 'a' }), groupSpec({ name: 'b' })]).orders;
    value(ledger.createBid({ order: first!.id, provider: provider.address, price: price('1') }));
    value(ledger.advanceBlocks(5));
    value(ledger.createBid({ order: second!.id, provider: provider.address, price: price('1') }));
    value(ledger.createBid({ order: first!.id, provider: rival.address, price: price('1') }));
    const cursor = value(ledger.status()).lastEventId;
    value(ledger.advanceBlocks(4));
    assert.equal(value(ledger.getBid(bidOf(first!.id))).state, 'open', '9 blocks old');
    value(ledger.advanceBlocks(1));
    assert.equal(value(ledger.getBid(bidOf(first!.id))).state, 'closed');
    assert.equal(value(ledger.getBid(bidOf(second!.id))).state, 'open');
    assert.deepEqual(
      value(ledger.eventsSince(cursor)).map((event) => event.type === 'BidClosed' && event.bid.provider),
      [provider.address],
    );
    // a won bid is no longer open, so never closed this way; its lease stays
    const lease = value(ledger.createLease(bidOf(first!.id, rival.address)));
    value(ledger.advanceBlocks(20));
    assert.equal(value(ledger.getLease(lease.id)).state, 'active');
    assert.equal(value(ledger.getBid(bidOf(second!.id))).state, 'closed');
    // the order stays open for other bids, as on Akash's chain
    assert.equal(value(ledger.getOrder(second!.id)).state, 'open');
  });

  it('withdraws only an open bid when asked to (ifOpen), never the lease it became', () => {
    const ledger = market();
    const [order] = deploy(ledger).orders;
    value(ledger.createBid({ order: order!.id, provider: provider.address, price: price('1') }));
    const lease = value(ledger.createLease(bidOf(order!.id)));
    assert.equal(code(ledger.closeBid(bidOf(order!.id), { ifOpen: true })), 'BID_NOT_OPEN');
    assert.equal(value(ledger.getLease(lease.id)).state, 'active');
  });
});

describe('ledger: leases', () => {
  function leased() {
    const ledger = market();
    const [order] = deploy(ledger).orders;
    const id = order!.id;
    value(ledger.createBid({ order: id, provider: provider.address, price: price('10') }));
    value(ledger.createBid({ order: id, provider: rival.address, price: price('8') }));
    const lease = value(ledger.createLease(bidOf(id)));
    return { ledger, id, lease };
  }

  it('turns the chosen bid into an active lease; the other bids lose, the order is taken', () => {
    const { ledger, id, lease } = leased();
    assert.equal(lease.state, 'active');
    assert.equal(lease.price.amount, '10.000000000000000000');
    assert.equal(value(ledger.getBid(bidOf(id))).state, 'active');
    assert.equal(value(ledger.getBid(bidOf(id, rival.address))).state, 'lost');
    assert.equal(value(ledger.getOrder(id)).state, 'active');
    assert.equal(value(ledger.listOrders({ state: 'open' })).length, 0);
    assert.equal(value(ledger.listLeases({ provider: provider.address, state: 'active' })).length, 1);
    const last = value(ledger.eventsSince(0)).at(-1);
    assert.deepEqual(last?.type === 'LeaseCreated' && last.lease, bidOf(id));
  });

  it('is only made from an open bid', () => {
    const { ledger, id } = leased();
    assert.equal(code(ledger.createLease(bidOf(id, rival.address))), 'BID_NOT_OPEN');
    assert.equal(code(ledger.createLease(bidOf(id))), 'BID_NOT_OPEN');
    assert.equal(code(ledger.createLease(bidOf(id, stranger.address))), 'BID_NOT_FOUND');
  });

  it('needs an escrow that pays at least one block', () => {
    const ledger = market();
    const [order] = deploy(ledger, [groupSpec({ units: [{ price: '1000000' }] })], 500_000).orders;
    value(ledger.createBid({ order: order!.id, provider: provider.address, price: price('600000') }));
    assert.equal(code(ledger.createLease(bidOf(order!.id))), 'INSUFFICIENT_FUNDS');
  });

  it('is closed by its owner or provider, nobody else, once', () => {
    const { ledger, id } = leased();
    assert.equal(code(ledger.closeLease({ id: bidOf(id), actor: stranger.address })), 'FORBIDDEN');
    const closed = value(ledger.closeLease({ id: bidOf(id), actor: provider.address }));
    assert.equal(closed.closedReason, 'provider');
    assert.equal(value(ledger.getOrder(id)).state, 'closed');
    assert.equal(value(ledger.getBid(bidOf(id))).state, 'closed');
    assert.equal(code(ledger.closeLease({ id: bidOf(id), actor: owner.address })), 'LEASE_CLOSED');
  });

  it('closing an active bid closes its lease', () => {
    const { ledger, id } = leased();
    value(ledger.closeBid(bidOf(id)));
    assert.equal(value(ledger.getLease(bidOf(id))).state, 'closed');
  });

  it('pays the provider per block and closes everything when the escrow runs dry', () => {
    const { ledger, id } = leased();
    value(ledger.advanceBlocks(3));
    assert.equal(value(ledger.getLease(bidOf(id))).paid, '30.000000000000000000');
    assert.equal(value(ledger.getAccount(provider.address)).balance, '30');
    assert.equal(value(ledger.getDeployment(id)).escrow.balance, '4999970.000000000000000000');
    // 4 999 970 left at 10 per block: 499 997 more blocks, then dry
    const status = value(ledger.advanceBlocks(600_000));
    const lease = value(ledger.getLease(bidOf(id)));
    assert.equal(lease.state, 'closed');
    assert.equal(lease.closedReason, 'insufficient_funds');
    // leased at height 1, paid through 4 + 499 997 blocks; the first unpaid block closes it
    assert.equal(lease.closedHeight, 1 + 3 + 499_997 + 1);
    assert.equal(lease.paid, '5000000.000000000000000000');
    const deployment = value(ledger.getDeployment(id));
    assert.equal(deployment.state, 'closed');
    assert.equal(deployment.closedReason, 'insufficient_funds');
    assert.equal(deployment.escrow.balance, '0.000000000000000000');
    assert.equal(value(ledger.getAccount(provider.address)).balance, '5000000');
    assert.ok((lease.closedHeight ?? 0) < status.height);
  });

  it('closing a deployment closes orders, bids and leases and refunds the escrow', () => {
    const ledger = market();
    const { deployment, orders } = deploy(ledger, [groupSpec({ name: 'a' }), groupSpec({ name: 'b' })]);
    const [a, b] = orders.map((order) => order.id);
    value(ledger.createBid({ order: a!, provider: provider.address, price: price('0.5') }));
    value(ledger.createBid({ order: b!, provider: rival.address, price: price('1') }));
    value(ledger.createLease(bidOf(a!)));
    value(ledger.advanceBlocks(3));
    const cursor = value(ledger.status()).lastEventId;
    const closed = value(ledger.closeDeployment(deployment.id));
    assert.equal(closed.state, 'closed');
    assert.ok(closed.groups.every((group) => group.state === 'closed'));
    assert.equal(value(ledger.listOrders({ owner: owner.address, state: 'open' })).length, 0);
    assert.ok(value(ledger.listBids({ owner: owner.address })).every((bid) => bid.state === 'closed'));
    assert.equal(value(ledger.getLease(bidOf(a!))).closedReason, 'deployment_closed');
    // 1.5 uakt paid out: 4 999 998 whole uakt back, 0.5 stays as dust in the closed escrow
    assert.equal(
      value(ledger.getAccount(owner.address)).balance,
      String(100_000_000 - 5_000_000 + 4_999_998),
    );
    assert.equal(closed.escrow.balance, '0.500000000000000000');
    assert.deepEqual(
      value(ledger.eventsSince(cursor)).map((event) => event.type),
      ['LeaseClosed', 'BidClosed', 'OrderClosed', 'BidClosed', 'OrderClosed', 'DeploymentClosed'],
    );
    assert.equal(code(ledger.closeDeployment(deployment.id)), 'DEPLOYMENT_CLOSED');
  });
});

describe('ledger: accounts and providers', () => {
  it('records a public key only if it is the address own key', () => {
    const ledger = value(Ledger.open({ path: ':memory:' }));
    assert.equal(code(ledger.fundAccount({ address: 'akash1nope', amount: uakt(1) })), 'INVALID_INPUT');
    value(ledger.fundAccount({ address: owner.address, amount: uakt(1), pubkey: owner.pubkey }));
    assert.equal(
      code(ledger.fundAccount({ address: owner.address, amount: uakt(1), pubkey: provider.pubkey })),
      'INVALID_INPUT',
    );
    assert.deepEqual(ledger.publicKeyOf(owner.address), Uint8Array.from(Buffer.from(owner.pubkey, 'hex')));
  });

  it('registers, updates and validates providers', () => {
    const ledger = market();
    const updated = value(
      ledger.registerProvider({
        address: provider.address,
        hostUri: 'https://127.0.0.1:8444',
        attributes: [{ key: 'region', value: 'x' }],
      }),
    );
    assert.equal(updated.hostUri, 'https://127.0.0.1:8444');
    assert.equal(value(ledger.listProviders()).length, 2);
    assert.equal(value(ledger.eventsSince(0)).at(-1)?.type, 'ProviderUpdated');
    assert.equal(
      code(
        ledger.registerProvider({ address: stranger.address, hostUri: 'https://127.0.0.1', attributes: [] }),
      ),
      'ACCOUNT_NOT_FOUND',
    );
    assert.equal(
      code(ledger.registerProvider({ address: provider.address, hostUri: 'ftp://x', attributes: [] })),
      'INVALID_INPUT',
    );
    assert.equal(
      code(
        ledger.registerProvider({
          address: provider.address,
          hostUri: 'https://h',
          attributes: [IP_LEASE, IP_LEASE],
        }),
      ),
      'INVALID_INPUT',
    );
  });
});

describe('ledger: invariants under random operations', () => {
  it('money is conserved, escrow never negative, events contiguous, one lease per order from an open bid', () => {
    const seen = { leases: 0, dry: 0 };
    // weighted so that deployments, bids and leases are common; `any` sometimes aims at a stale object
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('deploy' as const),
        groups: fc.integer({ min: 1, max: 3 }),
        deposit: fc.integer({ min: 500_000, max: 600_000 }),
      }),
      {
        arbitrary: fc.record({
          kind: fc.constant('bid' as const),
          pick: fc.nat(),
          any: fc.boolean(),
          who: fc.boolean(),
          price: fc.integer({ min: 1, max: 1000 }),
          frac: fc.nat(999),
        }),
        weight: 3,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('lease' as const), pick: fc.nat(), any: fc.boolean() }),
        weight: 2,
      },
      fc.record({ kind: fc.constant('closeLease' as const), pick: fc.nat(), by: fc.boolean() }),
      fc.record({ kind: fc.constant('closeBid' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('closeDeployment' as const), pick: fc.nat() }),
      fc.record({
        kind: fc.constant('deposit' as const),
        pick: fc.nat(),
        amount: fc.integer({ min: 1, max: 100_000 }),
      }),
      fc.record({ kind: fc.constant('blocks' as const), count: fc.integer({ min: 1, max: 1500 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 60 }), (ops) => {
        const ledger = market();
        const minted = 100_000_000n * DEC_ONE;
        for (const step of ops) {
          const orders = value(ledger.listOrders());
          const bids = value(ledger.listBids());
          const leases = value(ledger.listLeases());
          const deployments = value(ledger.listDeployments());
          const pick = <T>(list: readonly T[], n: number): T | undefined =>
            list[n % Math.max(1, list.length)];
          switch (step.kind) {
            case 'deploy':
              ledger.createDeployment({
                owner: owner.address,
                groups: Array.from({ length: step.groups }, (_, i) => groupSpec({ name: `g${i}` })),
                hash: hashOf(7),
                deposit: uakt(step.deposit),
              });
              break;
            case 'bid': {
              const order = pick(step.any ? orders : orders.filter((o) => o.state === 'open'), step.pick);
              if (order) {
                const amount = `${step.price}.${String(step.frac).padStart(3, '0')}`;
                ledger.createBid({
                  order: order.id,
                  provider: step.who ? provider.address : rival.address,
                  price: price(amount),
                });
              }
              break;
            }
            case 'lease': {
              const bid = pick(step.any ? bids : bids.filter((b) => b.state === 'open'), step.pick);
              if (bid) {
                const wasOpen = bid.state === 'open' && value(ledger.getOrder(bid.id)).state === 'open';
                const made = ledger.createLease(bid.id);
                if (made.ok) {
                  assert.ok(wasOpen, 'a lease came from a bid that was not open');
                  seen.leases++;
                }
              }
              break;
            }
            case 'closeLease': {
              const lease = pick(leases, step.pick);
              if (lease)
                ledger.closeLease({ id: lease.id, actor: step.by ? lease.id.owner : lease.id.provider });
              break;
            }
            case 'closeBid': {
              const bid = pick(bids, step.pick);
              if (bid) ledger.closeBid(bid.id);
              break;
            }
            case 'closeDeployment': {
              const deployment = pick(deployments, step.pick);
              if (deployment) ledger.closeDeployment(deployment.id);
              break;
            }
            case 'deposit': {
              const deployment = pick(deployments, step.pick);
              if (deployment) ledger.depositDeployment({ id: deployment.id, amount: uakt(step.amount) });
              break;
            }
            case 'blocks':
              value(ledger.advanceBlocks(step.count));
              break;
          }
          // conservation: everything minted sits in accounts, escrows, or not-yet-whole lease payments
          let held = 0n;
          for (const account of [owner, provider, rival])
            held += BigInt(value(ledger.getAccount(account.address)).balance) * DEC_ONE;
          for (const deployment of value(ledger.listDeployments())) {
            const balance = value(parseDec(deployment.escrow.balance));
            assert.ok(balance >= 0n, 'escrow went negative');
            held += balance;
          }
          for (const lease of value(ledger.listLeases())) held += value(parseDec(lease.paid)) % DEC_ONE;
          assert.equal(held, minted);
        }
        const allLeases = value(ledger.listLeases());
        const orderKeys = allLeases.map((lease) => `${lease.id.dseq}/${lease.id.gseq}/${lease.id.oseq}`);
        assert.equal(new Set(orderKeys).size, orderKeys.length);
        for (const lease of allLeases) {
          const bid = value(ledger.getBid(lease.id));
          assert.equal(bid.state, lease.state === 'active' ? 'active' : 'closed');
        }
        for (const deployment of value(ledger.listDeployments({ state: 'closed' }))) {
          assert.ok(deployment.groups.every((group) => group.state === 'closed'));
        }
        const events = value(ledger.eventsSince(0, 1000));
        assert.deepEqual(
          events.map((event) => event.id),
          events.map((_, index) => index + 1),
        );
        for (let i = 1; i < events.length; i++) assert.ok(events[i]!.height >= events[i - 1]!.height);
        seen.dry += value(ledger.listDeployments({ state: 'closed' })).filter(
          (d) => d.closedReason === 'insufficient_funds',
        ).length;
      }),
      { numRuns: 60, seed: 20260101 },
    );
    // the generator must reach the interesting states, or the invariants above prove little
    assert.ok(seen.leases > 40, `only ${seen.leases} leases were made`);
    assert.ok(seen.dry > 5, `only ${seen.dry} escrows ran dry`);
  });
});
