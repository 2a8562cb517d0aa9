/**
 * What the daemon asks of the chain: which leases it holds, what a deployment ordered (its manifest hash
 * and group specs), and tenants' public keys. Two adapters: the devnet ledger, and a static registry for
 * standalone use, filled by the provider's operator.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { type LeaseId, leaseKey } from '../lease/index.js';
import type { MarketLedger } from '../market/index.js';
import type { GroupSpec } from '../sdl/index.js';
import type { PubkeyLookup } from './auth.js';
import { BoundedCache } from './bounded-cache.js';

/** A deployment as the chain records it. */
export interface DeploymentFacts {
  readonly owner: string;
  readonly dseq: string;
  /** The manifest version (hex sha256) the deployment was created or last updated with. */
  readonly hash: string;
  readonly groups: readonly { readonly gseq: number; readonly spec: GroupSpec }[];
}

/** The daemon's view of the chain. */
export interface Chain {
  /** Active leases of this provider in deployments with sequence `dseq`, of any owner. */
  activeLeases(dseq: string): Promise<Result<readonly LeaseId[], AppError>>;
  deployment(owner: string, dseq: string): Promise<Result<DeploymentFacts, AppError>>;
  readonly pubkey: PubkeyLookup;
}

/** How long an unknown account, or one without a public key, stays cached as such. */
const MISSING_KEY_TTL_MS = 2000;
/** How long a known key is kept: keys never change, but every entry must go some time. */
const KEY_TTL_MS = 3_600_000;
/** Accounts remembered, each way: any caller can name accounts, so both caches are bounded. */
export const DEFAULT_KEY_CACHE_SIZE = 10_000;

/** The devnet ledger as the chain. Every call is bounded by the client's own timeout (F8). */
export function ledgerChain(
  ledger: Pick<MarketLedger, 'listLeases' | 'getDeployment' | 'getAccount'>,
  provider: string,
  now: () => number = Date.now,
  keyCacheSize = DEFAULT_KEY_CACHE_SIZE,
): Chain {
  const keys = new BoundedCache<string, string>(keyCacheSize, now);
  const missing = new BoundedCache<string, true>(keyCacheSize, now);
  const inflight = new Map<string, Promise<Result<string | undefined, AppError>>>();

  async function fetchKey(address: string): Promise<Result<string | undefined, AppError>> {
    const account = await ledger.getAccount(address);
    if (!account.ok && account.error.code !== 'ACCOUNT_NOT_FOUND') return account;
    const pubkey = account.ok ? (account.value.pubkey ?? undefined) : undefined;
    if (pubkey === undefined) missing.set(address, true, now() + MISSING_KEY_TTL_MS);
    else keys.set(address, pubkey, now() + KEY_TTL_MS);
    return ok(pubkey);
  }

  return {
    async activeLeases(dseq) {
      const leases = await ledger.listLeases({ dseq, provider, state: 'active' });
      if (!leases.ok) return leases;
      return ok(leases.value.map((lease) => lease.id));
    },
    async deployment(owner, dseq) {
      const deployment = await ledger.getDeployment({ owner, dseq });
      if (!deployment.ok) return deployment;
      const { hash, groups } = deployment.value;
      return ok({
        owner,
        dseq,
        hash,
        groups: groups.map((group) => ({ gseq: group.gseq, spec: group.spec })),
      });
    },
    pubkey(address) {
      const known = keys.get(address);
      if (known !== undefined) return Promise.resolve(ok(known));
      if (missing.get(address) === true) return Promise.resolve(ok(undefined));
      let pending = inflight.get(address);
      if (pending === undefined) {
        pending = fetchKey(address).finally(() => inflight.delete(address));
        inflight.set(address, pending);
      }
      return pending;
    },
  };
}

/** A lease the operator registered by hand, with what its deployment ordered. */
export interface RegisteredLease {
  readonly id: LeaseId;
  readonly hash: string;
  readonly spec: GroupSpec;
}

/**
 * Standalone mode: leases are registered by the provider's operator (`POST /leases`) and tenants' keys
 * come from the configuration's allow-list.
 */
export class StaticChain implements Chain {
  readonly #leases = new Map<string, RegisteredLease>();
  readonly #keys: ReadonlyMap<string, string>;
  readonly pubkey: PubkeyLookup;

  constructor(tenants: readonly { readonly address: string; readonly pubkey: string }[]) {
    this.#keys = new Map(tenants.map((tenant) => [tenant.address, tenant.pubkey]));
    this.pubkey = (address) => {
      const key = this.#keys.get(address);
      return Promise.resolve(
        key === undefined
          ? fail(appError('ACCOUNT_NOT_FOUND', `${address} is not on this provider's tenant list`))
          : ok(key),
      );
    };
  }

  /** Adds or replaces a lease; the hash applies to its whole deployment, as an update on chain does. */
  register(lease: RegisteredLease): void {
    this.#leases.set(leaseKey(lease.id), lease);
    for (const [key, other] of this.#leases) {
      if (other.id.owner === lease.id.owner && other.id.dseq === lease.id.dseq && other.hash !== lease.hash) {
        this.#leases.set(key, { ...other, hash: lease.hash });
      }
    }
  }

  /** Forgets a lease; true when it was registered. */
  remove(id: LeaseId): boolean {
    return this.#leases.delete(leaseKey(id));
  }

  activeLeases(dseq: string): Promise<Result<readonly LeaseId[], AppError>> {
    return Promise.resolve(
      ok([...this.#leases.values()].filter((lease) => lease.id.dseq === dseq).map((lease) => lease.id)),
    );
  }

  deployment(owner: string, dseq: string): Promise<Result<DeploymentFacts, AppError>> {
    const leases = [...this.#leases.values()].filter(
      (lease) => lease.id.owner === owner && lease.id.dseq === dseq,
    );
    const first = leases[0];
    if (first === undefined) {
      return Promise.resolve(
        fail(
          appError('DEPLOYMENT_NOT_FOUND', `no deployment ${owner}/${dseq} is registered on this provider`),
        ),
      );
    }
    const groups = new Map(leases.map((lease) => [lease.id.gseq, lease.spec]));
    return Promise.resolve(
      ok({
        owner,
        dseq,
        hash: first.hash,
        groups: [...groups].sort(([a], [b]) => a - b).map(([gseq, spec]) => ({ gseq, spec })),
      }),
    );
  }
}
