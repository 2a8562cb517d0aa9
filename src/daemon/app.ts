/**
 * The provider daemon's HTTP API (hono). Akash-compatible where IP leases touch it:
 *
 * | route | who | answers |
 * |---|---|---|
 * | `PUT /deployment/{dseq}/manifest` | owner JWT, scope `send-manifest` | 200 report · 400 · 401 · 403 · 404 · 422 `MANIFEST_MISMATCH` |
 * | `GET /lease/{dseq}/{gseq}/{oseq}/status` | owner JWT, scope `status` | 200 lease-status · 401 · 403 · 404 |
 * | `GET /lease/{dseq}/{gseq}/{oseq}/ip-details` | owner JWT, scope `status` | 200 `{env, audit}`: the workload's IP variables and the lease's audit trail · 401 · 403 · 404 |
 * | `DELETE /lease/{dseq}/{gseq}/{oseq}` | owner JWT, full access | 200 `{released}` · 401 · 403 · 404 |
 * | `POST /endpoint/migrate` | owner JWT, scope `ip-migrate` | 200 `{transferred}` · 422 bad body · 400 empty / inactive destination / unknown endpoint · 401 · 403 |
 * | `GET /leases` | owner JWT, scope `status` | 200 the caller's leases |
 * | `POST /leases` | internal, standalone mode only | 200 registers a lease |
 * | `GET /status` | public | 200 provider status with `cluster.inventory.leased_ip` |
 * | `GET /health` · `GET /usage` | public | the IP operator's liveness and `{"Available","InUse"}` |
 * | `GET /ip-lease-status/{owner}/{dseq}/{gseq}/{oseq}` | internal | 200 bound ports · 204 none · 404 bad ids |
 * | `GET /bid-decisions` | internal | 200 the bid engine's latest decisions (bid, declined with a code and reason, failed), oldest first |
 * | `GET /ip-audit?limit=N` | internal | 200 the newest N (default 200, at most 1000) audit entries, oldest first |
 * | `GET /k8s/lease/{owner}/{dseq}/{gseq}/{oseq}` | internal | 200 the lease's cluster objects with MetalLB's confirmation · 404 no backend |
 * | `POST /k8s/reconcile` | internal | 200 a drift check now: what differed from the engine and was repaired · 404 no backend · 503 not synced |
 * | `GET /healthz` · `/readyz` · `/metrics` | public | liveness · readiness (503 until rebuilt) · Prometheus |
 *
 * "Internal" routes answer callers on loopback, or anyone presenting `Authorization: Bearer <adminToken>`.
 * Every error is JSON `{error, code}` with the status of the one error table; every route except
 * liveness, readiness and metrics answers 503 until the daemon's state is rebuilt.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import { z } from 'zod';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import {
  type AppError,
  appError,
  type ErrorCode,
  fail,
  httpStatus,
  ok,
  type Result,
  withCause,
} from '../errors/index.js';
import { isAddress, type JwtClaims } from '../identity/index.js';
import type { LeaseId } from '../lease/index.js';
import {
  type DecisionRecord,
  errorResponse,
  groupSpecSchema,
  parseJsonExact,
  parseWith,
} from '../market/index.js';
import type { GroupSpec } from '../sdl/index.js';
import type { LeaseWebhook } from '../webhook/index.js';
import type { StaticChain } from './chain.js';
import type { ClusterSync } from './cluster-sync.js';
import type { FailureLimiter } from './failure-limit.js';
import { type BidScreening, versionInfo } from './gateway-info.js';
import { withIpEnv } from './lease-status.js';
import type { Logger } from './logger.js';
import { type FastLaneDeps, REQUEST_TIMED_OUT, timedOut } from './server.js';
import { type ProviderService, parseLeasePath } from './service.js';
import { type ClientCertificates, peerCertificateOf } from './tls.js';

/** What the HTTP layer needs; `service()` is undefined until the state is rebuilt. */
export interface ProviderAppDeps extends FastLaneDeps {
  /** Largest request body accepted. */
  readonly maxBodyBytes: number;
  /** Opens internal routes to non-loopback callers. */
  readonly adminToken?: string;
  /** Standalone mode: the registry `POST /leases` fills. */
  readonly registry?: StaticChain;
  /** Where a request that failed with a bug is logged. */
  readonly logger?: Logger;
  /** The Kubernetes backend's sync, when one is configured (undefined until the engine is rebuilt). */
  readonly cluster?: () => ClusterSync | undefined;
  /**
   * The admission webhook, when configured: lease-status then carries `ip_env`, whether the lease's pods
   * carry its addresses (a read of the cluster per request).
   */
  readonly webhook?: () => Pick<LeaseWebhook, 'pods'> | undefined;
  /** Slows down sources whose tokens keep failing (see failure-limit.ts); none: no limit. */
  readonly authFailures?: FailureLimiter;
  /** The bid engine's latest decisions with their reasons (ledger mode); none in standalone mode. */
  readonly bidDecisions?: () => readonly DecisionRecord[];
  /** `GET /validate`: screens a group as the bid engine would (see gateway-info.ts); none: 404. */
  readonly screen?: (spec: GroupSpec, owner: string, service: ProviderService) => BidScreening;
  /** mTLS: checks the client certificate of an HTTPS connection (see tls.ts); none: certificates are refused. */
  readonly clientCertificates?: ClientCertificates;
}

