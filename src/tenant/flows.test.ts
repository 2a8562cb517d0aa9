import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AppError, appError, ok, type Result } from '../errors/index.js';
import { type Bid, createLedgerApi, type Lease, Ledger, LedgerClient, type Order } from '../market/index.js';
import { IP_LEASE, testAccount } from '../market/testing.js';
import { parseSdl, type Sdl } from '../sdl/index.js';
import {
  biddingSettled,
  chooseBid,
  compareBids,
  deploy,
  formatPrice,
  manifestRefusal,
  noBidCode,
  noBidMessage,
  type OrderBids,
  releasedBy,
  statusSettled,
  update,
} from './flows.js';
import { type LeaseStatus, ProviderClient } from './provider-client.js';
import type { Session } from './session.js';

const OWNER = 'akash1owner';
const P1 = 'akash1provider1';
const P2 = 'akash1provider2';
const P3 = 'akash1provider3';
const label = (address: string) => address.replace('akash1', '');

function bid(provider: string, amount: string, createdAt = 0, state: Bid['state'] = 'open'): Bid {
  return {
    id: { owner: OWNER, dseq: '7', gseq: 1, oseq: 1, provider },
    state,
    price: { denom: 'uakt', amount },
    createdHeight: 1,
    createdAt,
  };
}

const order = { id: { owner: OWNER, dseq: '7', gseq: 1, oseq: 1 }, state: 'open' } as unknown as Order;

function bids(over: Partial<OrderBids>): OrderBids {
  return { order, bids: [], refusals: [], waiting: [], ...over };
}

describe('choosing a bid', () => {
  it('takes the cheapest open bid, comparing decimals exactly', () => {
    const list = [bid(P1, '14.75'), bid(P2, '12.398325617283950618'), bid(P3, '12.3983256172839506179')];
    assert.equal(chooseBid(list, { pick: 'cheapest' })?.id.provider, P3);
  });

  it('breaks price ties by arrival, then by provider address', () => {
    assert.equal(chooseBid([bid(P2, '1', 5), bid(P1, '1.0', 9)], { pick: 'cheapest' })?.id.provider, P2);
    assert.equal(chooseBid([bid(P2, '1', 5), bid(P1, '1', 5)], { pick: 'cheapest' })?.id.provider, P1);
  });

  it('ignores bids that are not open, and takes only the named provider when one is chosen', () => {
    const list = [bid(P1, '1', 0, 'lost'), bid(P2, '5')];
    assert.equal(chooseBid(list, { pick: 'cheapest' })?.id.provider, P2);
    assert.equal(chooseBid(list, { provider: P1 }), undefined);
    assert.equal(chooseBid(list, { provider: P2 })?.id.provider, P2);
    assert.equal(chooseBid([], { pick: 'cheapest' }), undefined);
  });

  it('picks a bid no other open bid undercuts (property)', () => {
    const amount = fc
      .tuple(fc.nat({ max: 10_000 }), fc.nat({ max: 999_999 }))
      .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(6, '0')}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(amount, fc.nat({ max: 5 })), { minLength: 1, maxLength: 8 }),
        (entries) => {
          const list = entries.map(([price, at], index) => bid(`akash1p${index}`, price, at));
          const chosen = chooseBid(list, { pick: 'cheapest' });
          assert.ok(chosen !== undefined);
          for (const other of list) assert.ok(compareBids(chosen, other) <= 0);
          const scaled = (b: Bid) => Math.round(Number(b.price.amount) * 1e6);
          assert.equal(scaled(chosen), Math.min(...list.map(scaled)));
        },
      ),
    );
  });
});

describe('when bidding is settled', () => {
  const refusal = { provider: P2, error: appError('INSUFFICIENT_IPS', 'p2 has no free IPs') };

  it('waits for every candidate when picking the cheapest', () => {
    assert.equal(biddingSettled(bids({ bids: [bid(P1, '1')], waiting: [P2] }), { pick: 'cheapest' }), false);
    assert.equal(
      biddingSettled(bids({ bids: [bid(P1, '1')], refusals: [refusal] }), { pick: 'cheapest' }),
      true,
    );
  });

  it('waits only for the chosen provider’s bid or refusal', () => {
    assert.equal(biddingSettled(bids({ bids: [bid(P1, '1')], waiting: [P2] }), { provider: P1 }), true);
    assert.equal(biddingSettled(bids({ refusals: [refusal], waiting: [P1] }), { provider: P2 }), true);
    assert.equal(biddingSettled(bids({ bids: [bid(P1, '1')], waiting: [P2] }), { provider: P2 }), false);
  });
});

