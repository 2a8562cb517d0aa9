/**
 * The devnet ledger over HTTP (hono), for provider daemons and the CLI on 127.0.0.1.
 *
 * JSON in, JSON out; a failure is `{"error", "code"}` (plus `details` when there are any) with the
 * status from the error table. Writes that act for an account must be signed by it (see
 * ledger-auth.ts); the faucet and the block clock are admin calls, open unless an admin token is set.
 *
 * Routes (all under /v1):
 * - GET  status · GET events?after&limit · POST blocks {count?} (admin) · POST faucet {address, amount, pubkey?} (admin)
 * - GET  accounts/:address
 * - POST deployments {owner, groups, hash, deposit, dseq?} (owner) · GET deployments?owner&state
 * - GET  deployments/:owner/:dseq · POST deployments/:owner/:dseq/{update {hash} | deposit {amount} | close} (owner)
 * - POST providers {address, hostUri, attributes} (address) · GET providers · GET providers/:address
 * - GET  orders?owner&dseq&state · GET orders/:owner/:dseq/:gseq/:oseq
 * - POST bids {order, provider, price} (provider) · GET bids?owner&dseq&gseq&oseq&provider&state
 * - GET  bids/:owner/:dseq/:gseq/:oseq/:provider · POST bids/:owner/:dseq/:gseq/:oseq/:provider/close (provider)
 * - POST leases {bid} (owner) · GET leases?owner&dseq&provider&state
 * - GET  leases/:owner/:dseq/:gseq/:oseq/:provider · POST leases/:owner/:dseq/:gseq/:oseq/:provider/close {actor} (actor)
 * - POST certificates {owner, cert, pubkey} (owner) · GET certificates?owner&serial&state
 * - POST certificates/:owner/:serial/revoke (owner)
 *
 * And, read-only in the Akash REST API's shape (akash-rest.ts): GET /akash/deployment/v1beta4/deployments/info.
 */
import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { mountAkashRest } from './akash-rest.js';
import { errorResponse } from './http-error.js';
import { parseJsonText } from './json-text.js';
import type { Ledger } from './ledger.js';
import { ReplayGuard, verifyRequest } from './ledger-auth.js';
import {
  advanceSchema,
  bidIdSchema,
  bidQuerySchema,
  certificateIdSchema,
  certificateQuerySchema,
  closeBidSchema,
  closeLeaseSchema,
  createBidSchema,
  createCertificateSchema,
  createDeploymentSchema,
  createLeaseSchema,
  deploymentIdSchema,
  deploymentQuerySchema,
  depositSchema,
  emptySchema,
  eventsQuerySchema,
  fundAccountSchema,
  leaseQuerySchema,
  orderIdSchema,
  orderQuerySchema,
  parseWith,
  registerProviderSchema,
  updateDeploymentSchema,
} from './schemas.js';

export interface LedgerApiOptions {
  /**
   * How writes prove whom they act for. `signature` (default): signed request headers, checked against
   * the account's public key on record. `none`: trusted as stated (tests; a ledger behind another guard).
   */
  readonly auth?: 'signature' | 'none';
  /** When set, `POST /v1/faucet` and `POST /v1/blocks` need `Authorization: Bearer <adminToken>`. */
  readonly adminToken?: string;
  /** Milliseconds since the epoch, for signature timestamps. */
  readonly now?: () => number;
  /** Largest request body. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Largest clock difference a signed request may have. Default 60 s. */
  readonly maxSkewMs?: number;
  /** Told of a request that failed with a bug; the caller gets INTERNAL without the exception's text. */
  readonly onBug?: (error: Error) => void;
}

/** Default largest request body: 1 MiB, far above the biggest GroupSpec set. */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

function respond<T>(c: Context, result: Result<T, AppError>, status: ContentfulStatusCode = 200): Response {
  return result.ok ? c.json(result.value as object, status) : errorResponse(c, result.error);
}

