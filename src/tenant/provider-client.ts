/**
 * The tenant's client of a provider daemon: Akash's routes, each call authenticated with a fresh ES256K JWT
 * that the tenant's key signs and that carries only the scope the call needs. Answers are parsed at the
 * boundary; failures come back as AppErrors with the provider's code, never as exceptions.
 */
import { z } from 'zod';
import {
  type AppError,
  appError,
  ERROR_TABLE,
  type ErrorCode,
  fail,
  ok,
  type Result,
} from '../errors/index.js';
import { newClaims, type PermissionScope, signJwt } from '../identity/index.js';
import { ProviderTransportError } from './provider-transport.js';

const leasedIpSchema = z.looseObject({
  Port: z.number(),
  ExternalPort: z.number(),
  Protocol: z.string(),
  IP: z.string(),
});

const endpointStatusSchema = z.looseObject({
  state: z.enum(['active', 'pending', 'withheld']),
  addresses: z.array(z.string()),
  reason: z.string().optional(),
  held_by: z.looseObject({ dseq: z.string(), gseq: z.number(), oseq: z.number() }).optional(),
});

/** akash-ip's lease-status extension: whether the lease's pods carry its addresses (admission webhook on). */
const ipEnvSchema = z.looseObject({
  current: z.boolean().nullable(),
  pods: z
    .array(
      z.looseObject({ pod: z.string(), service: z.string(), state: z.enum(['current', 'missing', 'stale']) }),
    )
    .optional(),
  code: z.string().optional(),
  error: z.string().optional(),
});

const leaseStatusSchema = z.looseObject({
  services: z.record(z.string(), z.unknown()).nullable().optional(),
  forwarded_ports: z.record(z.string(), z.unknown()).nullable().optional(),
  ips: z.record(z.string(), z.array(leasedIpSchema)).nullable(),
  ip_endpoints: z.record(z.string(), endpointStatusSchema).optional(),
  // An extension: one we cannot read is left out, never a reason to refuse the lease's status.
  ip_env: ipEnvSchema.optional().catch(undefined),
});

/** One entry of lease-status `ips` (Akash's capitalised keys). */
export type LeasedIp = z.infer<typeof leasedIpSchema>;
/** An IP endpoint's state as the provider reports it next to `ips`. */
export type EndpointStatus = z.infer<typeof endpointStatusSchema>;
/** Whether a lease's pods carry its addresses, as akash-ip's provider reports it. */
export type IpEnvStatus = z.infer<typeof ipEnvSchema>;
/** Akash lease-status JSON, as far as the CLI reads it. */
export type LeaseStatus = z.infer<typeof leaseStatusSchema>;

const auditEventSchema = z.looseObject({
  id: z.number(),
  at: z.number(),
  actor: z.string(),
  action: z.string(),
  owner: z.string(),
  lease: z.string(),
  endpoint: z.string().exactOptional(),
  address: z.string().exactOptional(),
  port: z.number().exactOptional(),
  protocol: z.string().exactOptional(),
  detail: z.string().exactOptional(),
});
/** One entry of a provider's IP audit trail. */
export type AuditEventJson = z.infer<typeof auditEventSchema>;

const leaseDetailsSchema = z.looseObject({
  env: z.record(z.string(), z.record(z.string(), z.string())),
  audit: z.array(auditEventSchema),
});
/** `GET /lease/{dseq}/{gseq}/{oseq}/ip-details`: the workload's IP variables per service, and the audit trail. */
export type LeaseDetails = z.infer<typeof leaseDetailsSchema>;

const bidDecisionSchema = z.looseObject({
  order: z.looseObject({ owner: z.string(), dseq: z.string(), gseq: z.number(), oseq: z.number() }),
  provider: z.string(),
  outcome: z.enum(['bid', 'declined', 'failed']),
  code: z.string().exactOptional(),
  message: z.string(),
  price: z.looseObject({ denom: z.string(), amount: z.string() }).exactOptional(),
});
/** One decision of a provider's bid engine. */
export type BidDecisionJson = z.infer<typeof bidDecisionSchema>;

const migrateReplySchema = z.looseObject({ transferred: z.array(z.string()) });
/** The answer to `POST /endpoint/migrate`. */
export type MigrateReply = z.infer<typeof migrateReplySchema>;

/** A count that may exceed 2^53 (IPv6 pools): a decimal string or a number, read as a bigint. */
const count = z
  .union([z.string().regex(/^[0-9]{1,40}$/), z.int().min(0)])
  .transform((value) => BigInt(value));

