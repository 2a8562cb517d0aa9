/**
 * Lease and order identities and the string keys derived from them. Keys use Go's
 * `LeaseID.String()` form so logs and stored rows read the same as the provider's.
 */

import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import { appError, fail, ok, type Result } from '../errors/index.js';
import type { LeaseId, OrderId } from './types.js';

// bech32 is lower-case alphanumeric; refusing anything else keeps '/' and '#' free as key separators.
const ADDRESS = /^[a-z0-9]{1,128}$/;
const UINT32_MAX = 4294967295;
/** Akash's endpoint-name rule (chain-sdk `sdl/v2.go`). */
const ENDPOINT_NAME = /^[a-z]+[a-z0-9_-]+$/;

/** `owner/dseq/gseq/oseq/provider`. */
export function leaseKey(id: LeaseId): string {
  return `${id.owner}/${id.dseq}/${id.gseq}/${id.oseq}/${id.provider}`;
}

/** `owner/dseq/gseq/oseq`: the reservation key of a bid and of the lease it becomes. */
export function orderKey(id: OrderId): string {
  return `${id.owner}/${id.dseq}/${id.gseq}/${id.oseq}`;
}

/**
 * `dseq/gseq/oseq`: an order, or the lease made from it, among its owner's, as the gateway's routes
 * (`/lease/{dseq}/{gseq}/{oseq}/…`) and our messages to its owner name it.
 */
export function orderPath(id: Pick<OrderId, 'dseq' | 'gseq' | 'oseq'>): string {
  return `${id.dseq}/${id.gseq}/${id.oseq}`;
}

/** The IPAM sharing key of one endpoint of one lease. */
export function endpointKey(lease: string, endpoint: string): string {
  return `${lease}#${endpoint}`;
}

/** Endpoint names are unique per owner on a provider (Go's sharing key is owner + name). */
export function nameKey(owner: string, endpoint: string): string {
  return `${owner}/${endpoint}`;
}

function checkOrder(id: OrderId): string | undefined {
  if (!ADDRESS.test(id.owner)) return `owner "${id.owner}" is not a bech32 address`;
  if (!isDseq(id.dseq)) {
    return `dseq "${id.dseq}" ${DSEQ_RULE}`;
  }
  for (const [name, value] of [
    ['gseq', id.gseq],
    ['oseq', id.oseq],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > UINT32_MAX)
      return `${name} ${value} is not a uint32 above 0`;
  }
  return undefined;
}

/** Checks an order ID's fields; the returned object is a frozen copy with no extra fields. */
export function parseOrderId(id: OrderId): Result<OrderId> {
  const problem = checkOrder(id);
  if (problem !== undefined) return fail(appError('INVALID_INPUT', `invalid order: ${problem}`));
  return ok(Object.freeze({ owner: id.owner, dseq: id.dseq, gseq: id.gseq, oseq: id.oseq }));
}

/** Checks a lease ID's fields and that it names this provider. */
export function parseLeaseId(id: LeaseId, provider: string): Result<LeaseId> {
  const problem =
    checkOrder(id) ??
    (ADDRESS.test(id.provider) ? undefined : `provider "${id.provider}" is not a bech32 address`);
  if (problem !== undefined) return fail(appError('INVALID_INPUT', `invalid lease: ${problem}`));
  if (id.provider !== provider) {
    return fail(
      appError(
        'INVALID_INPUT',
        `lease ${leaseKey(id)} is for provider ${id.provider}, this provider is ${provider}`,
      ),
    );
  }
  return ok(
    Object.freeze({ owner: id.owner, dseq: id.dseq, gseq: id.gseq, oseq: id.oseq, provider: id.provider }),
  );
}

/** True for a valid Akash IP endpoint name. */
export function isEndpointName(name: string): boolean {
  return ENDPOINT_NAME.test(name);
}

/** True for a bech32-looking account address. */
export function isAccountAddress(address: string): boolean {
  return ADDRESS.test(address);
}