/** Builds the ledger's hono app; serve it with `@hono/node-server` or call `app.request()` in-process. */
export function createLedgerApi(ledger: Ledger, options: LedgerApiOptions = {}): Hono {
  const now = options.now ?? Date.now;
  const replays = new ReplayGuard();
  const app = new Hono();

  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      onError: (c) => errorResponse(c, appError('PAYLOAD_TOO_LARGE', 'the request body is too large')),
    }),
  );
  app.onError((error, c) => {
    options.onBug?.(error);
    return errorResponse(c, appError('INTERNAL', 'the ledger failed on this request'));
  });
  app.notFound((c) => errorResponse(c, appError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));

  function checkAdmin(c: Context): Result<void, AppError> {
    if (options.adminToken === undefined) return ok(undefined);
    const given = Buffer.from(c.req.header('authorization') ?? '');
    const wanted = Buffer.from(`Bearer ${options.adminToken}`);
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) return ok(undefined);
    return fail(appError('UNAUTHENTICATED', 'this devnet call needs the admin token'));
  }

  /** A write: parse the body, check who signed it, run it. `actor` names the account acted for, or 'admin'. */
  async function write<T, R>(
    c: Context,
    schema: z.ZodType<T>,
    actor: ((input: T) => string) | 'admin',
    run: (input: T) => Result<R, AppError>,
    status: ContentfulStatusCode = 200,
  ): Promise<Response> {
    const text = await c.req.text();
    const json = text === '' ? ok({}) : parseJsonText(text, 'the request body');
    if (!json.ok) return errorResponse(c, json.error);
    const input = parseWith(schema, json.value, 'request body');
    if (!input.ok) return errorResponse(c, input.error);
    const allowed =
      actor === 'admin'
        ? checkAdmin(c)
        : options.auth === 'none'
          ? ok(undefined)
          : verifyRequest(
              {
                method: c.req.method,
                pathWithQuery: pathWithQuery(c),
                body: text,
                header: (name) => c.req.header(name),
              },
              actor(input.value),
              {
                now: now(),
                publicKeyOf: (address) => ledger.publicKeyOf(address),
                replays,
                ...(options.maxSkewMs === undefined ? {} : { maxSkewMs: options.maxSkewMs }),
              },
            );
    if (!allowed.ok) return errorResponse(c, allowed.error);
    return respond(c, run(input.value), status);
  }

  const deploymentId = (c: Context) =>
    parseWith(
      deploymentIdSchema,
      { owner: c.req.param('owner'), dseq: c.req.param('dseq') },
      'deployment id',
    );
  const orderPath = (c: Context) => ({
    owner: c.req.param('owner'),
    dseq: c.req.param('dseq'),
    gseq: pathNumber(c.req.param('gseq')),
    oseq: pathNumber(c.req.param('oseq')),
  });
  const orderId = (c: Context) => parseWith(orderIdSchema, orderPath(c), 'order id');
  const bidId = (c: Context) =>
    parseWith(bidIdSchema, { ...orderPath(c), provider: c.req.param('provider') }, 'bid id');
  /** A read or write addressed by a path id; a bad id answers INVALID_INPUT. */
  const withId =
    <I>(
      parse: (c: Context) => Result<I, AppError>,
      handle: (c: Context, id: I) => Response | Promise<Response>,
    ) =>
    (c: Context) => {
      const id = parse(c);
      return id.ok ? handle(c, id.value) : errorResponse(c, id.error);
    };
  const query =
    <Q>(schema: z.ZodType<Q>, handle: (filter: Q) => Result<unknown, AppError>) =>
    (c: Context) => {
      const filter = parseWith(schema, c.req.query(), 'query');
      return respond(c, filter.ok ? handle(filter.value) : filter);
    };

  const v1 = new Hono();

  v1.get('/status', (c) => respond(c, ledger.status()));
  v1.get(
    '/events',
    query(eventsQuerySchema, (q) => ledger.eventsSince(q.after ?? 0, q.limit ?? 100)),
  );
  v1.post('/blocks', (c) =>
    write(c, advanceSchema, 'admin', (input) => ledger.advanceBlocks(input.count ?? 1)),
  );
  v1.post('/faucet', (c) => write(c, fundAccountSchema, 'admin', (input) => ledger.fundAccount(input)));
  v1.get('/accounts/:address', (c) => respond(c, ledger.getAccount(c.req.param('address'))));

  v1.post('/deployments', (c) =>
    write(
      c,
      createDeploymentSchema,
      (input) => input.owner,
      (input) => ledger.createDeployment(input),
      201,
    ),
  );
  v1.get(
    '/deployments',
    query(deploymentQuerySchema, (filter) => ledger.listDeployments(filter)),
  );
  v1.get(
    '/deployments/:owner/:dseq',
    withId(deploymentId, (c, id) => respond(c, ledger.getDeployment(id))),
  );
  v1.post(
    '/deployments/:owner/:dseq/update',
    withId(deploymentId, (c, id) =>
      write(
        c,
        updateDeploymentSchema,
        () => id.owner,
        (input) => ledger.updateDeployment({ id, hash: input.hash }),
      ),
    ),
  );
  v1.post(
    '/deployments/:owner/:dseq/deposit',
    withId(deploymentId, (c, id) =>
      write(
        c,
        depositSchema,
        () => id.owner,
        (input) => ledger.depositDeployment({ id, amount: input.amount }),
      ),
    ),
  );
  v1.post(
    '/deployments/:owner/:dseq/close',
    withId(deploymentId, (c, id) =>
      write(
        c,
        emptySchema,
        () => id.owner,
        () => ledger.closeDeployment(id),
      ),
    ),
  );

  v1.post('/providers', (c) =>
    write(
      c,
      registerProviderSchema,
      (input) => input.address,
      (input) => ledger.registerProvider(input),
    ),
  );
  v1.get('/providers', (c) => respond(c, ledger.listProviders()));
  v1.get('/providers/:address', (c) => respond(c, ledger.getProvider(c.req.param('address'))));

  v1.get(
    '/orders',
    query(orderQuerySchema, (filter) => ledger.listOrders(filter)),
  );
  v1.get(
    '/orders/:owner/:dseq/:gseq/:oseq',
    withId(orderId, (c, id) => respond(c, ledger.getOrder(id))),
  );

  v1.post('/bids', (c) =>
    write(
      c,
      createBidSchema,
      (input) => input.provider,
      (input) => ledger.createBid(input),
      201,
    ),
  );
  v1.get(
    '/bids',
    query(bidQuerySchema, (filter) => ledger.listBids(filter)),
  );
  v1.get(
    '/bids/:owner/:dseq/:gseq/:oseq/:provider',
    withId(bidId, (c, id) => respond(c, ledger.getBid(id))),
  );
  v1.post(
    '/bids/:owner/:dseq/:gseq/:oseq/:provider/close',
    withId(bidId, (c, id) =>
      write(
        c,
        closeBidSchema,
        () => id.provider,
        (input) => ledger.closeBid(id, input),
      ),
    ),
  );

  v1.post('/leases', (c) =>
    write(
      c,
      createLeaseSchema,
      (input) => input.bid.owner,
      (input) => ledger.createLease(input.bid),
      201,
    ),
  );
  v1.get(
    '/leases',
    query(leaseQuerySchema, (filter) => ledger.listLeases(filter)),
  );
  v1.get(
    '/leases/:owner/:dseq/:gseq/:oseq/:provider',
    withId(bidId, (c, id) => respond(c, ledger.getLease(id))),
  );
  v1.post(
    '/leases/:owner/:dseq/:gseq/:oseq/:provider/close',
    withId(bidId, (c, id) =>
      write(
        c,
        closeLeaseSchema,
        (input) => input.actor,
        (input) => ledger.closeLease({ id, actor: input.actor }),
      ),
    ),
  );

  v1.post('/certificates', (c) =>
    write(
      c,
      createCertificateSchema,
      (input) => input.owner,
      (input) => ledger.createCertificate(input),
      201,
    ),
  );
  v1.get(
    '/certificates',
    query(certificateQuerySchema, (filter) => ledger.listCertificates(filter)),
  );
  v1.post(
    '/certificates/:owner/:serial/revoke',
    withId(
      (c) =>
        parseWith(
          certificateIdSchema,
          { owner: c.req.param('owner'), serial: c.req.param('serial') },
          'certificate id',
        ),
      (c, id) =>
        write(
          c,
          emptySchema,
          () => id.owner,
          () => ledger.revokeCertificate(id),
        ),
    ),
  );

  app.route('/v1', v1);
  mountAkashRest(app, ledger);
  return app;
}

/** The path and raw query exactly as received: what the client signed. */
function pathWithQuery(c: Context): string {
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/** A path segment that must be a decimal integer; anything else becomes NaN so the schema refuses it. */
function pathNumber(text: string | undefined): number {
  return text !== undefined && /^[0-9]{1,10}$/.test(text) ? Number(text) : Number.NaN;
}
