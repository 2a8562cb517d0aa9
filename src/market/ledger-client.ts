/**
 * A typed client of the ledger HTTP API: the same {@link MarketLedger} interface as the in-process
 * ledger, so provider daemons and the CLI can run against either. Writes acting for an account are
 * signed with that account's key when the client holds it; every answer is validated and frozen.
 */
import type { z } from 'zod';
import {
  type AppError,
  appError,
  ERROR_TABLE,
  type ErrorCode,
  fail,
  type Result,
  withCause,
} from '../errors/index.js';
import { addressOf, publicKeyOf } from '../identity/index.js';
import { signRequest } from './ledger-auth.js';
import {
  accountSchema,
  bidSchema,
  certificateSchema,
  createdDeploymentSchema,
  deploymentSchema,
  eventSchema,
  leaseSchema,
  orderSchema,
  parseWith,
  providerSchema,
  statusSchema,
} from './schemas.js';
import type {
  Account,
  Bid,
  BidFilter,
  BidId,
  Certificate,
  CertificateFilter,
  CertificateId,
  CloseBidOptions,
  CloseLeaseInput,
  CreateBidInput,
  CreateCertificateInput,
  CreateDeploymentInput,
  Deployment,
  DeploymentFilter,
  DeploymentId,
  DepositInput,
  FundAccountInput,
  Lease,
  LeaseFilter,
  LeaseId,
  LedgerStatus,
  MarketEvent,
  MarketLedger,
  Order,
  OrderFilter,
  OrderId,
  Provider,
  RegisterProviderInput,
  UpdateDeploymentInput,
} from './types.js';

export interface LedgerClientOptions {
  /** Base URL of the ledger, e.g. `http://127.0.0.1:26657`. */
  readonly url: string;
  /** Private keys this client may sign writes with; a write acting for another account goes unsigned. */
  readonly keys?: readonly Uint8Array[];
  /** Sent as `Authorization: Bearer …` on faucet and block calls. */
  readonly adminToken?: string;
  /** Per-request timeout. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Replaces global fetch, e.g. with a hono app's `request` for in-process use. */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Milliseconds since the epoch, for signature timestamps. */
  readonly now?: () => number;
}

type Actor = { readonly account: string } | 'admin' | undefined;

/** The ledger over HTTP. Transport failures come back as UNAVAILABLE, never as exceptions. */
export class LedgerClient implements MarketLedger {
  readonly #base: string;
  readonly #keys: ReadonlyMap<string, Uint8Array>;
  readonly #options: LedgerClientOptions;

  constructor(options: LedgerClientOptions) {
    this.#base = options.url.replace(/\/+$/, '');
    this.#keys = new Map((options.keys ?? []).map((key) => [addressOf(publicKeyOf(key)), key]));
    this.#options = options;
  }

  status(): Promise<Result<LedgerStatus, AppError>> {
    return this.#call('GET', '/v1/status', statusSchema);
  }
  eventsSince(after: number, limit = 100): Promise<Result<readonly MarketEvent[], AppError>> {
    return this.#call('GET', `/v1/events${search({ after, limit })}`, eventSchema.array());
  }
  fundAccount(input: FundAccountInput): Promise<Result<Account, AppError>> {
    return this.#call('POST', '/v1/faucet', accountSchema, input, 'admin');
  }
  getAccount(address: string): Promise<Result<Account, AppError>> {
    return this.#call('GET', `/v1/accounts/${segment(address)}`, accountSchema);
  }
  advanceBlocks(count = 1): Promise<Result<LedgerStatus, AppError>> {
    return this.#call('POST', '/v1/blocks', statusSchema, { count }, 'admin');
  }