/** `POST /leases` (standalone): a lease and what its deployment ordered. */
const registrationSchema = z.strictObject({
  owner: z.string().refine((text) => isAddress(text), 'must be an akash1 address'),
  dseq: z.string().refine(isDseq, DSEQ_RULE),
  gseq: z.int().min(1).max(0xffff_ffff),
  oseq: z.int().min(1).max(0xffff_ffff),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the manifest version: 64 lowercase hex digits'),
  group: groupSpecSchema,
});

const JSON_TYPE = { 'content-type': 'application/json' } as const;
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

function incoming(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

function peerAddress(c: Context): string | undefined {
  return incoming(c)?.socket?.remoteAddress;
}

/** What reading a request fails with when its connection went away under it. */
const CUT_SHORT: ReadonlySet<string> = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ABORT_ERR']);

/** Codes whose messages may carry what broke inside: a tenant gets a reference into the log instead. */
const OPAQUE: ReadonlySet<ErrorCode> = new Set(['INTERNAL', 'STORE_CORRUPT']);

/**
 * What a caller is told of `error`: our message and code, never a cause (logged here, with a reference the reply
 * carries); for an internal failure not even our message, which may name files or rules of the store.
 */
function publicError(c: Context, error: AppError, logger: Logger | undefined): AppError {
  if (error.cause === undefined && !OPAQUE.has(error.code)) return error;
  const ref = randomBytes(4).toString('hex');
  logger?.log(OPAQUE.has(error.code) ? 'error' : 'warn', 'request failed', {
    ref,
    method: c.req.method,
    path: c.req.path,
    code: error.code,
    error: error.message,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  });
  const message = OPAQUE.has(error.code)
    ? `the provider failed on this request; its operator finds the details in its log under ref ${ref}`
    : `${error.message} (ref ${ref} in the provider's log)`;
  return appError(error.code, message, OPAQUE.has(error.code) ? { ref } : { ...error.details, ref });
}

/**
 * The request body as JSON, its nesting bounded before it is parsed, and integers beyond 2^53 kept exact as
 * decimal strings (a uint64 `destination_dseq` sent as a JSON number; see parseJsonExact).
 */
async function jsonBody(c: Context): Promise<Result<unknown>> {
  return parseJsonExact(await c.req.text(), 'the request body');
}

/**
 * The body of a GET (Akash's `GET /validate` carries one), read from Node's request: the web Request the app
 * sees has none for a GET. At most `max` bytes.
 */
async function getBody(c: Context, max: number): Promise<Result<string>> {
  const request = incoming(c);
  if (request === undefined) return ok('');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max)
      return fail(appError('PAYLOAD_TOO_LARGE', `the request body is larger than ${max} bytes`));
    chunks.push(chunk);
  }
  return ok(Buffer.concat(chunks).toString('utf8'));
}