const leasedIpInventorySchema = z.looseObject({
  capacity: count,
  allocatable: count.optional(),
  allocated: count,
});
/** `leased_ip` of the provider's inventory (chain-sdk `ResourcePair`). */
export type LeasedIpInventory = z.infer<typeof leasedIpInventorySchema>;

const poolSchema = z.looseObject({
  name: z.string(),
  family: z.string().optional(),
  capacity: count,
  allocated: count,
  reserved: count.optional(),
  quarantined: count.optional(),
  available: count.optional(),
});

const providerStatusSchema = z.looseObject({
  address: z.string().optional(),
  cluster: z.looseObject({
    leases: z.number().optional(),
    inventory: z.looseObject({
      leased_ip: leasedIpInventorySchema.nullable().optional(),
      pools: z.array(poolSchema).optional(),
    }),
  }),
  ip_leases: z
    .looseObject({
      family: z.string().optional(),
      in_use: count,
      reserved: count,
      quarantined: count,
      available: count,
    })
    .optional(),
});
/** `GET /status`, as far as the CLI reads it. */
export type ProviderStatus = z.infer<typeof providerStatusSchema>;

/** Free addresses a new bid could take: the breakdown's `available`, else capacity − allocated. */
export function freeIps(status: ProviderStatus): bigint {
  const inventory = status.cluster.inventory.leased_ip;
  if (inventory === undefined || inventory === null) return 0n;
  const available = status.ip_leases?.available;
  if (available !== undefined) return available;
  return inventory.capacity > inventory.allocated ? inventory.capacity - inventory.allocated : 0n;
}

/** A lease on a provider: the owner comes from the token. */
export interface LeaseRef {
  readonly dseq: string;
  readonly gseq: number;
  readonly oseq: number;
}

export interface ProviderClientOptions {
  /** The provider's base URL, e.g. `http://127.0.0.1:8443`. */
  readonly url: string;
  /** The tenant's key; the JWT issuer is its address. Without it only public routes can be called. */
  readonly signer?: { readonly privateKey: Uint8Array; readonly address: string };
  /** Per-request timeout. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Replaces global fetch: the verifying HTTPS transport (provider-transport.ts), or a test's. */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** `mtls`: the transport presents the tenant's certificate and no token is sent (Akash's `--auth-type mtls`). */
  readonly auth?: 'jwt' | 'mtls';
}

/** One provider daemon, seen by one tenant. */
export class ProviderClient {
  readonly url: string;
  readonly #options: ProviderClientOptions;

  constructor(options: ProviderClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#options = options;
  }

