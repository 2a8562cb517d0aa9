/**
 * The console's JSON API, as the server sends it and the page reads it. Types only, so the browser bundle
 * shares them without pulling in server code. Counts are decimal strings (an IPv6 pool overflows a number).
 */

/** An error reply: the project's stable code and message, never an exception text. */
export interface ErrorJson {
  readonly error: string;
  readonly code: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** `GET /api/examples`. */
export interface ExampleJson {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** A price, for people: per block as the ledger charges it, and per 30-day month at Akash's block time. */
export interface PriceJson {
  /** uakt per block, exact. */
  readonly amount: string;
  /** e.g. `12.3983 uakt/block`. */
  readonly perBlock: string;
  /** e.g. `≈ 5.27 AKT/month`. */
  readonly perMonth: string;
}

/** One bid on one order. */
export interface BidJson {
  /** `dseq/gseq/oseq`. */
  readonly order: string;
  readonly provider: string;
  readonly label: string;
  readonly price: PriceJson;
}

/** A provider that will not bid on an order, and why. */
export interface RefusalJson {
  readonly order: string;
  readonly provider: string;
  readonly label: string;
  readonly code: string;
  readonly message: string;
}

/** One event of `POST /api/deploy`'s stream (server-sent events, one JSON object per `data:` line). */
export type DeployEventJson =
  | { readonly type: 'job'; readonly job: string }
  | { readonly type: 'progress'; readonly message: string }
  | { readonly type: 'created'; readonly dseq: string; readonly orders: readonly string[] }
  | { readonly type: 'bid'; readonly bid: BidJson }
  | { readonly type: 'refusal'; readonly refusal: RefusalJson }
  /** Bidding on `order` has settled: the page picks one of `bids` with `POST /api/deploy/{job}/choose`. */
  | {
      readonly type: 'choose';
      readonly order: string;
      readonly bids: readonly BidJson[];
      readonly cheapest?: string;
    }
  | { readonly type: 'lease'; readonly lease: string; readonly label: string; readonly price: PriceJson }
  | { readonly type: 'done'; readonly deployment: DeploymentJson }
  | { readonly type: 'error'; readonly error: ErrorJson };

/** `POST /api/deploy` body. `pick`: ask the page once bids settle, take the cheapest, or one provider's. */
export interface DeployRequest {
  readonly sdl: string;
  readonly pick: 'ask' | 'cheapest' | { readonly provider: string };
}

/** `POST /api/deploy/{job}/choose` body: a provider address, the cheapest bid, or give up (closes the deployment). */
export type ChooseRequest =
  | { readonly provider: string }
  | { readonly pick: 'cheapest' }
  | { readonly cancel: true };

/** One IP endpoint of a lease. */
export interface EndpointJson {
  readonly name: string;
  readonly state: string;
  readonly addresses: readonly string[];
  /** `web 80→80/TCP`. */
  readonly ports: readonly string[];
  readonly reason?: string;
  /** The deployment holding the endpoint's name, when it is withheld for that: the migration that fixes it. */
  readonly heldBy?: string;
  /** The CLI command that fixes a withheld endpoint. */
  readonly fix?: string;
}

/** One entry of a provider's IP audit trail. */
export interface AuditJson {
  readonly id: number;
  readonly at: number;
  readonly action: string;
  readonly actor: string;
  readonly lease: string;
  readonly owner: string;
  readonly endpoint?: string;
  readonly address?: string;
  readonly port?: number;
  readonly protocol?: string;
  readonly detail?: string;
}

/** One lease with what its provider reports. */
export interface LeaseJson {
  /** `dseq/gseq/oseq`. */
  readonly id: string;
  readonly gseq: number;
  readonly provider: string;
  readonly label: string;
  readonly state: string;
  readonly price: PriceJson;
  readonly endpoints: readonly EndpointJson[];
  /** Per service, the variables that tell the workload its leased addresses. */
  readonly env: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly audit: readonly AuditJson[];
  readonly error?: ErrorJson;
}

/** A deployment of the console's tenant. */
export interface DeploymentJson {
  readonly dseq: string;
  readonly state: string;
  readonly version: string;
  readonly leases: readonly LeaseJson[];
}

/** The page's views. */
export type ViewName = 'deploy' | 'leases' | 'provider';

/**
 * `GET /api/session`: who the console acts for. A tenant's console (`akash-ip console`, `npm start`) has every
 * view; the provider daemon's console has the provider view alone, for its operator.
 */
export interface SessionJson {
  readonly views: readonly ViewName[];
  /** The tenant the deploy and leases views act as. */
  readonly tenant?: { readonly address: string; readonly key: string; readonly ledger: string };
  /** The daemon's own provider address, when the daemon serves the console. */
  readonly provider?: string;
  readonly sampleMs: number;
}

/**
 * `POST /api/update` body. An update whose SDL no longer names an endpoint holding an IP is refused with
 * 428 `CONFIRMATION_REQUIRED` and `details.releases` ({@link ReleaseJson}); sent again with `release`, exactly the
 * addresses the person confirmed, it goes ahead (and is refused again if it would now release others).
 */
export interface UpdateRequest {
  readonly dseq: string;
  readonly sdl: string;
  readonly release?: readonly string[];
}

/** Addresses an update would release: an endpoint that holds them and the new SDL no longer names. */
export interface ReleaseJson {
  readonly endpoint: string;
  /** `dseq/gseq/oseq`. */
  readonly lease: string;
  readonly provider: string;
  readonly label: string;
  readonly addresses: readonly string[];
}

/** `POST /api/migrate` body. */
export interface MigrateRequest {
  readonly dseq: string;
  readonly sourceDseq?: string;
  readonly endpoints: readonly string[];
  readonly dryRun: boolean;
}

/** What a migration moved (or, on a dry run, would move). */
export interface MigrateJson {
  readonly dryRun: boolean;
  readonly transferred: readonly string[];
  readonly moves: readonly {
    readonly endpoint: string;
    readonly from: string;
    readonly to: string;
    readonly addresses: readonly string[];
  }[];
  readonly unchanged: readonly string[];
}

/** `POST /api/close` answer. */
export interface CloseJson {
  readonly dseq: string;
  /** The addresses the deployment held, which its providers release. */
  readonly released: readonly string[];
}

/** One pool of one provider. */
export interface PoolJson {
  readonly name: string;
  readonly family: string;
  readonly capacity: string;
  readonly allocated: string;
  readonly reserved: string;
  readonly quarantined: string;
  readonly available: string;
}

/** A provider as the console sees it now. */
export interface ProviderJson {
  readonly address: string;
  readonly label: string;
  readonly url: string;
  readonly pools: readonly PoolJson[];
  /** The Kubernetes backend's sync summary, when the provider runs one. */
  readonly kubernetes?: unknown;
  readonly error?: ErrorJson;
}

/** One sample of every provider's totals (over its pools). */
export interface SampleJson {
  readonly at: number;
  readonly providers: Readonly<
    Record<
      string,
      {
        readonly capacity: string;
        readonly allocated: string;
        readonly reserved: string;
        readonly quarantined: string;
      }
    >
  >;
}

/** `GET /api/providers`. */
export interface ProvidersJson {
  readonly providers: readonly ProviderJson[];
  readonly history: readonly SampleJson[];
}

/** One decision of a provider's bid engine: bid, declined (with its code and reason), or failed. */
export interface DecisionJson {
  /** `dseq/gseq/oseq`. */
  readonly order: string;
  readonly outcome: string;
  readonly code?: string;
  readonly message: string;
  readonly price?: PriceJson;
}