  createDeployment(
    input: CreateDeploymentInput,
  ): Promise<Result<{ readonly deployment: Deployment; readonly orders: readonly Order[] }, AppError>> {
    return this.#call('POST', '/v1/deployments', createdDeploymentSchema, input, { account: input.owner });
  }
  updateDeployment(input: UpdateDeploymentInput): Promise<Result<Deployment, AppError>> {
    return this.#call(
      'POST',
      `${deploymentPath(input.id)}/update`,
      deploymentSchema,
      { hash: input.hash },
      {
        account: input.id.owner,
      },
    );
  }
  depositDeployment(input: DepositInput): Promise<Result<Deployment, AppError>> {
    return this.#call(
      'POST',
      `${deploymentPath(input.id)}/deposit`,
      deploymentSchema,
      { amount: input.amount },
      {
        account: input.id.owner,
      },
    );
  }
  closeDeployment(id: DeploymentId): Promise<Result<Deployment, AppError>> {
    return this.#call('POST', `${deploymentPath(id)}/close`, deploymentSchema, {}, { account: id.owner });
  }
  getDeployment(id: DeploymentId): Promise<Result<Deployment, AppError>> {
    return this.#call('GET', deploymentPath(id), deploymentSchema);
  }
  listDeployments(filter: DeploymentFilter = {}): Promise<Result<readonly Deployment[], AppError>> {
    return this.#call('GET', `/v1/deployments${search({ ...filter })}`, deploymentSchema.array());
  }

  registerProvider(input: RegisterProviderInput): Promise<Result<Provider, AppError>> {
    return this.#call('POST', '/v1/providers', providerSchema, input, { account: input.address });
  }
  getProvider(address: string): Promise<Result<Provider, AppError>> {
    return this.#call('GET', `/v1/providers/${segment(address)}`, providerSchema);
  }
  listProviders(): Promise<Result<readonly Provider[], AppError>> {
    return this.#call('GET', '/v1/providers', providerSchema.array());
  }

  getOrder(id: OrderId): Promise<Result<Order, AppError>> {
    return this.#call('GET', `/v1/orders/${orderSegments(id)}`, orderSchema);
  }
  listOrders(filter: OrderFilter = {}): Promise<Result<readonly Order[], AppError>> {
    return this.#call('GET', `/v1/orders${search({ ...filter })}`, orderSchema.array());
  }

  createBid(input: CreateBidInput): Promise<Result<Bid, AppError>> {
    return this.#call('POST', '/v1/bids', bidSchema, input, { account: input.provider });
  }
  closeBid(id: BidId, options: CloseBidOptions = {}): Promise<Result<Bid, AppError>> {
    return this.#call('POST', `/v1/bids/${bidSegments(id)}/close`, bidSchema, options, {
      account: id.provider,
    });
  }
  getBid(id: BidId): Promise<Result<Bid, AppError>> {
    return this.#call('GET', `/v1/bids/${bidSegments(id)}`, bidSchema);
  }
  listBids(filter: BidFilter = {}): Promise<Result<readonly Bid[], AppError>> {
    return this.#call('GET', `/v1/bids${search({ ...filter })}`, bidSchema.array());
  }

  createLease(bid: BidId): Promise<Result<Lease, AppError>> {
    return this.#call('POST', '/v1/leases', leaseSchema, { bid }, { account: bid.owner });
  }
  closeLease(input: CloseLeaseInput): Promise<Result<Lease, AppError>> {
    return this.#call(
      'POST',
      `/v1/leases/${bidSegments(input.id)}/close`,
      leaseSchema,
      { actor: input.actor },
      {
        account: input.actor,
      },
    );
  }
  getLease(id: LeaseId): Promise<Result<Lease, AppError>> {
    return this.#call('GET', `/v1/leases/${bidSegments(id)}`, leaseSchema);
  }
  listLeases(filter: LeaseFilter = {}): Promise<Result<readonly Lease[], AppError>> {
    return this.#call('GET', `/v1/leases${search({ ...filter })}`, leaseSchema.array());
  }

  createCertificate(input: CreateCertificateInput): Promise<Result<Certificate, AppError>> {
    return this.#call('POST', '/v1/certificates', certificateSchema, input, { account: input.owner });
  }
  revokeCertificate(id: CertificateId): Promise<Result<Certificate, AppError>> {
    return this.#call(
      'POST',
      `/v1/certificates/${segment(id.owner)}/${segment(id.serial)}/revoke`,
      certificateSchema,
      {},
      { account: id.owner },
    );
  }
  listCertificates(filter: CertificateFilter = {}): Promise<Result<readonly Certificate[], AppError>> {
    return this.#call('GET', `/v1/certificates${search({ ...filter })}`, certificateSchema.array());
  }

  async #call<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
    actor?: Actor,
  ): Promise<Result<T, AppError>> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (text !== undefined) headers['content-type'] = 'application/json';
    if (actor === 'admin' && this.#options.adminToken !== undefined) {
      headers.authorization = `Bearer ${this.#options.adminToken}`;
    } else if (actor !== undefined && actor !== 'admin') {
      const key = this.#keys.get(actor.account);
      if (key !== undefined) {
        const now = (this.#options.now ?? Date.now)();
        Object.assign(headers, signRequest({ method, pathWithQuery: path, body: text ?? '' }, key, now));
      }
    }
    const send = this.#options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    let response: Response;
    let answer: string;
    try {
      response = await send(this.#base + path, {
        method,
        headers,
        ...(text === undefined ? {} : { body: text }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      answer = await response.text();
    } catch (error) {
      const late = (error as { name?: unknown }).name === 'TimeoutError' ? ` within ${timeoutMs} ms` : '';
      return fail(
        withCause(appError('UNAVAILABLE', `the ledger at ${this.#base} did not answer${late}`), error),
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(answer);
    } catch {
      return fail(appError('UNAVAILABLE', `the ledger answered ${response.status} without JSON`));
    }
    if (!response.ok) return fail(remoteError(response.status, json));
    const parsed = parseWith(schema, json, `ledger answer to ${method} ${path.split('?')[0]}`);
    return parsed.ok ? parsed : fail(appError('INTERNAL', parsed.error.message));
  }
}

function remoteError(status: number, json: unknown): AppError {
  const body = json as { error?: unknown; code?: unknown; details?: unknown } | null;
  const code =
    typeof body?.code === 'string' && body.code in ERROR_TABLE ? (body.code as ErrorCode) : undefined;
  const message = typeof body?.error === 'string' ? body.error : `the ledger answered HTTP ${status}`;
  if (code === undefined) return appError(status >= 500 ? 'UNAVAILABLE' : 'INTERNAL', message, { status });
  const details =
    typeof body?.details === 'object' && body.details !== null
      ? (body.details as Record<string, unknown>)
      : undefined;
  return appError(code, message, details);
}

function segment(text: string): string {
  return encodeURIComponent(text);
}
function deploymentPath(id: DeploymentId): string {
  return `/v1/deployments/${segment(id.owner)}/${segment(id.dseq)}`;
}
function orderSegments(id: OrderId): string {
  return `${segment(id.owner)}/${segment(id.dseq)}/${id.gseq}/${id.oseq}`;
}
function bidSegments(id: BidId): string {
  return `${orderSegments(id)}/${segment(id.provider)}`;
}

/** `?a=1&b=x` from the defined fields, or '' when none. */
function search(fields: Readonly<Record<string, string | number | undefined>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
