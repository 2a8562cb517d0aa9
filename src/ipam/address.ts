/**
 * Strict IPv4/IPv6 text ⇄ bigint conversion.
 *
 * Only the unambiguous textual forms are accepted. The lenient forms that inet_aton and many
 * libraries still honour (`010.0.0.1` as octal, `10.1` as 10.0.0.1, `0x0a.0.0.1`) have produced
 * real access-control bypasses, so they are INVALID_ADDRESS here, as are IPv6 zone identifiers
 * (`fe80::1%eth0`: a zone names a local link and can never be a leased, routed address).
 */
import { appError, fail, ok, type Result } from '../errors/index.js';
import type { Family, IpamError } from './types.js';

/** A parsed address: its family and its value as an unsigned integer (32 or 128 bits). */
export interface ParsedAddress {
  readonly family: Family;
  readonly value: bigint;
}

/** An inclusive block of addresses of one family, as written in a pool (`a/len`, `a-b` or a single `a`). */
export interface AddressBlock {
  readonly family: Family;
  readonly start: bigint;
  readonly end: bigint;
  /** The text it was parsed from, kept for error messages. */
  readonly text: string;
}

/** Number of bits in an address of the family. */
export const FAMILY_BITS: Readonly<Record<Family, number>> = { v4: 32, v6: 128 };

const DOT = 46;
const COLON = 58;
const ZERO = 48;
const NINE = 57;

function invalid(text: string, why: string): { readonly ok: false; readonly error: IpamError } {
  return fail(appError('INVALID_ADDRESS', `invalid address "${text}": ${why}`, { address: text }));
}

/**
 * Reads four dotted decimal octets between `from` and `to` (exclusive) of `text`.
 * Returns the 32-bit value, or a reason string.
 */
function readIpv4(text: string, from: number, to: number): number | string {
  let value = 0;
  let parts = 0;
  let i = from;
  while (parts < 4) {
    const start = i;
    let octet = 0;
    while (i < to) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      octet = octet * 10 + (c - ZERO);
      i++;
    }
    const digits = i - start;
    if (digits === 0) return 'each IPv4 part must be a decimal number';
    if (digits > 1 && text.charCodeAt(start) === ZERO)
      return 'leading zeros are ambiguous (octal) and not accepted';
    if (digits > 3 || octet > 255) return 'IPv4 parts must be 0-255';
    value = value * 256 + octet;
    parts++;
    if (parts < 4) {
      if (i >= to || text.charCodeAt(i) !== DOT) return 'IPv4 needs exactly four dotted decimal parts';
      i++;
    }
  }
  if (i !== to) return 'IPv4 needs exactly four dotted decimal parts';
  return value;
}

