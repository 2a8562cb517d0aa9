/** Facts about a GroupSpec that the chain and the bid engine both need. */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { parseDec } from './dec.js';
import { DENOM, ENDPOINT_KIND, type GroupSpec } from './types.js';

/**
 * Leased IPs a group needs: the number of DISTINCT `LEASED_IP` sequence numbers over all its units.
 * An endpoint shared by several services, ports or replicas is one address (Go
 * `GetEndpointQuantityOfResourceGroup`).
 */
export function leasedIpCount(spec: GroupSpec): number {
  const sequences = new Set<number>();
  for (const unit of spec.resources) {
    for (const endpoint of unit.resource.endpoints) {
      if (endpoint.kind === ENDPOINT_KIND.LEASED_IP) sequences.add(endpoint.sequence_number);
    }
  }
  return sequences.size;
}

/** The most the owner will pay per block: Σ unit price × count (Go `GroupSpec.Price`), fixed-point uakt. */
export function groupMaxPrice(spec: GroupSpec): Result<bigint, AppError> {
  let total = 0n;
  for (const unit of spec.resources) {
    if (unit.price.denom !== DENOM) {
      return fail(
        appError('INVALID_INPUT', `group "${spec.name}" is priced in ${unit.price.denom}, not ${DENOM}`),
      );
    }
    const amount = parseDec(unit.price.amount);
    if (!amount.ok) return amount;
    total += amount.value * BigInt(unit.count);
  }
  return ok(total);
}

/** The chain's basic checks on a group (Go `GroupSpec.ValidateBasic`, minus resource limits). */
export function validateGroupSpec(spec: GroupSpec): Result<void, AppError> {
  if (spec.name === '') return fail(appError('INVALID_INPUT', 'a group needs a name'));
  if (spec.resources.length === 0) {
    return fail(appError('INVALID_INPUT', `group "${spec.name}" has no resources`));
  }
  const ids = new Set<number>();
  for (const unit of spec.resources) {
    if (!Number.isSafeInteger(unit.count) || unit.count < 1) {
      return fail(appError('INVALID_INPUT', `group "${spec.name}" has a resource count below 1`));
    }
    if (ids.has(unit.resource.id)) {
      return fail(appError('INVALID_INPUT', `group "${spec.name}" repeats resource id ${unit.resource.id}`));
    }
    ids.add(unit.resource.id);
  }
  const price = groupMaxPrice(spec);
  if (!price.ok) return price;
  if (price.value === 0n) return fail(appError('INVALID_INPUT', `group "${spec.name}" has a zero price`));
  return ok(undefined);
}
