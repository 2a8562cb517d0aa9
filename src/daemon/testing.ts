/**
 * Test fixtures for the daemon: the light ones of fixtures.ts (accounts, tokens, IP-lease SDLs), and a
 * harness wiring a daemon app to an in-process devnet ledger reached through its real HTTP API
 * (in-process requests, no socket).
 */
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { createLeaseEngine, type LeaseEngine, type LeaseId, type LeaseStore } from '../lease/index.js';
import { createLedgerApi, DEFAULT_PRICING, Ledger, LedgerClient } from '../market/index.js';
import type { Sdl } from '../sdl/index.js';
import { createMemoryStore } from '../store/index.js';
import { createProviderApp } from './app.js';
import { TokenVerifier } from './auth.js';
import { ledgerChain } from './chain.js';
import { type Account, account, ipSdl, unwrap } from './fixtures.js';
import { LedgerSync } from './ledger-sync.js';
import { memoryLogger } from './logger.js';
import { createMetrics, type DaemonMetrics } from './metrics.js';
import { Readiness } from './readiness.js';
import { ProviderService } from './service.js';

export * from './fixtures.js';

/** The daemon under test, wired to an in-process ledger. */
export interface Harness {
  readonly app: Hono;
  readonly ledger: Ledger;
  readonly client: LedgerClient;
  readonly provider: Account;
  readonly service: ProviderService;
  readonly engine: LeaseEngine;
  readonly sync: LedgerSync;
  readonly readiness: Readiness;
  readonly verifier: TokenVerifier;
  readonly metrics: DaemonMetrics;
  readonly logs: ReturnType<typeof memoryLogger>;
  /** The clock every part reads; move it with `clock.now += ms`. */
  readonly clock: { now: number };
  /** Funds `who` (with its public key) on the ledger. */
  fund(who: Account): void;
  /** Creates a deployment of `sdl` for `owner`, and a lease of this provider on each of its orders. */
  lease(
    owner: Account,
    sdl: Sdl,
    dseq?: string,
  ): { readonly dseq: string; readonly leases: readonly LeaseId[] };
  /** A request to the daemon; `peer` is the caller's address as the node server would report it. */
  request(
    method: string,
    path: string,
    options?: {
      readonly token?: string;
      readonly body?: unknown;
      readonly peer?: string;
      readonly raw?: string;
    },
  ): Promise<Response>;
  close(): void;
}

/** A ready daemon with a pool of 16 addresses (203.0.113.0/28) and an empty ledger. */
export async function createHarness(
  options: {
    readonly pools?: readonly string[];
    readonly adminToken?: string;
    /** Default: a memory store. */
    readonly store?: LeaseStore;
  } = {},
): Promise<Harness> {
  const clock = { now: 1_760_000_000_000 };
  const now = () => clock.now;
  const ledger = unwrap(Ledger.open({ path: ':memory:', now }));
  const api = createLedgerApi(ledger, { now });
  const provider = account(0x9a9a);
  const client = new LedgerClient({
    url: 'http://ledger.test',
    keys: [provider.privateKey],
    now,
    fetch: (url, init) => Promise.resolve(api.request(url, init)),
  });
  const fund = (who: Account): void => {
    unwrap(
      ledger.fundAccount({
        address: who.address,
        amount: { denom: 'uakt', amount: '100000000' },
        pubkey: who.pubkey,
      }),
    );
  };
  fund(provider);
  unwrap(
    ledger.registerProvider({
      address: provider.address,
      hostUri: 'http://127.0.0.1:1',
      attributes: [{ key: 'ip-lease', value: 'true' }],
    }),
  );

  const logs = memoryLogger();
  const engine = unwrap(
    await createLeaseEngine({
      store: options.store ?? createMemoryStore(),
      provider: provider.address,
      pools: [{ name: 'default', addresses: [...(options.pools ?? ['203.0.113.0/28'])] }],
      quarantineMs: 60_000,
      now,
    }),
  );
  const chain = ledgerChain(client, provider.address, now);
  let service: ProviderService | undefined;
  const metrics = createMetrics(() => service?.engine.inventory().pools ?? []);
  service = new ProviderService({
    provider: provider.address,
    engine,
    deployed: [],
    chain,
    logger: logs,
    metrics,
    now,
    closeOnChain: async (id) => {
      const closed = await client.closeLease({ id, actor: provider.address });
      return closed.ok ? { ok: true, value: undefined } : closed;
    },
  });
  const ready = service;
  const readiness = new Readiness();
  readiness.open();
  const verifier = new TokenVerifier({ lookup: chain.pubkey, now, cacheSize: 100 });
  const app = createProviderApp({
    service: () => ready,
    readiness,
    verifier,
    metrics,
    maxBodyBytes: 1 << 20,
    logger: logs,
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
  });
  const sync = new LedgerSync({
    ledger: client,
    provider: provider.address,
    pubkey: provider.pubkey,
    hostUri: 'http://127.0.0.1:1',
    attributes: [{ key: 'ip-lease', value: 'true' }],
    pricing: DEFAULT_PRICING,
    pollIntervalMs: 10,
    service: ready,
    logger: logs,
  });

  return {
    app,
    ledger,
    client,
    provider,
    service: ready,
    engine,
    sync,
    readiness,
    verifier,
    metrics,
    logs,
    clock,
    fund,
    lease(owner, sdl, dseq) {
      const created = unwrap(
        ledger.createDeployment({
          owner: owner.address,
          groups: sdl.groups,
          hash: sdl.manifestVersion,
          deposit: { denom: 'uakt', amount: '5000000' },
          ...(dseq === undefined ? {} : { dseq }),
        }),
      );
      const leases: LeaseId[] = [];
      for (const order of created.orders) {
        const bid = unwrap(
          ledger.createBid({
            order: order.id,
            provider: provider.address,
            price: { denom: 'uakt', amount: '100.000000000000000000' },
          }),
        );
        leases.push(unwrap(ledger.createLease(bid.id)).id);
      }
      return { dseq: created.deployment.id.dseq, leases };
    },
    request(method, path, requestOptions = {}) {
      const headers: Record<string, string> = {};
      if (requestOptions.token !== undefined) headers.authorization = `Bearer ${requestOptions.token}`;
      const body =
        requestOptions.raw ??
        (requestOptions.body === undefined ? undefined : JSON.stringify(requestOptions.body));
      if (body !== undefined) headers['content-type'] = 'application/json';
      const env = { incoming: { socket: { remoteAddress: requestOptions.peer ?? '127.0.0.1' } } };
      return Promise.resolve(
        app.request(
          `http://provider.test${path}`,
          { method, headers, ...(body === undefined ? {} : { body }) },
          env,
        ),
      );
    },
    close() {
      ledger.close();
    },
  };
}

/**
 * A deployment by `owner` of the IP SDL named `name`, with this provider's bid open on its one order (the
 * bid engine's reservation held), as the bidding tests start from.
 */
export async function bidOn(h: Harness, owner: Account, name: string) {
  const sdl = ipSdl(name);
  const created = unwrap(
    h.ledger.createDeployment({
      owner: owner.address,
      groups: sdl.groups,
      hash: sdl.manifestVersion,
      deposit: { denom: 'uakt', amount: '5000000' },
    }),
  );
  unwrap(await h.sync.bids.poll());
  const order = created.orders[0]!.id;
  assert.equal(unwrap(h.ledger.listBids({ ...order, provider: h.provider.address }))[0]?.state, 'open');
  return { sdl, order, dseq: created.deployment.id.dseq, lease: { ...order, provider: h.provider.address } };
}