describe('explaining an order without bids', () => {
  const full = {
    provider: P2,
    error: appError('INSUFFICIENT_IPS', 'p2 has no free IPs (1 needed, 0 of 4 free)'),
  };
  const mismatch = {
    provider: P3,
    error: appError('ATTRIBUTE_MISMATCH', 'p3 lacks attributes (ip-lease=true)'),
  };

  it('names the chosen provider’s reason and the providers that did bid', () => {
    const state = bids({ bids: [bid(P1, '1')], refusals: [full] });
    assert.equal(
      noBidMessage(state, { provider: P2 }, label, 30),
      'no bid from the chosen provider on order 7/1/1: provider provider2: p2 has no free IPs (1 needed, 0 of 4 free) (INSUFFICIENT_IPS); provider1 did bid: try --pick cheapest',
    );
    assert.equal(noBidCode(state, { provider: P2 }), 'INSUFFICIENT_IPS');
  });

  it('says so when the chosen provider stays silent', () => {
    const state = bids({ waiting: [P2] });
    assert.match(
      noBidMessage(state, { provider: P2 }, label, 30),
      /provider provider2 did not bid within 30s/,
    );
    assert.equal(noBidCode(state, { provider: P2 }), 'UNAVAILABLE');
  });

  it('lists every provider’s reason when nobody bid', () => {
    const state = bids({ refusals: [full, mismatch], waiting: [P1] });
    const message = noBidMessage(state, { pick: 'cheapest' }, label, 30);
    assert.match(message, /^no provider bid on order 7\/1\/1: /);
    assert.match(message, /provider provider2: p2 has no free IPs .* \(INSUFFICIENT_IPS\)/);
    assert.match(message, /provider provider3: .*\(ATTRIBUTE_MISMATCH\)/);
    assert.match(message, /provider provider1: no answer in 30s/);
    assert.equal(noBidCode(state, { pick: 'cheapest' }), 'UNAVAILABLE');
    assert.equal(noBidCode(bids({ refusals: [full] }), { pick: 'cheapest' }), 'INSUFFICIENT_IPS');
    assert.equal(noBidCode(bids({ refusals: [full, mismatch] }), { pick: 'cheapest' }), 'UNAVAILABLE');
  });
});

describe('when a lease-status is settled', () => {
  const status = (endpoints: LeaseStatus['ip_endpoints'], ips: LeaseStatus['ips'] = {}): LeaseStatus => ({
    ips,
    ...(endpoints === undefined ? {} : { ip_endpoints: endpoints }),
  });

  it('needs every IP endpoint leased, or not leased with a reason', () => {
    assert.equal(statusSettled(status({ web: { state: 'active', addresses: ['192.0.2.1'] } }), true), true);
    assert.equal(statusSettled(status({ web: { state: 'active', addresses: [] } }), true), false);
    assert.equal(statusSettled(status({ web: { state: 'pending', addresses: [] } }), true), false);
    assert.equal(
      statusSettled(status({ web: { state: 'withheld', addresses: [], reason: 'held by 5' } }), true),
      true,
    );
    assert.equal(statusSettled(status({}), true), false);
  });

  it('falls back to `ips` without the endpoint field, and is settled at once without IPs', () => {
    const entry = { Port: 80, ExternalPort: 80, Protocol: 'TCP', IP: '192.0.2.1' };
    assert.equal(statusSettled(status(undefined, { web: [entry] }), true), true);
    assert.equal(statusSettled(status(undefined, null), true), false);
    assert.equal(statusSettled(status(undefined, null), false), true);
  });
});

describe('formatPrice', () => {
  it('keeps at most four decimals for people', () => {
    assert.equal(formatPrice('12.398325617283950618'), '12.3983 uakt/block');
    assert.equal(formatPrice('14.000000000000000000'), '14 uakt/block');
    assert.equal(formatPrice('1000'), '1000 uakt/block');
    assert.equal(formatPrice('0.000000000000000001'), '<0.0001 uakt/block');
    assert.equal(formatPrice('0.5'), '0.5 uakt/block');
  });
});

const EXAMPLE = readFileSync(new URL('../../examples/ip-lease.yaml', import.meta.url), 'utf8');

function sdlOf(text: string): Sdl {
  const parsed = parseSdl(text);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.map((d) => d.message).join('\n'));
  return parsed.value;
}