/** Builds the daemon's app; serve it with `@hono/node-server`, or call `app.request()` in tests. */
export function createProviderApp(deps: ProviderAppDeps): Hono {
  const { metrics, readiness, verifier } = deps;
  const app = new Hono();

  const reply = (c: Context, error: AppError): Response => {
    metrics.errors.inc({ code: error.code });
    return errorResponse(c, publicError(c, error, deps.logger));
  };
  const json = (c: Context, body: unknown): Response => c.json(body as object);

  /** The ready service, or the 503 to send. */
  const ready = (c: Context): ProviderService | Response => {
    const service = readiness.ready ? deps.service() : undefined;
    return (
      service ??
      reply(
        c,
        appError('NOT_READY', readiness.reason ?? 'the provider is rebuilding its state; retry shortly'),
      )
    );
  };

  /** A JWT, or (mTLS) the client certificate of the connection; both at once is ambiguous, as in Akash's gateway. */
  const authenticate = async (c: Context): Promise<Result<JwtClaims>> => {
    const header = c.req.header('authorization');
    const peer = peerCertificateOf(incoming(c)?.socket);
    if (peer === undefined) return verifier.verify(header);
    if (header !== undefined) {
      return fail(
        appError('UNAUTHENTICATED', 'send either a client certificate or an Authorization header, not both', {
          reason: 'ambiguous',
        }),
      );
    }
    return (
      deps.clientCertificates?.verify(peer) ??
      fail(
        appError('UNAUTHENTICATED', 'this provider does not accept client certificates', {
          reason: 'mtls-disabled',
        }),
      )
    );
  };

  /** The caller's verified claims; a source whose tokens keep failing waits first, before any lookup is paid for. */
  const tenant = async (c: Context): Promise<JwtClaims | Response> => {
    const limiter = deps.authFailures;
    const source = peerAddress(c) ?? 'unknown';
    const wait = limiter?.retryAfterSeconds(source) ?? 0;
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return reply(
        c,
        appError('RATE_LIMITED', `too many failed authentications from ${source}; retry in ${wait} s`, {
          retryAfterSeconds: wait,
        }),
      );
    }
    const claims = await authenticate(c);
    if (claims.ok) return claims.value;
    if (httpStatus(claims.error.code) === 401) limiter?.failed(source);
    return reply(c, claims.error);
  };

  const internal = (c: Context): Response | undefined => {
    const token = deps.adminToken;
    if (token !== undefined) {
      const given = Buffer.from(c.req.header('authorization') ?? '');
      const wanted = Buffer.from(`Bearer ${token}`);
      if (given.length === wanted.length && timingSafeEqual(given, wanted)) return undefined;
    }
    const peer = peerAddress(c);
    if (peer !== undefined && LOOPBACK.test(peer)) return undefined;
    return reply(
      c,
      appError(
        'FORBIDDEN',
        'this route is provider-internal: call it from the provider host or with the admin token',
      ),
    );
  };

  /** A route for any caller, once the state is rebuilt. */
  const whenReady =
    <R extends Response | Promise<Response>>(handle: (c: Context, service: ProviderService) => R) =>
    (c: Context): Response | R => {
      const service = ready(c);
      return service instanceof Response ? service : handle(c, service);
    };

  /** An internal route (see the module comment), once the state is rebuilt. */
  const asInternal =
    <R extends Response | Promise<Response>>(handle: (c: Context, service: ProviderService) => R) =>
    (c: Context): Response | R =>
      internal(c) ?? whenReady(handle)(c);

  /** A tenant route: the service must be ready and the caller's JWT valid before `handle` runs. */
  const asTenant =
    (handle: (c: Context, service: ProviderService, claims: JwtClaims) => Response | Promise<Response>) =>
    async (c: Context): Promise<Response> => {
      const service = ready(c);
      if (service instanceof Response) return service;
      const claims = await tenant(c);
      if (claims instanceof Response) return claims;
      return handle(c, service, claims);
    };

  /** A service result as the JSON reply, or its error. */
  const answer = (c: Context, result: Result<unknown>): Response =>
    result.ok ? json(c, result.value) : reply(c, result.error);

  const leaseAt = (c: Context) =>
    parseLeasePath(c.req.param('dseq') ?? '', c.req.param('gseq') ?? '', c.req.param('oseq') ?? '');

  /** The `:owner/:dseq/:gseq/:oseq` of an internal route; a malformed one is a lease that does not exist. */
  const ownedLeaseAt = (c: Context) => {
    const owner = c.req.param('owner') ?? '';
    const at = leaseAt(c);
    if (!isAddress(owner) || !at.ok) {
      const path = `${owner}/${c.req.param('dseq')}/${c.req.param('gseq')}/${c.req.param('oseq')}`;
      return fail(appError('NOT_FOUND', `no lease ${path}`));
    }
    return ok({ owner, at: at.value });
  };

  app.use('*', async (c, next) => {
    const start = process.hrtime.bigint();
    await readiness.track(next);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    metrics.requests.observe(
      { method: c.req.method, route: routePath(c, -1), status: c.res.status },
      seconds,
    );
  });
  // only where a body is expected: the check materialises the full web Request, which GETs never need
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    '*',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: (c) =>
        reply(c, appError('PAYLOAD_TOO_LARGE', `the request body is larger than ${deps.maxBodyBytes} bytes`)),
    }),
  );
  app.onError((error, c) => {
    const request = incoming(c);
    const cutShort = CUT_SHORT.has(String((error as NodeJS.ErrnoException).code));
    if (cutShort && request !== undefined && (request.aborted || request.socket?.destroyed === true)) {
      // not a failure of ours: the client went away, or the server gave up reading (counted there, see server.ts)
      if (timedOut(request.socket)) return errorResponse(c, REQUEST_TIMED_OUT);
      deps.logger?.log('info', 'client closed the connection before the request was read', {
        method: c.req.method,
        path: c.req.path,
      });
      return reply(c, appError('CLIENT_CLOSED', 'the client closed the connection'));
    }
    return reply(
      c,
      withCause(appError('INTERNAL', 'the provider failed on this request'), error.stack ?? error),
    );
  });
  app.notFound((c) => reply(c, appError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));

  app.get('/healthz', (c) => c.text('OK'));
  app.get('/readyz', (c) =>
    readiness.ready && deps.service() !== undefined
      ? c.text('OK')
      : reply(c, appError('NOT_READY', readiness.reason ?? 'the provider is rebuilding its state')),
  );
  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );

  app.get(
    '/lease/:dseq/:gseq/:oseq/status',
    asTenant(async (c, service, claims) => {
      const at = leaseAt(c);
      if (!at.ok) return reply(c, at.error);
      const status = service.leaseStatus(claims, at.value);
      if (!status.ok) return reply(c, status.error);
      const webhook = deps.webhook?.();
      if (webhook === undefined) return c.body(status.value, 200, JSON_TYPE);
      const id = service.leaseIdOf(claims, at.value);
      if (!id.ok) return reply(c, id.error);
      return c.body(withIpEnv(status.value, await webhook.pods(id.value)), 200, JSON_TYPE);
    }),
  );

  app.get(
    '/lease/:dseq/:gseq/:oseq/ip-details',
    asTenant(async (c, service, claims) => {
      const at = leaseAt(c);
      return at.ok ? answer(c, await service.leaseDetails(claims, at.value)) : reply(c, at.error);
    }),
  );

  app.get(
    '/lease/:dseq/:gseq/:oseq/manifest',
    asTenant((c, service, claims) => {
      const at = leaseAt(c);
      return at.ok ? answer(c, service.manifest(claims, at.value)) : reply(c, at.error);
    }),
  );

  app.get(
    '/lease/:dseq/:gseq/:oseq/service/:name/status',
    asTenant((c, service, claims) => {
      const at = leaseAt(c);
      if (!at.ok) return reply(c, at.error);
      return answer(c, service.serviceStatus(claims, at.value, c.req.param('name') ?? ''));
    }),
  );

  app.get('/version', (c) => json(c, versionInfo()));

  const screen = deps.screen;
  if (screen !== undefined) {
    app.get(
      '/validate',
      asTenant(async (c, service, claims) => {
        const text = await getBody(c, deps.maxBodyBytes);
        if (!text.ok) return reply(c, text.error);
        const body = parseJsonExact(text.value, 'the request body');
        if (!body.ok) return reply(c, body.error);
        const spec = parseWith(groupSpecSchema, body.value, 'the group spec');
        if (!spec.ok) return reply(c, spec.error);
        return json(c, screen(spec.value, claims.iss, service));
      }),
    );
  }

  app.put(
    '/deployment/:dseq/manifest',
    asTenant(async (c, service, claims) => {
      const body = await jsonBody(c);
      if (!body.ok) return reply(c, body.error);
      return answer(c, await service.sendManifest(claims, c.req.param('dseq') ?? '', body.value));
    }),
  );

  app.delete(
    '/lease/:dseq/:gseq/:oseq',
    asTenant(async (c, service, claims) => {
      const at = leaseAt(c);
      return at.ok ? answer(c, await service.closeLease(claims, at.value)) : reply(c, at.error);
    }),
  );

  app.post(
    '/endpoint/migrate',
    asTenant(async (c, service, claims) => {
      const body = await jsonBody(c);
      if (!body.ok) {
        const error = body.error;
        return reply(
          c,
          error.code === 'INVALID_INPUT' ? appError('MIGRATION_INVALID', error.message) : error,
        );
      }
      return answer(c, await service.migrate(claims, body.value));
    }),
  );

  app.get(
    '/leases',
    asTenant((c, service, claims) => answer(c, service.ownerLeases(claims))),
  );

  app.get(
    '/status',
    whenReady((c, service) => {
      const cluster = deps.cluster?.();
      return json(c, {
        ...(service.providerStatus() as object),
        ...(cluster === undefined ? {} : { kubernetes: cluster.summary() }),
      });
    }),
  );
  app.get(
    '/health',
    whenReady((c) => c.text('OK')),
  );
  app.get(
    '/usage',
    whenReady((c, service) => c.body(service.usageJson(), 200, JSON_TYPE)),
  );

  app.get(
    '/ip-lease-status/:owner/:dseq/:gseq/:oseq',
    asInternal((c, service) => {
      const lease = ownedLeaseAt(c);
      if (!lease.ok) return reply(c, lease.error);
      const { owner, at } = lease.value;
      const entries = service.ipLeaseStatus(owner, at);
      return entries.length === 0 ? c.body(null, 204) : json(c, entries);
    }),
  );

  app.get(
    '/bid-decisions',
    asInternal((c) => json(c, deps.bidDecisions?.() ?? [])),
  );

  app.get(
    '/ip-audit',
    asInternal(async (c, service) => {
      const text = c.req.query('limit') ?? '200';
      const limit = /^[0-9]{1,4}$/.test(text) ? Number(text) : 0;
      if (limit < 1 || limit > 1000) {
        return reply(c, appError('INVALID_INPUT', `limit "${text}" is not between 1 and 1000`));
      }
      return answer(c, await service.recentAudit(limit));
    }),
  );

  app.get(
    '/k8s/lease/:owner/:dseq/:gseq/:oseq',
    asInternal(async (c, service) => {
      const lease = ownedLeaseAt(c);
      if (!lease.ok) return reply(c, lease.error);
      const { owner, at } = lease.value;
      const cluster = deps.cluster?.();
      if (cluster === undefined) {
        return reply(c, appError('NOT_FOUND', 'this provider has no Kubernetes backend configured'));
      }
      return answer(c, await cluster.lease({ owner, ...at, provider: service.provider }));
    }),
  );

  app.post(
    '/k8s/reconcile',
    asInternal(async (c) => {
      const cluster = deps.cluster?.();
      if (cluster === undefined) {
        return reply(c, appError('NOT_FOUND', 'this provider has no Kubernetes backend configured'));
      }
      return answer(c, await cluster.checkDrift());
    }),
  );

  const registry = deps.registry;
  if (registry !== undefined) {
    app.post(
      '/leases',
      asInternal(async (c, service) => {
        const body = await jsonBody(c);
        if (!body.ok) return reply(c, body.error);
        const parsed = registrationSchema.safeParse(body.value);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return reply(
            c,
            appError(
              'INVALID_INPUT',
              `invalid lease registration at ${issue?.path.join('.') || 'body'}: ${issue?.message}`,
            ),
          );
        }
        const { owner, dseq, gseq, oseq, hash, group } = parsed.data;
        const id: LeaseId = { owner, dseq, gseq, oseq, provider: service.provider };
        registry.register({ id, hash, spec: group });
        return json(c, { id });
      }),
    );
  }

  return app;
}