function hexDigit(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Reads an IPv6 address into eight 16-bit groups, or returns a reason string. */
function readIpv6(text: string): number[] | string {
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let compressed = false;
  let i = 0;
  const n = text.length;
  if (text.startsWith('::')) {
    compressed = true;
    groups = tail;
    i = 2;
    if (n === 2) return [0, 0, 0, 0, 0, 0, 0, 0];
  } else if (text.charCodeAt(0) === COLON) {
    return 'a single leading ":" is not allowed';
  }
  while (i < n) {
    // An IPv4 tail is the last thing in the text and stands for two groups.
    const nextColon = text.indexOf(':', i);
    const fieldEnd = nextColon === -1 ? n : nextColon;
    if (nextColon === -1 && text.indexOf('.', i) !== -1) {
      const v4 = readIpv4(text, i, n);
      if (typeof v4 === 'string') return `embedded IPv4: ${v4}`;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = n;
      break;
    }
    const digits = fieldEnd - i;
    if (digits === 0) return 'empty group';
    if (digits > 4) return 'IPv6 groups have at most four hex digits';
    let group = 0;
    for (let j = i; j < fieldEnd; j++) {
      const d = hexDigit(text.charCodeAt(j));
      if (d < 0) return `unexpected character "${text[j]}"`;
      group = group * 16 + d;
    }
    groups.push(group);
    i = fieldEnd;
    if (i === n) break;
    // i is at a colon
    if (text.charCodeAt(i + 1) === COLON) {
      if (compressed) return '"::" may appear only once';
      compressed = true;
      groups = tail;
      i += 2;
      if (i === n) break;
      if (text.charCodeAt(i) === COLON) return 'unexpected ":::"';
    } else {
      i += 1;
      if (i === n) return 'a single trailing ":" is not allowed';
    }
  }
  const count = head.length + tail.length;
  if (compressed) {
    // RFC 4291 lets "::" stand for one or more zero groups, never zero groups.
    if (count > 7) return '"::" must stand for at least one zero group';
    return [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  }
  if (count !== 8) return 'IPv6 needs eight groups (or "::")';
  return head;
}

function groupsToBigint(g: readonly number[]): bigint {
  // 32-bit words keep every intermediate number below 2^53.
  const word = (i: number): bigint => BigInt(g[i]! * 65536 + g[i + 1]!);
  return (word(0) << 96n) | (word(2) << 64n) | (word(4) << 32n) | word(6);
}

/**
 * Parses one address in its strict textual form: four decimal octets without leading zeros for IPv4;
 * RFC 4291 text (1–4 hex digits per group, at most one `::`, optional dotted IPv4 tail) for IPv6.
 * No whitespace, no zone, no brackets.
 */
export function parseAddress(text: string): Result<ParsedAddress, IpamError> {
  if (text.length === 0) return invalid(text, 'empty');
  if (text.length > 45) return invalid(text, 'too long');
  if (text.includes('%')) return invalid(text, 'zone identifiers are not allowed');
  if (text.includes(':')) {
    const groups = readIpv6(text);
    if (typeof groups === 'string') return invalid(text, groups);
    return ok({ family: 'v6', value: groupsToBigint(groups) });
  }
  const v4 = readIpv4(text, 0, text.length);
  if (typeof v4 === 'string') return invalid(text, v4);
  return ok({ family: 'v4', value: BigInt(v4) });
}

/** The value of strict dotted-decimal IPv4 text, or -1 (a fast path for bulk loads; errors need {@link parseAddress}). */
export function parseIpv4Number(text: string): number {
  const value = readIpv4(text, 0, text.length);
  return typeof value === 'number' ? value : -1;
}

// Formatting picks prebuilt octet strings: no number-to-text conversion, and three joins instead of six.
const OCTETS = Array.from({ length: 256 }, (_, octet) => String(octet));
const DOTTED_OCTETS = OCTETS.map((octet) => `.${octet}`);

/** Dotted-decimal text of a 32-bit value given as a number. */
export function formatIpv4Number(value: number): string {
  return (
    OCTETS[value >>> 24]! +
    DOTTED_OCTETS[(value >>> 16) & 255]! +
    DOTTED_OCTETS[(value >>> 8) & 255]! +
    DOTTED_OCTETS[value & 255]!
  );
}

/** RFC 5952 text of eight 16-bit groups (mixed notation for IPv4-mapped `::ffff:0:0/96`, per its §5). */
export function formatIpv6Groups(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4Number(g[6]! * 65536 + g[7]!)}`;
  }
  // §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLen) out += ':';
    out += g[i]!.toString(16);
  }
  return out;
}

/** The eight 16-bit groups of a 128-bit value. */
export function ipv6Groups(value: bigint): number[] {
  const g: number[] = [];
  for (let shift = 96n; shift >= 0n; shift -= 32n) {
    const word = Number(BigInt.asUintN(32, value >> shift));
    g.push(Math.floor(word / 65536), word % 65536);
  }
  return g;
}

/** Canonical text: dotted decimal for IPv4, RFC 5952 for IPv6. */
export function formatAddress(family: Family, value: bigint): string {
  return family === 'v4' ? formatIpv4Number(Number(value)) : formatIpv6Groups(ipv6Groups(value));
}

function parsePrefixLength(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Parses `address/length`. Host bits must be zero: Go's `net.ParseCIDR`, which MetalLB uses, silently masks
 * `192.0.2.5/24` to `192.0.2.0/24`, but such text may equally mean the single host, so it is rejected
 * with the network address suggested.
 */
export function parseCidr(text: string): Result<AddressBlock, IpamError> {
  const slash = text.indexOf('/');
  if (slash < 0) return invalid(text, 'a CIDR needs "/length"');
  const address = parseAddress(text.slice(0, slash));
  if (!address.ok) return invalid(text, address.error.message);
  const { family, value } = address.value;
  const bits = FAMILY_BITS[family];
  const length = parsePrefixLength(text.slice(slash + 1));
  if (length === undefined || length > bits) return invalid(text, `prefix length must be 0-${bits}`);
  const hostBits = BigInt(bits - length);
  const hostMask = (1n << hostBits) - 1n;
  if ((value & hostMask) !== 0n) {
    const network = formatAddress(family, value & ~hostMask);
    return invalid(text, `host bits are set; did you mean ${network}/${length}?`);
  }
  return ok({ family, start: value, end: value | hostMask, text });
}

/** Parses `first-last` (inclusive; spaces around the dash are tolerated, as MetalLB does). */
export function parseRange(text: string): Result<AddressBlock, IpamError> {
  const dash = text.indexOf('-');
  if (dash < 0 || text.indexOf('-', dash + 1) >= 0) return invalid(text, 'a range is "first-last"');
  const first = parseAddress(text.slice(0, dash).trim());
  if (!first.ok) return invalid(text, first.error.message);
  const last = parseAddress(text.slice(dash + 1).trim());
  if (!last.ok) return invalid(text, last.error.message);
  if (first.value.family !== last.value.family) return invalid(text, 'both ends must be of one family');
  if (first.value.value > last.value.value) return invalid(text, 'the first address is after the last');
  return ok({ family: first.value.family, start: first.value.value, end: last.value.value, text });
}

/** Parses a CIDR, an `a-b` range, or a single address into one inclusive block. */
export function parseBlock(text: string): Result<AddressBlock, IpamError> {
  if (text.includes('/')) return parseCidr(text);
  if (text.includes('-')) return parseRange(text);
  const address = parseAddress(text);
  if (!address.ok) return address;
  const { family, value } = address.value;
  return ok({ family, start: value, end: value, text });
}