function value<T>(result: Result<T, AppError>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

describe('the provider’s manifest checks, run before anything changes', () => {
  const example = sdlOf(EXAMPLE);
  const groups = (sdl: Sdl) => sdl.groups.map((spec, index) => ({ gseq: index + 1, spec }));

  it('accept an SDL against its own group specs', async () => {
    assert.equal(await manifestRefusal(example, groups(example)), undefined);
  });

  it('refuse an external port no provider takes, which the SDL engine only warns about', async () => {
    const refused = await manifestRefusal(sdlOf(EXAMPLE.replace('as: 80', 'as: 70000')), groups(example));
    assert.equal(refused?.code, 'INVALID_INPUT');
    assert.match(refused?.message ?? '', /externalPort/);
  });

  it('refuse a port added to an IP endpoint against the group spec the deployment was created with', async () => {
    const added = sdlOf(
      EXAMPLE.replace(
        '            ip: myendpoint\n',
        '            ip: myendpoint\n      - port: 443\n        as: 443\n        to:\n          - global: true\n            ip: myendpoint\n',
      ),
    );
    assert.equal(await manifestRefusal(added, groups(added)), undefined, 'fine as a new deployment');
    const refused = await manifestRefusal(added, groups(example));
    assert.equal(refused?.code, 'MANIFEST_MISMATCH');
    assert.match(
      refused?.message ?? '',
      /group "dcloud": the manifest uses IP endpoint sequences \[2\] but the group spec leases \[1\]/,
    );
  });

  it('refuse an SDL without the deployment’s placement group', async () => {
    const moved = sdlOf(EXAMPLE.replaceAll('dcloud', 'elsewhere'));
    const refused = await manifestRefusal(moved, groups(example));
    assert.equal(refused?.code, 'MANIFEST_MISMATCH');
    assert.match(refused?.message ?? '', /no placement group "dcloud"/);
  });
});

describe('the addresses an update releases', () => {
  const lease = { id: { owner: OWNER, dseq: '7', gseq: 1, oseq: 1, provider: P1 } } as Lease;
  const status: LeaseStatus = {
    ips: {},
    ip_endpoints: {
      myendpoint: { state: 'active', addresses: ['203.0.113.1'] },
      spare: { state: 'withheld', addresses: [], reason: 'held elsewhere' },
    },
  };

  it('are those of endpoints the new manifest no longer names, not withheld ones', () => {
    const renamed = sdlOf(EXAMPLE.replaceAll('myendpoint', 'other')).manifest[0];
    assert.deepEqual(releasedBy(lease, status, renamed), [
      { lease: lease.id, endpoint: 'myendpoint', addresses: ['203.0.113.1'] },
    ]);
    assert.deepEqual(releasedBy(lease, status, sdlOf(EXAMPLE).manifest[0]), []);
  });

  it('are every held address when the lease ends', () => {
    assert.deepEqual(
      releasedBy(lease, status, undefined).map((release) => release.addresses),
      [['203.0.113.1']],
    );
  });
});

/**
 * An in-process ledger (its real HTTP API) and a provider daemon that bids on open orders when asked for its
 * status, has seen no lease (or, with `holding`, holds that address for the lease's endpoint `myendpoint`), and
 * refuses every manifest: what is only known once the ledger holds a lease.
 */
function refusingProvider(holding?: string) {
  const owner = testAccount(31);
  const provider = testAccount(32);
  const ledger = value(Ledger.open({ path: ':memory:' }));
  const uakt = (amount: number) => ({ denom: 'uakt', amount: String(amount) });
  value(ledger.fundAccount({ address: owner.address, amount: uakt(50_000_000), pubkey: owner.pubkey }));
  value(ledger.fundAccount({ address: provider.address, amount: uakt(0), pubkey: provider.pubkey }));
  value(
    ledger.registerProvider({
      address: provider.address,
      hostUri: 'http://provider.test',
      attributes: [IP_LEASE],
    }),
  );
  const api = createLedgerApi(ledger);
  const refusal = 'the cluster refuses image nginx:1.27';
  const bid = () => {
    for (const order of value(ledger.listOrders({ owner: owner.address, state: 'open' }))) {
      ledger.createBid({ order: order.id, provider: provider.address, price: uakt(7) });
    }
  };
  const daemon = async (url: string, init: RequestInit): Promise<Response> => {
    if (url.includes('/lease/') && holding !== undefined) {
      return Response.json({
        ips: { web: [{ IP: holding, Port: 80, ExternalPort: 80, Protocol: 'TCP' }] },
        ip_endpoints: { myendpoint: { state: 'active', addresses: [holding] } },
      });
    }
    if (url.includes('/lease/'))
      return Response.json({ error: 'no such lease', code: 'LEASE_NOT_FOUND' }, { status: 404 });
    if (url.endsWith('/status')) {
      bid();
      return Response.json({ cluster: { inventory: { leased_ip: { capacity: 4, allocated: 0 } } } });
    }
    assert.equal(init.method, 'PUT');
    return Response.json({ error: refusal, code: 'INVALID_INPUT' }, { status: 400 });
  };
  const signer = { privateKey: owner.privateKey, address: owner.address };
  const session = {
    key: { name: 'tenant', address: owner.address, privateKey: owner.privateKey },
    ledger: new LedgerClient({
      url: 'http://ledger.test',
      keys: [owner.privateKey],
      fetch: (url, init) => Promise.resolve(api.request(url, init)),
    }),
    providerLabel: (address: string) => (address === provider.address ? 'provider-1' : address),
    providerClient: async () =>
      ok(new ProviderClient({ url: 'http://provider.test', signer, fetch: daemon })),
  } as unknown as Session;
  /** A deployment of `sdl` whose one order this provider won. */
  const leased = (sdl: Sdl) => {
    const { deployment } = value(
      ledger.createDeployment({
        owner: owner.address,
        groups: sdl.groups,
        hash: sdl.manifestVersion,
        deposit: { denom: 'uakt', amount: '5000000' },
      }),
    );
    bid();
    const [open] = value(ledger.listBids({ owner: owner.address, dseq: deployment.id.dseq }));
    assert.ok(open !== undefined);
    value(ledger.createLease(open.id));
    return { deployment, lease: open.id };
  };
  return { owner, ledger, session, refusal, leased };
}

describe('when the provider refuses a manifest only after the ledger holds the lease', () => {
  it('deploy closes the deployment it created, says so and fails with the provider’s code', async () => {
    const { owner, ledger, session, refusal } = refusingProvider();
    const progress: string[] = [];
    const deployed = await deploy(
      session,
      sdlOf(EXAMPLE),
      { choice: { pick: 'cheapest' }, deposit: 5_000_000n, bidTimeoutMs: 5_000, timeoutMs: 5_000 },
      (line) => progress.push(line),
    );
    assert.equal(deployed.ok, false);
    const error = deployed.ok ? undefined : deployed.error;
    assert.equal(error?.code, 'INVALID_INPUT');
    const [deployment] = value(ledger.listDeployments({ owner: owner.address }));
    assert.match(
      error?.message ?? '',
      new RegExp(
        `provider-1 refused the manifest of deployment ${deployment?.id.dseq}: ${refusal} \\(deployment ${deployment?.id.dseq} closed, its 1 lease\\(s\\) ended`,
      ),
    );
    assert.ok(progress.some((line) => /^lease \d+\/1\/1 accepted on provider-1/.test(line)));
    assert.equal(deployment?.state, 'closed');
    assert.deepEqual(
      value(ledger.listLeases({ owner: owner.address })).map((lease) => lease.state),
      ['closed'],
    );
  });

  it('update puts the deployment’s previous version back on the ledger', async () => {
    const { ledger, session, refusal, leased } = refusingProvider();
    const v1 = sdlOf(EXAMPLE);
    const { deployment } = leased(v1);

    const v2 = sdlOf(EXAMPLE.replace('nginx:1.27', 'nginx:1.28'));
    const updated = await update(
      session,
      v2,
      { dseq: deployment.id.dseq, file: 'v2.yaml', yes: false, timeoutMs: 5_000 },
      () => {},
    );
    assert.equal(updated.ok, false);
    assert.match(
      updated.ok ? '' : updated.error.message,
      new RegExp(
        `${refusal} \\(deployment ${deployment.id.dseq} is back at its previous version ${v1.manifestVersion.slice(0, 12)}…\\)$`,
      ),
    );
    assert.equal(value(ledger.getDeployment(deployment.id)).hash, v1.manifestVersion);
    assert.notEqual(v2.manifestVersion, v1.manifestVersion);
  });
});

describe('an update that releases an address', () => {
  it('goes ahead only when confirmed, and with the addresses named only when they are exactly those', async () => {
    const held = '203.0.113.5';
    const { ledger, session, leased } = refusingProvider(held);
    const v1 = sdlOf(EXAMPLE);
    const { deployment, lease } = leased(v1);
    const renamed = sdlOf(EXAMPLE.replaceAll('myendpoint', 'door'));
    const attempt = (options: { yes: boolean; releasing?: readonly string[] }) =>
      update(
        session,
        renamed,
        { dseq: deployment.id.dseq, file: 'v2.yaml', timeoutMs: 5_000, ...options },
        () => {},
      );

    for (const options of [
      { yes: false },
      { yes: true, releasing: ['203.0.113.6'] },
      { yes: true, releasing: [] },
    ]) {
      const asked = await attempt(options);
      assert.equal(asked.ok ? 'ok' : asked.error.code, 'CONFIRMATION_REQUIRED', JSON.stringify(options));
      assert.deepEqual(asked.ok ? undefined : asked.error.details?.releases, [
        { lease, endpoint: 'myendpoint', addresses: [held] },
      ]);
      assert.equal(value(ledger.getDeployment(deployment.id)).hash, v1.manifestVersion, 'nothing changed');
    }
    // confirmed for exactly that address (or with --yes), it goes on to the provider, which refuses here
    for (const options of [{ yes: true, releasing: [held] }, { yes: true }]) {
      const sent = await attempt(options);
      assert.equal(sent.ok ? 'ok' : sent.error.code, 'INVALID_INPUT', JSON.stringify(options));
    }
  });
});
