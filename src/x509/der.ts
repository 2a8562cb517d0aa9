/**
 * The few DER encodings an X.509 certificate needs (X.690): definite lengths, minimal integers, and
 * bit strings without trailing zero bits. Encoders only; parsing is left to node's `X509Certificate`.
 */

/** Universal tags used by certificates. */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function lengthOf(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(tag), lengthOf(content.length), content]);
}

export function sequence(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(items));
}

/** A SET OF holding one element (a relative distinguished name with one attribute). */
export function set(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.set, Buffer.concat(items));
}

/** A non-negative INTEGER, minimally encoded (a leading 0x00 only when the top bit would read as a sign). */
export function integer(value: bigint): Buffer {
  if (value < 0n) throw new RangeError('DER integers here are non-negative');
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.of(0), bytes]);
  return tlv(TAG.integer, bytes);
}

export function boolean(value: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.of(value ? 0xff : 0x00));
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined)
    throw new RangeError(`OID ${dotted} has fewer than two arcs`);
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let high = arc >> 7n; high > 0n; high >>= 7n) groups.unshift(Number(high & 0x7fn) | 0x80);
    bytes.push(...groups);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.octetString, bytes);
}

/** A BIT STRING of whole bytes (signatures, keys). */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.of(0), bytes]));
}

/**
 * A named-bit BIT STRING (keyUsage) from the numbers of its set bits, bit 0 being the first (most
 * significant) bit: DER drops trailing zero bits and says how many bits of the last byte are unused.
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(TAG.bitString, Buffer.of(0));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return tlv(TAG.bitString, Buffer.concat([Buffer.of(7 - (highest & 7)), bytes]));
}

/** `[n]` EXPLICIT: a constructed context tag around a whole encoding. */
export function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | n, inner);
}

/** `[n]` IMPLICIT over a primitive type: the context tag replaces the universal one. */
export function implicitPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content);
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/**
 * A certificate time as RFC 5280 §4.1.2.5 requires: UTCTime (`YYMMDDHHMMSSZ`) for 1950 through 2049,
 * GeneralizedTime (`YYYYMMDDHHMMSSZ`) otherwise; whole seconds, always UTC.
 */
export function time(at: Date): Buffer {
  const year = at.getUTCFullYear();
  const rest =
    pad(at.getUTCMonth() + 1) +
    pad(at.getUTCDate()) +
    pad(at.getUTCHours()) +
    pad(at.getUTCMinutes()) +
    pad(at.getUTCSeconds()) +
    'Z';
  if (year >= 1950 && year <= 2049) return tlv(TAG.utcTime, Buffer.from(pad(year % 100) + rest, 'ascii'));
  return tlv(TAG.generalizedTime, Buffer.from(pad(year, 4) + rest, 'ascii'));
}

/** PEM armour, 64 characters a line. */
export function pem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
