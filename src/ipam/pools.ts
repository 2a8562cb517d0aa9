/**
 * Pool specs → validated pool plans: the assignable addresses of each named pool, per family.
 * Mirrors MetalLB's `IPAddressPool` (CIDRs and ranges, autoAssign, avoidBuggyIPs, no overlaps within
 * or between pools), plus exclusions.
 */
import { appError, fail, ok, type Result } from '../errors/index.js';
import { type AddressBlock, parseBlock } from './address.js';
import {
  EMPTY,
  type Interval,
  type IntervalSet,
  intersect,
  normalize,
  size,
  subtract,
} from './interval-set.js';
import type { Family, IpamError, PoolSpec } from './types.js';

/** A validated pool: what may be handed out, per family. */
export interface PoolPlan {
  readonly name: string;
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  /** Declared blocks, minus exclusions, minus .0/.255 when avoidBuggyIPs. */
  readonly v4: IntervalSet;
  readonly v6: IntervalSet;
  /** The blocks as declared, for overlap reports. */
  readonly blocks: readonly AddressBlock[];
}

/** IPv4 /24 blocks an avoidBuggyIPs pool may span: expanding more would cost memory for no real pool. */
const MAX_BUGGY_BLOCKS = 65536n;

function blocksOf(family: Family, blocks: readonly AddressBlock[]): IntervalSet {
  return normalize(blocks.filter((b) => b.family === family));
}

/** Removes every x.x.x.0 and x.x.x.255 (MetalLB's "buggy" addresses that old CPE firmware drops). */
function withoutBuggy(set: IntervalSet): IntervalSet | undefined {
  let blocks = 0n;
  for (const { start, end } of set) blocks += (end >> 8n) - (start >> 8n) + 1n;
  if (blocks > MAX_BUGGY_BLOCKS) return undefined;
  const out: Interval[] = [];
  for (const { start, end } of set) {
    for (let block = start >> 8n; block <= end >> 8n; block++) {
      const first = block << 8n;
      const lo = start > first + 1n ? start : first + 1n;
      const hi = end < first + 254n ? end : first + 254n;
      if (lo <= hi) out.push({ start: lo, end: hi });
    }
  }
  return out;
}

function invalidPool(name: string, why: string, details?: Record<string, unknown>) {
  return fail(appError('INVALID_ADDRESS', `pool "${name}": ${why}`, { pool: name, ...details }));
}

/**
 * Validates one pool spec. Codes: INVALID_ADDRESS (bad text, empty pool, bad name), NOT_IN_POOL (an
 * exclusion outside the pool's addresses), POOL_OVERLAP (two blocks of the pool overlap).
 */
export function parsePoolSpec(spec: PoolSpec): Result<PoolPlan, IpamError> {
  const { name } = spec;
  if (name.length === 0 || name.length > 253 || /\s/.test(name)) {
    return invalidPool(name, 'a pool name is 1-253 characters without spaces');
  }
  if (spec.addresses.length === 0) return invalidPool(name, 'a pool needs at least one CIDR or range');
  const blocks: AddressBlock[] = [];
  for (const text of spec.addresses) {
    const block = parseBlock(text);
    if (!block.ok) return invalidPool(name, block.error.message, { address: text });
    blocks.push(block.value);
  }
  const overlap = findOverlap(blocks.map((block) => ({ pool: name, block })));
  if (overlap !== undefined) return overlap;
  const avoidBuggyIPs = spec.avoidBuggyIPs ?? false;
  const usable: Record<Family, IntervalSet> = { v4: EMPTY, v6: EMPTY };
  for (const family of ['v4', 'v6'] as const) {
    const declared = blocksOf(family, blocks);
    const excludes: AddressBlock[] = [];
    for (const text of spec.exclude ?? []) {
      const block = parseBlock(text);
      if (!block.ok) return invalidPool(name, block.error.message, { address: text });
      if (block.value.family !== family) continue;
      const excluded = normalize([block.value]);
      if (size(intersect(excluded, declared)) !== size(excluded)) {
        return fail(
          appError('NOT_IN_POOL', `pool "${name}": exclusion "${text}" is not inside the pool's addresses`, {
            pool: name,
            address: text,
          }),
        );
      }
      excludes.push(block.value);
    }
    let set = subtract(declared, normalize(excludes));
    if (family === 'v4' && avoidBuggyIPs) {
      const trimmed = withoutBuggy(set);
      if (trimmed === undefined)
        return invalidPool(name, 'avoidBuggyIPs supports at most a /8 of IPv4 per pool');
      set = trimmed;
    }
    usable[family] = set;
  }
  return ok({
    name,
    autoAssign: spec.autoAssign ?? true,
    avoidBuggyIPs,
    v4: usable.v4,
    v6: usable.v6,
    blocks,
  });
}

interface Owned {
  readonly pool: string;
  readonly block: AddressBlock;
}

/** The first pair of overlapping blocks, as a POOL_OVERLAP error naming both. */
function findOverlap(owned: readonly Owned[]): { readonly ok: false; readonly error: IpamError } | undefined {
  for (const family of ['v4', 'v6'] as const) {
    const sorted = owned
      .filter((o) => o.block.family === family)
      .sort((a, b) => (a.block.start < b.block.start ? -1 : a.block.start > b.block.start ? 1 : 0));
    let widest: Owned | undefined;
    for (const next of sorted) {
      if (widest !== undefined && next.block.start <= widest.block.end) {
        return fail(
          appError(
            'POOL_OVERLAP',
            `pool "${next.pool}" range ${next.block.text} overlaps pool "${widest.pool}" range ${widest.block.text}`,
            {
              pool: next.pool,
              range: next.block.text,
              otherPool: widest.pool,
              otherRange: widest.block.text,
            },
          ),
        );
      }
      if (widest === undefined || next.block.end > widest.block.end) widest = next;
    }
  }
  return undefined;
}

/** Validates a whole pool set: each pool, unique names, no overlap between pools. */
export function parsePools(specs: readonly PoolSpec[]): Result<readonly PoolPlan[], IpamError> {
  const plans: PoolPlan[] = [];
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) {
      return fail(appError('POOL_OVERLAP', `pool "${spec.name}" is defined twice`, { pool: spec.name }));
    }
    names.add(spec.name);
    const plan = parsePoolSpec(spec);
    if (!plan.ok) return plan;
    plans.push(plan.value);
  }
  const overlap = findOverlap(plans.flatMap((p) => p.blocks.map((block) => ({ pool: p.name, block }))));
  return overlap ?? ok(plans);
}
