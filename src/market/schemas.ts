/**
 * The ledger's JSON at the boundary: zod schemas for what the HTTP API accepts and what the client
 * accepts back. Parsed values are deep-frozen domain objects.
 */
import { z } from 'zod';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { deepFreeze } from '../frozen/index.js';
import { isAddress } from '../identity/index.js';
import type {
  Account,
  Bid,
  Certificate,
  Deployment,
  GroupSpec,
  Lease,
  LedgerStatus,
  MarketEvent,
  Order,
  Provider,
} from './types.js';

const uint32 = z.int().min(0).max(0xffff_ffff);
const seq = z.int().min(1).max(0xffff_ffff);
const height = z.int().min(0);
const addressSchema = z
  .string()
  .max(128)
  .refine((text) => isAddress(text), 'must be an akash1 address');
const dseqSchema = z.string().refine(isDseq, DSEQ_RULE);
const amountText = z.string().max(64);

const attributeSchema = z.object({ key: z.string().max(256), value: z.string().max(1024) }).strict();
const attributes = z.array(attributeSchema).max(256);
const coinSchema = z.object({ denom: z.string().max(128), amount: amountText }).strict();
const decCoinSchema = coinSchema;

const resourceValue = z.object({ val: z.string().regex(/^[0-9]{1,40}$/) }).strict();
const endpoint = z
  .object({ kind: z.union([z.literal(1), z.literal(2)]).exactOptional(), sequence_number: uint32 })
  .strict();

/** A GroupSpec exactly as the SDL engine emits it (Go `encoding/json` of deployment v1beta4). */
export const groupSpecSchema = z
  .object({
    name: z.string().max(256),
    requirements: z
      .object({
        signed_by: z
          .object({
            all_of: z.array(z.string().max(128)).max(64).nullable(),
            any_of: z.array(z.string().max(128)).max(64).nullable(),
          })
          .strict(),
        attributes: attributes.nullable(),
      })
      .strict(),
    resources: z
      .array(
        z
          .object({
            resource: z
              .object({
                id: uint32,
                cpu: z.object({ units: resourceValue, attributes: attributes.exactOptional() }).strict(),
                memory: z.object({ size: resourceValue, attributes: attributes.exactOptional() }).strict(),
                storage: z
                  .array(
                    z
                      .object({
                        name: z.string().max(128),
                        size: resourceValue,
                        attributes: attributes.exactOptional(),
                      })
                      .strict(),
                  )
                  .max(64),
                gpu: z.object({ units: resourceValue, attributes: attributes.exactOptional() }).strict(),
                endpoints: z.array(endpoint).max(4096),
              })
              .strict(),
            count: z.int().min(0).max(0xffff_ffff),
            price: decCoinSchema,
          })
          .strict(),
      )
      .max(256),
  })
  .strict() satisfies z.ZodType<GroupSpec>;

export const deploymentIdSchema = z.object({ owner: addressSchema, dseq: dseqSchema }).strict();
export const orderIdSchema = deploymentIdSchema.extend({ gseq: seq, oseq: seq }).strict();
export const bidIdSchema = orderIdSchema.extend({ provider: addressSchema }).strict();

// ---- requests -----------------------------------------------------------------------------------

export const fundAccountSchema = z
  .object({ address: z.string().max(128), amount: coinSchema, pubkey: z.string().max(128).exactOptional() })
  .strict();
export const advanceSchema = z.object({ count: z.int().min(1).exactOptional() }).strict();
export const createDeploymentSchema = z
  .object({
    owner: addressSchema,
    groups: z.array(groupSpecSchema).min(1).max(64),
    hash: z.string().max(128),
    deposit: coinSchema,
    dseq: dseqSchema.exactOptional(),
  })
  .strict();
export const updateDeploymentSchema = z.object({ hash: z.string().max(128) }).strict();
export const depositSchema = z.object({ amount: coinSchema }).strict();
export const registerProviderSchema = z
  .object({ address: addressSchema, hostUri: z.string().max(512), attributes })
  .strict();
export const createBidSchema = z
  .object({ order: orderIdSchema, provider: addressSchema, price: decCoinSchema })
  .strict();
export const createLeaseSchema = z.object({ bid: bidIdSchema }).strict();
export const closeLeaseSchema = z.object({ actor: addressSchema }).strict();
export const emptySchema = z.object({}).strict();
const pemText = z.string().max(16_384);
export const createCertificateSchema = z
  .object({ owner: addressSchema, cert: pemText, pubkey: pemText })
  .strict();
export const certificateIdSchema = z
  .object({
    owner: addressSchema,
    serial: z.string().regex(/^[1-9][0-9]{0,48}$/, 'must be a decimal serial'),
  })
  .strict();
export const closeBidSchema = z.object({ ifOpen: z.boolean().exactOptional() }).strict();

const deploymentState = z.enum(['active', 'closed']);
const orderState = z.enum(['open', 'active', 'closed']);
const bidState = z.enum(['open', 'active', 'lost', 'closed']);
const leaseState = z.enum(['active', 'closed']);
const querySeq = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/)
  .transform(Number)
  .pipe(seq);

export const deploymentQuerySchema = z
  .object({ owner: z.string().exactOptional(), state: deploymentState.exactOptional() })
  .strict();
export const orderQuerySchema = z
  .object({
    owner: z.string().exactOptional(),
    dseq: dseqSchema.exactOptional(),
    state: orderState.exactOptional(),
  })
  .strict();