  /** `PUT /deployment/{dseq}/manifest`; `manifestJson` is the manifest as Go's encoding/json writes it. */
  sendManifest(dseq: string, manifestJson: string): Promise<Result<unknown, AppError>> {
    return this.#call(
      'PUT',
      `/deployment/${encodeURIComponent(dseq)}/manifest`,
      'send-manifest',
      z.unknown(),
      {
        text: manifestJson,
      },
    );
  }

  /** `GET /lease/{dseq}/{gseq}/{oseq}/status`. */
  leaseStatus(lease: LeaseRef): Promise<Result<LeaseStatus, AppError>> {
    return this.#call('GET', `${leasePath(lease)}/status`, 'status', leaseStatusSchema);
  }

  /** `GET /lease/{dseq}/{gseq}/{oseq}/ip-details`. */
  leaseDetails(lease: LeaseRef): Promise<Result<LeaseDetails, AppError>> {
    const path = `/lease/${encodeURIComponent(lease.dseq)}/${lease.gseq}/${lease.oseq}/ip-details`;
    return this.#call('GET', path, 'status', leaseDetailsSchema);
  }

  /** `GET /ip-audit`: the provider's newest audit entries (a provider-internal route: loopback callers only). */
  recentAudit(limit: number): Promise<Result<readonly AuditEventJson[], AppError>> {
    return this.#call('GET', `/ip-audit?limit=${limit}`, undefined, z.array(auditEventSchema));
  }

  /** `GET /bid-decisions`: the bid engine's latest decisions (provider-internal: loopback callers only). */
  bidDecisions(): Promise<Result<readonly BidDecisionJson[], AppError>> {
    return this.#call('GET', '/bid-decisions', undefined, z.array(bidDecisionSchema));
  }

  /**
   * `POST /endpoint/migrate`: moves the named endpoints of this owner to the destination deployment. The dseqs
   * (decimal uint64s) are written as JSON numbers, digit for digit, as Go's client sends them.
   */
  migrate(body: {
    readonly endpoints_to_migrate: readonly string[];
    readonly destination_dseq: string;
    readonly destination_gseq: number;
    readonly source_dseq?: string;
    readonly dry_run?: boolean;
  }): Promise<Result<MigrateReply, AppError>> {
    const uint64 = (text: string) => (/^[0-9]{1,20}$/.test(text) ? text : JSON.stringify(text));
    const fields = [
      `"endpoints_to_migrate":${JSON.stringify(body.endpoints_to_migrate)}`,
      `"destination_dseq":${uint64(body.destination_dseq)}`,
      `"destination_gseq":${body.destination_gseq}`,
      ...(body.source_dseq === undefined ? [] : [`"source_dseq":${uint64(body.source_dseq)}`]),
      ...(body.dry_run === undefined ? [] : [`"dry_run":${body.dry_run}`]),
    ];
    return this.#call('POST', '/endpoint/migrate', 'ip-migrate', migrateReplySchema, {
      text: `{${fields.join(',')}}`,
    });
  }

  /** `GET /lease/{dseq}/{gseq}/{oseq}/manifest`: the deployed group(s), as Go's manifest JSON. */
  getManifest(lease: LeaseRef): Promise<Result<unknown, AppError>> {
    return this.#call('GET', `${leasePath(lease)}/manifest`, 'get-manifest', z.array(z.unknown()));
  }

  /** `GET /lease/{dseq}/{gseq}/{oseq}/service/{name}/status`: chain-sdk's `ServiceStatus`. */
  serviceStatus(lease: LeaseRef, service: string): Promise<Result<unknown, AppError>> {
    const path = `${leasePath(lease)}/service/${encodeURIComponent(service)}/status`;
    return this.#call('GET', path, 'status', z.looseObject({ name: z.string() }));
  }

  /** `GET /status`: the provider's inventory, leased IPs included. No token needed. */
  status(): Promise<Result<ProviderStatus, AppError>> {
    return this.#call('GET', '/status', undefined, providerStatusSchema);
  }

  async #call<T>(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    scope: PermissionScope | undefined,
    schema: z.ZodType<T>,
    body?: { readonly text: string },
  ): Promise<Result<T, AppError>> {
    const headers: Record<string, string> = {};
    if (scope !== undefined && this.#options.auth !== 'mtls') {
      const signer = this.#options.signer;
      if (signer === undefined) {
        return fail(appError('UNAUTHENTICATED', `${method} ${path} needs a tenant key to sign its token`));
      }
      const claims = newClaims(signer.address, {
        now: Date.now() / 1000,
        ttlSeconds: 300,
        leases: { access: 'scoped', scope: [scope] },
      });
      const token = signJwt(claims, signer.privateKey, 'ES256K');
      if (!token.ok) return token;
      headers.authorization = `Bearer ${token.value}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const send = this.#options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
    let response: Response;
    let text: string;
    try {
      response = await send(this.url + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: body.text }),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
      text = await response.text();
    } catch (error) {
      if (error instanceof ProviderTransportError) return fail(error.error);
      return fail(
        appError(
          'UNAVAILABLE',
          `the provider at ${this.url} did not answer (${String(error)}); is it running?`,
          {
            url: this.url,
          },
        ),
      );
    }
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) return fail(remoteError(this.url, method, path, response.status, json, text));
    if (json === undefined) {
      return fail(
        appError('UNAVAILABLE', `the provider at ${this.url} answered ${method} ${path} without JSON`),
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(
        appError(
          'INTERNAL',
          `the provider at ${this.url} answered ${method} ${path} with an unexpected shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
        ),
      );
    }
    return ok(parsed.data);
  }
}

function leasePath(lease: LeaseRef): string {
  return `/lease/${encodeURIComponent(lease.dseq)}/${lease.gseq}/${lease.oseq}`;
}

function remoteError(
  url: string,
  method: string,
  path: string,
  status: number,
  json: unknown,
  text: string,
): AppError {
  const body = (typeof json === 'object' && json !== null ? json : {}) as {
    error?: unknown;
    code?: unknown;
    details?: unknown;
  };
  const known = typeof body.code === 'string' && Object.hasOwn(ERROR_TABLE, body.code);
  const message =
    typeof body.error === 'string'
      ? body.error
      : `the provider at ${url} answered ${method} ${path} with HTTP ${status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
  const code: ErrorCode = known
    ? (body.code as ErrorCode)
    : status === 401
      ? 'UNAUTHENTICATED'
      : status === 403
        ? 'FORBIDDEN'
        : status === 404
          ? 'NOT_FOUND'
          : status >= 500
            ? 'UNAVAILABLE'
            : 'INVALID_INPUT';
  const details =
    typeof body.details === 'object' && body.details !== null
      ? { ...(body.details as Record<string, unknown>), status }
      : { status };
  return appError(code, message, details);
}
