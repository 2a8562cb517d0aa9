/**
 * IPAM: named address pools and the shared-IP allocator. Pure: no I/O, time is injected.
 * @module
 */
export {
  type AddressBlock,
  FAMILY_BITS,
  formatAddress,
  type ParsedAddress,
  parseAddress,
  parseBlock,
  parseCidr,
  parseRange,
} from './address.js';
export { createAllocator } from './allocator.js';
export {
  contains,
  EMPTY,
  firstAtOrAfter,
  fromCidr,
  fromRange,
  IndexedIntervals,
  type Interval,
  type IntervalSet,
  intersect,
  normalize,
  size,
  subtract,
  union,
} from './interval-set.js';
export { type PoolPlan, parsePoolSpec, parsePools } from './pools.js';
export type * from './types.js';