export const bidQuerySchema = z
  .object({
    owner: z.string().exactOptional(),
    dseq: dseqSchema.exactOptional(),
    gseq: querySeq.exactOptional(),
    oseq: querySeq.exactOptional(),
    provider: z.string().exactOptional(),
    state: bidState.exactOptional(),
  })
  .strict();
export const leaseQuerySchema = z
  .object({
    owner: z.string().exactOptional(),
    dseq: dseqSchema.exactOptional(),
    provider: z.string().exactOptional(),
    state: leaseState.exactOptional(),
  })
  .strict();
export const certificateQuerySchema = z
  .object({
    owner: z.string().exactOptional(),
    serial: z.string().exactOptional(),
    state: z.enum(['valid', 'revoked']).exactOptional(),
  })
  .strict();
export const eventsQuerySchema = z
  .object({
    after: z
      .string()
      .regex(/^[0-9]{1,15}$/)
      .transform(Number)
      .exactOptional(),
    limit: z
      .string()
      .regex(/^[0-9]{1,4}$/)
      .transform(Number)
      .exactOptional(),
  })
  .strict();

// ---- responses ----------------------------------------------------------------------------------

export const statusSchema = z
  .object({ height, lastEventId: height })
  .strict() satisfies z.ZodType<LedgerStatus>;
export const accountSchema = z
  .object({ address: z.string(), pubkey: z.string().nullable(), balance: amountText })
  .strict() satisfies z.ZodType<Account>;
export const providerSchema = z
  .object({ address: z.string(), hostUri: z.string(), attributes, createdHeight: height })
  .strict() satisfies z.ZodType<Provider>;
export const deploymentSchema = z
  .object({
    id: deploymentIdSchema,
    state: deploymentState,
    hash: z.string(),
    groups: z.array(z.object({ gseq: seq, state: orderState, spec: groupSpecSchema }).strict()),
    escrow: z
      .object({ balance: amountText, deposited: amountText, transferred: amountText, settledHeight: height })
      .strict(),
    createdHeight: height,
    closedHeight: height.nullable(),
    closedReason: z.enum(['owner', 'insufficient_funds']).nullable(),
  })
  .strict() satisfies z.ZodType<Deployment>;
export const orderSchema = z
  .object({ id: orderIdSchema, state: orderState, spec: groupSpecSchema, createdHeight: height })
  .strict() satisfies z.ZodType<Order>;
export const createdDeploymentSchema = z
  .object({ deployment: deploymentSchema, orders: z.array(orderSchema) })
  .strict() satisfies z.ZodType<{ readonly deployment: Deployment; readonly orders: readonly Order[] }>;
export const bidSchema = z
  .object({
    id: bidIdSchema,
    state: bidState,
    price: decCoinSchema,
    createdHeight: height,
    createdAt: z.number(),
  })
  .strict() satisfies z.ZodType<Bid>;
const leaseReason = z.enum(['owner', 'provider', 'deployment_closed', 'insufficient_funds']);
export const leaseSchema = z
  .object({
    id: bidIdSchema,
    state: leaseState,
    price: decCoinSchema,
    paid: amountText,
    createdHeight: height,
    closedHeight: height.nullable(),
    closedReason: leaseReason.nullable(),
  })
  .strict() satisfies z.ZodType<Lease>;

export const certificateSchema = z
  .object({
    owner: addressSchema,
    serial: z.string(),
    state: z.enum(['valid', 'revoked']),
    cert: z.string(),
    pubkey: z.string(),
    createdHeight: height,
  })
  .strict() satisfies z.ZodType<Certificate>;

const meta = { id: z.int().min(1), height, time: z.number() };
export const eventSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...meta,
      type: z.literal('DeploymentCreated'),
      deployment: deploymentIdSchema,
      hash: z.string(),
    })
    .strict(),
  z
    .object({
      ...meta,
      type: z.literal('DeploymentUpdated'),
      deployment: deploymentIdSchema,
      hash: z.string(),
    })
    .strict(),
  z
    .object({
      ...meta,
      type: z.literal('DeploymentClosed'),
      deployment: deploymentIdSchema,
      reason: z.enum(['owner', 'insufficient_funds']),
    })
    .strict(),
  z
    .object({
      ...meta,
      type: z.literal('EscrowDeposited'),
      deployment: deploymentIdSchema,
      amount: coinSchema,
    })
    .strict(),
  z.object({ ...meta, type: z.literal('OrderCreated'), order: orderIdSchema }).strict(),
  z.object({ ...meta, type: z.literal('OrderClosed'), order: orderIdSchema }).strict(),
  z.object({ ...meta, type: z.literal('BidCreated'), bid: bidIdSchema, price: decCoinSchema }).strict(),
  z.object({ ...meta, type: z.literal('BidClosed'), bid: bidIdSchema }).strict(),
  z.object({ ...meta, type: z.literal('LeaseCreated'), lease: bidIdSchema, price: decCoinSchema }).strict(),
  z.object({ ...meta, type: z.literal('LeaseClosed'), lease: bidIdSchema, reason: leaseReason }).strict(),
  z.object({ ...meta, type: z.literal('ProviderRegistered'), provider: z.string() }).strict(),
  z.object({ ...meta, type: z.literal('ProviderUpdated'), provider: z.string() }).strict(),
]) satisfies z.ZodType<MarketEvent>;

/** Parses untrusted JSON with `schema` into a deep-frozen value, or INVALID_INPUT naming the first problem. */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, what: string): Result<T, AppError> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    return fail(appError('INVALID_INPUT', `${what}${where}: ${issue?.message ?? 'invalid'}`));
  }
  return ok(deepFreeze(parsed.data));
}
